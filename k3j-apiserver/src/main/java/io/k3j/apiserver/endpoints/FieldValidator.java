package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import io.k3j.api.patch.PatchType;
import io.k3j.apiserver.http.ApiRequest;
import io.k3j.apiserver.openapi.OpenApiService;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.registry.WriteOptions.FieldValidation;
import io.k3j.apiserver.resource.ResourceType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Server-side field validation of built-in kinds (KEP-2885), as kube-apiserver's decoding into Go types does it:
 * unknown fields are always dropped; with {@code fieldValidation=Strict} unknown and duplicate fields fail the
 * request, with {@code Warn} (the default) each becomes a warning, with {@code Ignore} nothing is said.
 * Custom resources are not handled here (their schemas prune them).
 *
 * <ul>
 *   <li>create/update bodies: 400 {@code Deployment in version "v1" cannot be handled as a Deployment: strict
 *       decoding error: unknown field "spec.foo"} (handlers/create.go, update.go);</li>
 *   <li>JSON, merge and strategic merge patches: the patch body's duplicates, then the patched object's unknown
 *       fields; Strict fails with 422 {@code  "" is invalid: patch: Invalid value: "...": strict decoding error: ...}
 *       (handlers/patch.go);</li>
 *   <li>server-side apply: fields the type doesn't declare always fail (structured-merge-diff's
 *       {@code field not declared in schema}, a 500 as in kube-apiserver); duplicate keys per fieldValidation.</li>
 * </ul>
 */
final class FieldValidator {
    /** A built-in kind a body decodes into. */
    record Kind(String group, String version, String kind) {}

    private static final Set<String> JSON_PATCH_OP_FIELDS = Set.of("op", "path", "from", "value");

    private final OpenApiService openApi;

    FieldValidator(OpenApiService openApi) {
        this.openApi = openApi;
    }

    /** Decodes a create/update body of {@code type}, pruned and validated per {@code opts.fieldValidation()}. */
    ObjectNode decode(ApiRequest req, ResourceType type, WriteOptions opts) {
        return decode(req, kindOf(type), opts);
    }

    /**
     * Decodes a create/update body of {@code kind}, pruned and validated per {@code opts.fieldValidation()}.
     *
     * @throws ApiException 400 for a body that doesn't decode, or with Strict for unknown or duplicate fields
     */
    ObjectNode decode(ApiRequest req, Kind kind, WriteOptions opts) {
        ObjectNode obj = ResourceHandler.decodeBody(req);
        if (kind == null) return obj;
        List<String> unknown = openApi.pruneUnknownFields(kind.group(), kind.version(), kind.kind(), obj);
        if (opts.fieldValidation() == FieldValidation.IGNORE) return obj;
        String contentType = Negotiation.contentType(req.header("Content-Type"));
        List<String> errors = new ArrayList<>();
        if ("application/yaml".equals(contentType)) {
            String dups = StrictDecoding.yamlDuplicates(req.body());
            if (dups != null) errors.add(dups);
            for (String p : unknown) errors.add(StrictDecoding.unknown(p));
        } else if (contentType == null || contentType.equals("application/json")) {
            errors.addAll(StrictDecoding.scanJson(req.body()).errors(unknown));
        } else {
            for (String p : unknown) errors.add(StrictDecoding.unknown(p));
        }
        report(errors, opts, () -> ApiException.badRequest(kind.kind() + " in version \"" + kind.version() + "\" cannot be handled as a "
                + kind.kind() + ": " + StrictDecoding.message(errors)));
        return obj;
    }

    /** {@link #checkPatched(Kind, PatchType, byte[], ObjectNode, WriteOptions)} for an object of {@code type}. */
    ObjectNode checkPatched(ResourceType type, PatchType patchType, byte[] patch, ObjectNode patched, WriteOptions opts) {
        return checkPatched(kindOf(type), patchType, patch, patched, opts);
    }

