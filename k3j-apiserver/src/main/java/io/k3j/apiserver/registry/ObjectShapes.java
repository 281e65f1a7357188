package io.k3j.apiserver.registry;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;

/**
 * Checks the JSON types of TypeMeta and ObjectMeta, the fields every object shares. kube-apiserver decodes a
 * body into Go structs, so {@code "labels": []} or {@code "generation": "abc"} fail there with a 400 before
 * anything else looks at the object; without this check such an object would be validated as if the field were
 * absent, or stored as it is and break every reader of it.
 */
final class ObjectShapes {
    private ObjectShapes() {}

    /**
     * @throws ApiException 400 BadRequest with the message Go's JSON decoder gives, e.g. {@code json: cannot
     *                      unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string}
     */
    static void check(String kind, JsonNode obj) {
        string(obj, "apiVersion", "", ".apiVersion");
        string(obj, "kind", "", ".kind");
        JsonNode meta = obj.get("metadata");
        if (meta == null || meta.isNull()) return;
        if (!meta.isObject()) throw mismatch(meta, kind + ".metadata", "v1.ObjectMeta");
        for (String f : new String[] {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion"}) {
            string(meta, f, "ObjectMeta", ".metadata." + f);
        }
        for (String f : new String[] {"generation", "deletionGracePeriodSeconds"}) {
            JsonNode v = meta.get(f);
            if (v != null && !v.isNull() && !(v.isIntegralNumber() && v.canConvertToLong())) {
                throw mismatch(v, "ObjectMeta.metadata." + f, "int64");
            }
        }
        for (String f : new String[] {"creationTimestamp", "deletionTimestamp"}) time(meta.get(f), f);
        for (String f : new String[] {"labels", "annotations"}) {
            JsonNode m = meta.get(f);
            if (m == null || m.isNull()) continue;
            if (!m.isObject()) throw mismatch(m, "ObjectMeta.metadata." + f, "map[string]string");
            for (Map.Entry<String, JsonNode> e : m.properties()) {
                if (!e.getValue().isTextual() && !e.getValue().isNull()) {
                    throw mismatch(e.getValue(), "ObjectMeta.metadata." + f, "string");
                }
            }
        }
        JsonNode finalizers = meta.get("finalizers");
        if (finalizers != null && !finalizers.isNull()) {
            if (!finalizers.isArray()) throw mismatch(finalizers, "ObjectMeta.metadata.finalizers", "[]string");
            for (JsonNode f : finalizers) {
                if (!f.isTextual() && !f.isNull()) throw mismatch(f, "ObjectMeta.metadata.finalizers", "string");
            }
        }
        JsonNode owners = meta.get("ownerReferences");
        if (owners != null && !owners.isNull()) {
            if (!owners.isArray()) throw mismatch(owners, "ObjectMeta.metadata.ownerReferences", "[]v1.OwnerReference");
            for (JsonNode o : owners) {
                if (!o.isObject()) throw mismatch(o, "ObjectMeta.metadata.ownerReferences", "v1.OwnerReference");
                for (String f : new String[] {"apiVersion", "kind", "name", "uid"}) {
                    string(o, f, "OwnerReference", ".metadata.ownerReferences." + f);
                }
                for (String f : new String[] {"controller", "blockOwnerDeletion"}) {
                    JsonNode b = o.get(f);
                    if (b != null && !b.isNull() && !b.isBoolean()) {
                        throw mismatch(b, "OwnerReference.metadata.ownerReferences." + f, "bool");
                    }
                }
            }
        }
        JsonNode managed = meta.get("managedFields");
        if (managed != null && !managed.isNull()) {
            if (!managed.isArray()) throw mismatch(managed, "ObjectMeta.metadata.managedFields", "[]v1.ManagedFieldsEntry");
            for (JsonNode m : managed) {
                if (!m.isObject()) throw mismatch(m, "ObjectMeta.metadata.managedFields", "v1.ManagedFieldsEntry");
            }
        }
    }

    private static void string(JsonNode parent, String field, String struct, String path) {
        JsonNode v = parent.get(field);
        if (v != null && !v.isNull() && !v.isTextual()) throw mismatch(v, struct + path, "string");
    }

    private static void time(JsonNode v, String field) {
        if (v == null || v.isNull()) return;
        if (!v.isTextual()) throw mismatch(v, "ObjectMeta.metadata." + field, "v1.Time");
        try {
            OffsetDateTime.parse(v.asText());
        } catch (DateTimeParseException e) {
            // metav1.Time parses RFC 3339 and reports Go's time.Parse error
            throw ApiException.badRequest("parsing time \"" + v.asText() + "\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \""
                    + v.asText() + "\" as \"2006\"");
        }
    }

    private static ApiException mismatch(JsonNode value, String field, String goType) {
        return ApiException.badRequest("json: cannot unmarshal " + jsonType(value) + " into Go struct field " + field + " of type " + goType);
    }

    private static String jsonType(JsonNode v) {
        if (v.isTextual()) return "string";
        if (v.isNumber()) return "number";
        if (v.isBoolean()) return "bool";
        if (v.isArray()) return "array";
        return "object";
    }
}
