package io.k3j.apiserver.crd;

import static io.k3j.apiserver.crd.GoValues.child;
import static io.k3j.apiserver.crd.GoValues.index;
import static io.k3j.apiserver.crd.GoValues.key;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import io.k3j.apiserver.crd.GoValues.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The structural-schema algorithms apiextensions-apiserver runs on custom resources: pruning
 * (schema/pruning/algorithm.go), removal of non-nullable nulls (defaulting/prunenulls.go), defaulting
 * (defaulting/algorithm.go), ObjectMeta coercion of unknown fields (schema/objectmeta), list-type uniqueness
 * (schema/listtype) and embedded TypeMeta/ObjectMeta checks (objectmeta/validation.go).
 */
final class SchemaOps {
    private static final Set<String> META_FIELDS = Set.of("apiVersion", "kind", "metadata");

    /** ObjectMeta's JSON fields; anything else under metadata is dropped by the decode round-trip. */
    private static final Set<String> OBJECT_META = Set.of("name", "generateName", "namespace", "selfLink", "uid",
            "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
            "labels", "annotations", "ownerReferences", "finalizers", "managedFields");
    private static final Set<String> OWNER_REFERENCE = Set.of("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion");
    private static final Set<String> MANAGED_FIELDS_ENTRY = Set.of("manager", "operation", "apiVersion", "time", "fieldsType",
            "fieldsV1", "subresource");

    private static final Pattern DNS1035 = Pattern.compile("^[a-z]([-a-z0-9]*[a-z0-9])?$");
    private static final String DNS1035_MSG = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
            + "start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
            + "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

    private SchemaOps() {}

    // ---- pruning ----

    /**
     * Drops fields the schema does not specify. {@code treatAsEmbedded} makes the node keep apiVersion, kind and
     * metadata (the resource root always does). Unknown paths, in the apiserver's {@code spec.foo[0].bar} form,
     * go to {@code unknown} when it is not null.
     */
    static void prune(JsonNode x, SchemaNode s, boolean treatAsEmbedded, List<String> unknown, String path) {
        pruneRec(x, s, treatAsEmbedded || (s != null && s.embeddedResource), unknown, path);
    }

    private static void pruneRec(JsonNode x, SchemaNode s, boolean embedded, List<String> unknown, String path) {
        if (s != null && s.preserves()) {
            skipPrune(x, s, embedded, unknown, path);
            return;
        }
        if (x instanceof ObjectNode o) {
            for (String k : names(o)) {
                if (s == null) {
                    record(unknown, path, k);
                    o.remove(k);
                    continue;
                }
                if (embedded && META_FIELDS.contains(k)) continue;
                SchemaNode prop = s.properties.get(k);
                if (prop != null) {
                    pruneRec(o.get(k), prop, prop.embeddedResource, unknown, child(path, k));
                } else if (s.additionalPresent) {
                    SchemaNode ap = s.additionalSchema;
                    pruneRec(o.get(k), ap, ap != null && ap.embeddedResource, unknown, child(path, k));
                } else {
                    if (!META_FIELDS.contains(k) || !path.isEmpty()) record(unknown, path, k);
                    o.remove(k);
                }
            }
        } else if (x instanceof ArrayNode a) {
            SchemaNode items = s == null ? null : s.items;
            for (int i = 0; i < a.size(); i++) {
                pruneRec(a.get(i), items, items != null && items.embeddedResource, unknown, index(path, i));
            }
        }
    }

    private static void skipPrune(JsonNode x, SchemaNode s, boolean embedded, List<String> unknown, String path) {
        if (s == null) return;
        if (x instanceof ObjectNode o) {
            for (String k : names(o)) {
                if (embedded && META_FIELDS.contains(k)) continue;
                SchemaNode prop = s.properties.get(k);
                if (prop != null) {
                    pruneRec(o.get(k), prop, prop.embeddedResource, unknown, child(path, k));
                } else if (s.additionalPresent) {
                    SchemaNode ap = s.additionalSchema;
                    pruneRec(o.get(k), ap, ap != null && ap.embeddedResource, unknown, child(path, k));
                }
            }
        } else if (x instanceof ArrayNode a && s.items != null) {
            for (int i = 0; i < a.size(); i++) skipPrune(a.get(i), s.items, s.items.embeddedResource, unknown, index(path, i));
        }
    }

