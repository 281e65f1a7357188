package io.k3j.apiserver.crd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A CRD version's {@code subresources.scale}: maps a custom resource to an {@code autoscaling/v1 Scale} and back
 * through {@code specReplicasPath}, {@code statusReplicasPath} and {@code labelSelectorPath} (simple JSON paths such
 * as {@code .spec.replicas}), as apiextensions' customresource/etcd.go and validator.go do.
 */
public final class ScaleSubresource {
    private static final long MAX_INT32 = Integer.MAX_VALUE;

    private final String specReplicasPath;
    private final String statusReplicasPath;
    private final String labelSelectorPath;

    /**
     * @param labelSelectorPath may be null
     * @throws NullPointerException when a replicas path is null
     */
    public ScaleSubresource(String specReplicasPath, String statusReplicasPath, String labelSelectorPath) {
        this.specReplicasPath = Objects.requireNonNull(specReplicasPath, "specReplicasPath");
        this.statusReplicasPath = Objects.requireNonNull(statusReplicasPath, "statusReplicasPath");
        this.labelSelectorPath = labelSelectorPath;
    }

    /** Reads {@code subresources.scale} of a CRD version; null when the node is absent. */
    public static ScaleSubresource fromCrd(JsonNode scale) {
        if (scale == null || !scale.isObject()) return null;
        JsonNode selector = scale.get("labelSelectorPath");
        return new ScaleSubresource(Json.text(scale, "specReplicasPath"), Json.text(scale, "statusReplicasPath"),
                selector != null && selector.isTextual() ? selector.asText() : null);
    }

    /**
     * The Scale for GET /scale. A missing replicas field reads as 0 and a missing selector as "".
     *
     * @throws ApiException 500 when a path leads through or to a value of the wrong type, with the accessor error
     *                      Kubernetes gives ({@code .spec.replicas accessor error: x is of the type string, expected int64})
     */
    public ObjectNode toScale(ObjectNode cr) {
        long spec;
        long status;
        String selector = "";
        try {
            JsonNode s = nested(cr, specReplicasPath, "int64");
            spec = s == null ? 0 : s.longValue();
            JsonNode st = nested(cr, statusReplicasPath, "int64");
            status = st == null ? 0 : st.longValue();
            if (labelSelectorPath != null && !labelSelectorPath.isEmpty()) {
                JsonNode sel = nested(cr, labelSelectorPath, "string");
                selector = sel == null ? "" : sel.asText();
            }
        } catch (AccessorError e) {
            throw ApiException.internal(e.getMessage());
        }
        ObjectNode scale = Json.object();
        scale.put("kind", "Scale");
        scale.put("apiVersion", "autoscaling/v1");
        ObjectNode meta = scale.putObject("metadata");
        JsonNode crMeta = cr.get("metadata");
        for (String f : List.of("name", "namespace", "uid", "resourceVersion", "creationTimestamp")) {
            JsonNode v = crMeta == null ? null : crMeta.get(f);
            if (v != null && !v.isNull()) meta.set(f, v.deepCopy());
        }
        if (!meta.has("creationTimestamp")) meta.putNull("creationTimestamp");
        ObjectNode specNode = scale.putObject("spec");
        if ((int) spec != 0) specNode.put("replicas", (int) spec); // omitempty in autoscaling/v1
        ObjectNode st = scale.putObject("status");
        st.put("replicas", (int) status);
        if (!selector.isEmpty()) st.put("selector", selector);
        return scale;
    }

