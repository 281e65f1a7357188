package io.k3j.apiserver.openapi;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.apply.ApplySchema;
import io.k3j.api.patch.PatchSchema;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * {@link PatchSchema} read from swagger-2.0-form schemas: follows {@code $ref}s (and single-element
 * {@code allOf}s) through a definitions lookup, steps into list items implicitly, and reports the
 * {@code x-kubernetes-*} patch extensions of the field reached; for server-side apply also the defaults of
 * list-map keys.
 */
final class SchemaPatchSchema implements PatchSchema, ApplySchema {
    private static final String REF = "#/definitions/";
    /**
     * Bound on memoized lookups: paths under objects without properties (preserve-unknown-fields) come from
     * clients; the schema's own paths are far fewer.
     */
    private static final int MAX_MEMOIZED = 4096;
    private final JsonNode root;
    private final Function<String, JsonNode> definitions;
    /** {@link #field} results: the schema is a snapshot (its definitions never change), so a lookup never does. */
    private final Map<List<String>, FieldMeta> fields = new ConcurrentHashMap<>();

    SchemaPatchSchema(JsonNode root, Function<String, JsonNode> definitions) {
        this.root = root;
        this.definitions = definitions;
    }

    @Override
    public FieldMeta field(List<String> path) {
        FieldMeta known = fields.get(path);
        if (known != null) return known;
        FieldMeta found = lookUp(path);
        if (fields.size() < MAX_MEMOIZED) fields.put(java.util.Collections.unmodifiableList(new java.util.ArrayList<>(path)), found);
        return found;
    }

    private FieldMeta lookUp(List<String> path) {
        JsonNode current = resolve(root);
        JsonNode field = null;
        for (String name : path) {
            if (current == null) return UNKNOWN;
            // list items are implied by the path
            while (current != null && "array".equals(current.path("type").asText()) && current.has("items")) {
                current = resolve(current.get("items"));
            }
            if (current == null) return UNKNOWN;
            field = current.path("properties").get(name);
            if (field == null) return UNKNOWN;
            current = resolve(field);
        }
        if (field == null || current == null) return UNKNOWN;
        List<String> keys = new ArrayList<>();
        field.path("x-kubernetes-list-map-keys").forEach(k -> keys.add(k.asText()));
        String mapType = text(field, "x-kubernetes-map-type");
        if (mapType == null) mapType = text(current, "x-kubernetes-map-type");
        return new FieldMeta(text(field, "x-kubernetes-patch-strategy"), text(field, "x-kubernetes-patch-merge-key"),
                text(field, "x-kubernetes-list-type"), keys, mapType, kindOf(current));
    }

    /** The {@code default} of {@code key} in the items of the list at {@code listPath} (e.g. a port's protocol). */
    @Override
    public JsonNode listKeyDefault(List<String> listPath, String key) {
        JsonNode current = resolve(root);
        for (String name : listPath) {
            while (current != null && "array".equals(current.path("type").asText()) && current.has("items")) {
                current = resolve(current.get("items"));
            }
            if (current == null || current.path("properties").get(name) == null) return null;
            current = resolve(current.path("properties").get(name));
        }
        if (current == null || !current.has("items")) return null;
        JsonNode item = resolve(current.get("items"));
        JsonNode field = item == null ? null : item.path("properties").get(key);
        JsonNode value = field == null ? null : field.get("default");
        return value == null || value.isNull() ? null : value;
    }

    private static String text(JsonNode node, String name) {
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Kind kindOf(JsonNode s) {
        String type = s.path("type").asText("");
        if (type.equals("array")) return Kind.LIST;
        if (type.equals("object") || type.isEmpty() && s.has("properties")) {
            if (s.has("properties")) return Kind.OBJECT;
            if (s.has("additionalProperties")) return Kind.MAP;
            return Kind.OBJECT;
        }
        if (type.isEmpty()) return s.path("x-kubernetes-int-or-string").asBoolean() ? Kind.SCALAR : Kind.UNKNOWN;
        return Kind.SCALAR;
    }

    /** The schema a node stands for, following references. */
    private JsonNode resolve(JsonNode node) {
        for (int depth = 0; node != null && depth < 8; depth++) {
            String ref = node.path("$ref").asText("");
            if (ref.isEmpty() && node.path("allOf").size() == 1 && !node.has("properties")) {
                ref = node.get("allOf").get(0).path("$ref").asText("");
            }
            if (ref.isEmpty()) return node;
            node = definitions.apply(ref.startsWith(REF) ? ref.substring(REF.length()) : ref);
        }
        return node;
    }
}