    /**
     * Prunes the result of a JSON, merge or strategic merge patch and validates it with the patch body.
     *
     * @return {@code patched}, pruned
     * @throws ApiException 422 with Strict for unknown fields of the result or duplicate fields of the patch
     */
    ObjectNode checkPatched(Kind kind, PatchType patchType, byte[] patch, ObjectNode patched, WriteOptions opts) {
        if (kind == null) return patched;
        boolean strict = opts.fieldValidation() == FieldValidation.STRICT;
        ObjectNode before = strict ? patched.deepCopy() : null;
        boolean strategic = patchType == PatchType.STRATEGIC;
        // Go re-encodes JSON and merge patch results with sorted keys before decoding them
        List<String> unknown = openApi.pruneUnknownFields(kind.group(), kind.version(), kind.kind(), patched, !strategic);
        if (opts.fieldValidation() == FieldValidation.IGNORE) return patched;
        List<String> errors = new ArrayList<>();
        StrictDecoding.Scan scan = StrictDecoding.scanJson(patch);
        if (patchType == PatchType.JSON) {
            List<String> opFields = new ArrayList<>();
            for (String p : scan.firstSeen().keySet()) {
                if (p.matches("\\[\\d+]\\.[^.\\[]+") && !JSON_PATCH_OP_FIELDS.contains(p.substring(p.indexOf('.') + 1))) opFields.add(p);
            }
            for (String e : scan.errors(opFields)) errors.add("json patch " + e);
        } else {
            for (String e : scan.errors(List.of())) errors.add(e);
        }
        List<String> objectErrors = new ArrayList<>();
        for (String p : unknown) objectErrors.add(StrictDecoding.unknown(p));
        // strategic merge patches decode from a map, which sorts the errors
        if (strategic) objectErrors.sort(null);
        errors.addAll(objectErrors);
        report(errors, opts, () -> {
            String value = strategic ? GoText.value(Json.parse(patch)) : goJson(before);
            return ApiException.invalid("", "", "", List.of(new Cause("FieldValueInvalid",
                    "Invalid value: " + GoText.quote(value) + ": " + StrictDecoding.message(errors), "patch")));
        });
        return patched;
    }

    /**
     * Server-side apply's checks of the applied configuration: undeclared fields always fail; duplicate keys
     * fail with Strict and warn with Warn.
     *
     * @throws ApiException 500 {@code failed to create typed patch object (...): .spec.foo: field not declared in
     *                      schema}; 400 {@code error strict decoding patch: ...} with Strict
     */
    void checkApply(ResourceType type, byte[] body, WriteOptions opts) {
        Kind kind = kindOf(type);
        if (kind == null) return;
        JsonNode applied;
        try {
            applied = Json.parseYamlOrJson(body);
        } catch (ApiException e) {
            return; // the apply itself reports what doesn't parse
        }
        if (applied instanceof ObjectNode obj) {
            List<String> undeclared = openApi.undeclaredApplyFields(kind.group(), kind.version(), kind.kind(), obj);
            if (!undeclared.isEmpty()) {
                List<String> lines = new ArrayList<>();
                for (String p : undeclared) lines.add(p + ": field not declared in schema");
                String detail = lines.size() == 1 ? lines.get(0) : "errors:\n  " + String.join("\n  ", lines);
                String apiVersion = Json.text(obj, "apiVersion");
                String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
                String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
                JsonNode meta = obj.get("metadata");
                throw ApiException.of(500, "InternalError", "failed to create typed patch object (" + Json.text(meta, "namespace") + "/"
                        + Json.text(meta, "name") + "; " + group + "/" + version + ", Kind=" + Json.text(obj, "kind") + "): " + detail);
            }
        }
        if (opts.fieldValidation() == FieldValidation.IGNORE) return;
        String dups = StrictDecoding.yamlDuplicates(body);
        if (dups == null) return;
        List<String> errors = List.of("error converting YAML to JSON: " + dups);
        report(errors, opts, () -> ApiException.badRequest("error strict decoding patch: " + errors.get(0)));
    }

    private static void report(List<String> errors, WriteOptions opts, java.util.function.Supplier<ApiException> failure) {
        if (errors.isEmpty()) return;
        switch (opts.fieldValidation()) {
            case STRICT -> throw failure.get();
            case WARN -> StrictDecoding.warnings(errors).forEach(opts::warn);
            case IGNORE -> { }
        }
    }

    private Kind kindOf(ResourceType type) {
        if (type == null || type.custom() || !openApi.isBuiltinKind(type.group(), type.version(), type.kind())) return null;
        return new Kind(type.group(), type.version(), type.kind());
    }

    /** Go's json.Marshal of a decoded object: keys sorted, and HTML characters escaped. */
    private static String goJson(JsonNode v) {
        return Json.string(sorted(v)).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026");
    }

    private static JsonNode sorted(JsonNode v) {
        if (v instanceof ObjectNode o) {
            List<String> keys = new ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            keys.sort(null);
            ObjectNode out = Json.object();
            for (String k : keys) out.set(k, sorted(o.get(k)));
            return out;
        }
        if (v instanceof ArrayNode a) {
            ArrayNode out = Json.array();
            a.forEach(e -> out.add(sorted(e)));
            return out;
        }
        return v;
    }
}