    /**
     * Writes a Scale update back into a copy of the stored custom resource: spec replicas at
     * {@code specReplicasPath} (intermediate objects are created) and the Scale's resourceVersion as precondition.
     *
     * @param updatedScale the Scale after the client's PUT/PATCH was applied to {@link #toScale}'s result
     * @throws ApiException 400 {@code the spec replicas field ".spec.replicas" cannot be empty} when neither the
     *                      resource nor the Scale has spec replicas, or when the path crosses a non-object
     */
    public ObjectNode applyScale(ObjectNode cr, ObjectNode updatedScale) {
        ObjectNode out = cr.deepCopy();
        JsonNode replicas = Json.at(updatedScale, "spec", "replicas");
        boolean had;
        try {
            had = nested(cr, specReplicasPath, "int64") != null;
        } catch (AccessorError e) {
            throw ApiException.internal(e.getMessage());
        }
        if (replicas == null || !replicas.isIntegralNumber()) {
            if (!had) {
                throw ApiException.badRequest("the spec replicas field " + GoValues.quote(specReplicasPath) + " cannot be empty");
            }
            replicas = null;
        }
        if (replicas != null) {
            String[] fields = split(specReplicasPath);
            ObjectNode m = out;
            for (int i = 0; i < fields.length - 1; i++) {
                JsonNode next = m.get(fields[i]);
                if (next == null) {
                    m = m.putObject(fields[i]);
                } else if (next instanceof ObjectNode o) {
                    m = o;
                } else {
                    throw ApiException.badRequest("value cannot be set because " + jsonPath(fields, i + 1)
                            + " is not a map[string]interface{}");
                }
            }
            m.put(fields[fields.length - 1], replicas.longValue());
        }
        String rv = Json.text(Json.at(updatedScale, "metadata"), "resourceVersion");
        if (!rv.isEmpty()) Json.obj(out, "metadata").put("resourceVersion", rv);
        return out;
    }

    /**
     * Validates the replicas and selector paths of a custom resource about to be stored (create, update and status
     * update all do), as {@code ValidateScaleSpec}/{@code ValidateScaleStatus}.
     *
     * @param includeSpec false for status updates, which only check the status side
     */
    public List<Cause> validate(ObjectNode cr, boolean includeSpec) {
        List<Cause> errs = new ArrayList<>();
        if (includeSpec) replicas(cr, specReplicasPath, errs);
        replicas(cr, statusReplicasPath, errs);
        if (labelSelectorPath != null) {
            try {
                nested(cr, labelSelectorPath, "string");
            } catch (AccessorError e) {
                errs.add(GoValues.invalid(labelSelectorPath, "", e.getMessage()));
            }
        }
        return errs;
    }

    private static void replicas(ObjectNode cr, String path, List<Cause> errs) {
        try {
            JsonNode v = nested(cr, path, "int64");
            long n = v == null ? 0 : v.longValue();
            if (n < 0) errs.add(GoValues.invalid(path, n, "should be a non-negative integer"));
            else if (n > MAX_INT32) errs.add(GoValues.invalid(path, n, "should be less than or equal to " + MAX_INT32));
        } catch (AccessorError e) {
            errs.add(GoValues.invalid(path, 0L, e.getMessage()));
        }
    }

    public String specReplicasPath() {
        return specReplicasPath;
    }

    public String statusReplicasPath() {
        return statusReplicasPath;
    }

    public String labelSelectorPath() {
        return labelSelectorPath;
    }

    private static final class AccessorError extends Exception {
        AccessorError(String message) {
            super(message, null, false, false);
        }
    }

    private static String[] split(String path) {
        return (path.startsWith(".") ? path.substring(1) : path).split("\\.", -1);
    }

    private static String jsonPath(String[] fields, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append('.').append(fields[i]);
        return sb.toString();
    }

    /** unstructured.NestedInt64/NestedString: null when absent, an accessor error for a wrong type on the way. */
    private static JsonNode nested(ObjectNode obj, String path, String expected) throws AccessorError {
        String[] fields = split(path);
        JsonNode val = obj;
        for (int i = 0; i < fields.length; i++) {
            if (val == null || val.isNull()) return null;
            if (val instanceof ObjectNode o) {
                val = o.get(fields[i]);
                if (val == null) return null;
            } else {
                throw new AccessorError(jsonPath(fields, i + 1) + " accessor error: " + GoValues.plain(val) + " is of the type "
                        + GoValues.typeName(val) + ", expected map[string]interface{}");
            }
        }
        boolean ok = expected.equals("int64") ? GoValues.kind(val) == GoValues.Kind.INT : val.isTextual();
        if (!ok) {
            throw new AccessorError(jsonPath(fields, fields.length) + " accessor error: " + GoValues.plain(val) + " is of the type "
                    + GoValues.typeName(val) + ", expected " + expected);
        }
        return val;
    }
}