    private static void record(List<String> unknown, String path, String k) {
        if (unknown != null) unknown.add(child(path, k));
    }

    private static List<String> names(ObjectNode o) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }

    // ---- metadata coercion ----

    /** Drops (and reports as {@code <prefix>.metadata.foo}) what ObjectMeta does not know, like the JSON round-trip. */
    static void coerceMetadata(ObjectNode resource, String prefix, List<String> unknown) {
        JsonNode m = resource.get("metadata");
        if (!(m instanceof ObjectNode meta)) return;
        String base = child(prefix, "metadata");
        for (String k : names(meta)) {
            if (!OBJECT_META.contains(k)) {
                if (unknown != null) unknown.add(base + "." + k);
                meta.remove(k);
            }
        }
        nestedMeta(meta.get("ownerReferences"), OWNER_REFERENCE, base + ".ownerReferences", unknown);
        nestedMeta(meta.get("managedFields"), MANAGED_FIELDS_ENTRY, base + ".managedFields", unknown);
    }

    private static void nestedMeta(JsonNode list, Set<String> known, String path, List<String> unknown) {
        if (!(list instanceof ArrayNode a)) return;
        for (int i = 0; i < a.size(); i++) {
            if (!(a.get(i) instanceof ObjectNode o)) continue;
            for (String k : names(o)) {
                if (!known.contains(k)) {
                    if (unknown != null) unknown.add(path + "[" + i + "]." + k);
                    o.remove(k);
                }
            }
        }
    }

    /** objectmeta.Coerce below the root: the metadata of embedded resources. */
    static void coerceEmbedded(JsonNode x, SchemaNode s, String path, List<String> unknown) {
        if (s == null) return;
        if (x instanceof ObjectNode o) {
            if (s.embeddedResource) coerceMetadata(o, path, unknown);
            for (String k : names(o)) {
                SchemaNode prop = s.properties.get(k);
                if (prop != null) coerceEmbedded(o.get(k), prop, child(path, k), unknown);
                else if (s.additionalPresent) coerceEmbedded(o.get(k), s.additionalSchema, key(path, k), unknown);
            }
        } else if (x instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) coerceEmbedded(a.get(i), s.items, index(path, i), unknown);
        }
    }

    // ---- nulls and defaults ----

    private static SchemaNode schemaForField(String k, SchemaNode s) {
        if (s == null) return null;
        SchemaNode p = s.properties.get(k);
        if (p != null) return p;
        return s.additionalPresent ? s.additionalSchema : null;
    }

    static void pruneNonNullableNullsWithoutDefaults(JsonNode x, SchemaNode s) {
        if (x instanceof ObjectNode o) {
            for (String k : names(o)) {
                SchemaNode fs = schemaForField(k, s);
                JsonNode v = o.get(k);
                if (v.isNull() && fs != null && !fs.nullable && fs.defaultValue == null) o.remove(k);
                else pruneNonNullableNullsWithoutDefaults(v, fs);
            }
        } else if (x instanceof ArrayNode a) {
            SchemaNode items = s == null ? null : s.items;
            for (JsonNode v : a) pruneNonNullableNullsWithoutDefaults(v, items);
        }
    }

    private static boolean nonNullableNull(JsonNode v, SchemaNode s) {
        return (v == null || v.isNull()) && s != null && !s.nullable;
    }

    private static JsonNode copyOrNull(JsonNode d) {
        return d == null ? Json.NODES.nullNode() : d.deepCopy();
    }

    static void applyDefaults(JsonNode x, SchemaNode s) {
        if (s == null) return;
        if (x instanceof ObjectNode o) {
            for (Map.Entry<String, SchemaNode> p : s.properties.entrySet()) {
                SchemaNode prop = p.getValue();
                if (prop.defaultValue == null) continue;
                JsonNode v = o.get(p.getKey());
                if (v == null || nonNullableNull(v, prop)) o.set(p.getKey(), prop.defaultValue.deepCopy());
            }
            for (String k : names(o)) {
                SchemaNode prop = s.properties.get(k);
                if (prop != null) {
                    applyDefaults(o.get(k), prop);
                } else if (s.additionalPresent) {
                    SchemaNode ap = s.additionalSchema;
                    if (nonNullableNull(o.get(k), ap)) o.set(k, copyOrNull(ap.defaultValue));
                    applyDefaults(o.get(k), ap);
                }
            }
        } else if (x instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                if (nonNullableNull(a.get(i), s.items)) a.set(i, copyOrNull(s.items.defaultValue));
                applyDefaults(a.get(i), s.items);
            }
        }
    }

    // ---- list-type uniqueness ----

    static void listSetsAndMaps(String path, SchemaNode s, ObjectNode obj, List<Cause> errs) {
        if (s == null || obj == null) return;
        if (s.additionalSchema != null) {
            obj.properties().forEach(e -> listValue(key(path, e.getKey()), s.additionalSchema, e.getValue(), errs));
        }
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            SchemaNode sub = s.properties.get(e.getKey());
            if (sub != null) listValue(child(path, e.getKey()), sub, e.getValue(), errs);
        }
    }

    private static void listValue(String path, SchemaNode s, JsonNode v, List<Cause> errs) {
        if (v instanceof ArrayNode a) listArray(path, s, a, errs);
        else if (v instanceof ObjectNode o) listSetsAndMaps(path, s, o, errs);
    }

    private static void listArray(String path, SchemaNode s, ArrayNode a, List<Cause> errs) {
        if ("set".equals(s.listType)) {
            for (int i : nonUnique(a)) errs.add(GoValues.duplicate(index(path, i), a.get(i)));
        } else if ("map".equals(s.listType)) {
            listMap(path, s, a, errs);
        }
        if (s.items != null) for (int i = 0; i < a.size(); i++) listValue(index(path, i), s.items, a.get(i), errs);
    }

    /** The index of the second occurrence of every repeated value, in array order; int64 1 differs from float64 1. */
    private static List<Integer> nonUnique(List<JsonNode> values) {
        Map<String, Integer> seen = new HashMap<>();
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            JsonNode v = values.get(i);
            Kind k = GoValues.kind(v);
            String identity = k == Kind.OBJECT || k == Kind.ARRAY ? "c" + GoValues.json(v) : k + ":" + GoValues.json(v);
            int times = seen.merge(identity, 1, Integer::sum);
            if (times == 2) out.add(i);
        }
        return out;
    }

    private static List<Integer> nonUnique(ArrayNode a) {
        List<JsonNode> values = new ArrayList<>();
        a.forEach(values::add);
        return nonUnique(values);
    }

    private static void listMap(String path, SchemaNode s, ArrayNode a, List<Cause> errs) {
        for (int i = 0; i < a.size(); i++) {
            JsonNode x = a.get(i);
            if (!x.isNull() && !x.isObject()) {
                errs.add(GoValues.invalid(index(path, i), x, "must be an object for an array of list-type map"));
                return;
            }
        }
        if (a.size() <= 1) return;
        // an item without a key and a null item both count as "unspecified", which equals itself
        List<JsonNode> keys = new ArrayList<>();
        for (JsonNode x : a) {
            ObjectNode key = Json.object();
            if (x.isObject()) {
                for (String k : s.listMapKeys) if (x.has(k)) key.set(k, x.get(k));
            }
            keys.add(key);
        }
        for (int i : nonUnique(keys)) errs.add(GoValues.duplicate(index(path, i), keys.get(i)));
    }

    // ---- embedded resources: TypeMeta and the parts of ObjectMeta we check ----

    static void validateEmbedded(String path, JsonNode x, SchemaNode s, List<Cause> errs) {
        if (s == null) return;
        if (x instanceof ObjectNode o) {
            if (s.embeddedResource) embeddedResource(path, o, errs);
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                SchemaNode prop = s.properties.get(e.getKey());
                if (prop != null) validateEmbedded(child(path, e.getKey()), e.getValue(), prop, errs);
                else if (s.additionalPresent) validateEmbedded(key(path, e.getKey()), e.getValue(), s.additionalSchema, errs);
            }
        } else if (x instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) validateEmbedded(index(path, i), a.get(i), s.items, errs);
        }
    }

    private static void embeddedResource(String path, ObjectNode x, List<Cause> errs) {
        if (!x.has("apiVersion")) errs.add(GoValues.required(child(path, "apiVersion"), ""));
        if (!x.has("kind")) errs.add(GoValues.required(child(path, "kind"), ""));
        JsonNode apiVersion = x.get("apiVersion");
        if (apiVersion != null) {
            String p = child(path, "apiVersion");
            if (!apiVersion.isTextual()) errs.add(GoValues.invalid(p, apiVersion, "must be a string"));
            else if (apiVersion.asText().isEmpty()) errs.add(GoValues.invalid(p, "", "must not be empty"));
            else if (apiVersion.asText().chars().filter(c -> c == '/').count() > 1 && !apiVersion.asText().equals("/")) {
                errs.add(GoValues.invalid(p, apiVersion.asText(), "unexpected GroupVersion string: " + apiVersion.asText()));
            }
        }
        JsonNode kind = x.get("kind");
        if (kind != null) {
            String p = child(path, "kind");
            if (!kind.isTextual()) errs.add(GoValues.invalid(p, kind, "must be a string"));
            else if (kind.asText().isEmpty()) errs.add(GoValues.invalid(p, "", "must not be empty"));
            else {
                String lower = kind.asText().toLowerCase(Locale.ROOT);
                List<String> problems = new ArrayList<>();
                if (lower.length() > 63) problems.add("must be no more than 63 characters");
                if (!DNS1035.matcher(lower).matches()) problems.add(DNS1035_MSG);
                if (!problems.isEmpty()) {
                    errs.add(GoValues.invalid(p, kind.asText(), "may have mixed case, but should otherwise match: " + String.join(",", problems)));
                }
            }
        }
        JsonNode meta = x.get("metadata");
        if (meta instanceof ObjectNode m) {
            String mp = child(path, "metadata");
            JsonNode name = m.get("name");
            if (name != null && name.isTextual()) {
                for (String msg : pathSegment(name.asText(), false)) errs.add(GoValues.invalid(child(mp, "name"), name.asText(), msg));
            }
            JsonNode gen = m.get("generateName");
            if (gen != null && gen.isTextual() && !gen.asText().isEmpty()) {
                for (String msg : pathSegment(gen.asText(), true)) errs.add(GoValues.invalid(child(mp, "generateName"), gen.asText(), msg));
            }
        } else if (meta != null && !meta.isNull()) {
            errs.add(GoValues.invalid(child(path, "metadata"), meta,
                    "json: cannot unmarshal " + jsonType(meta) + " into Go value of type v1.ObjectMeta"));
        }
    }

    private static String jsonType(JsonNode n) {
        return switch (GoValues.kind(n)) {
            case BOOL -> "bool";
            case INT, FLOAT -> "number";
            case STRING -> "string";
            case ARRAY -> "array";
            default -> "object";
        };
    }

    private static List<String> pathSegment(String name, boolean prefix) {
        if (!prefix && (name.equals(".") || name.equals(".."))) return List.of("may not be '" + name + "'");
        List<String> out = new ArrayList<>();
        if (name.contains("/")) out.add("may not contain '/'");
        if (name.contains("%")) out.add("may not contain '%'");
        return out;
    }
}
