package io.k3j.apiserver.openapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What decoding into a Go struct does to a built-in object, read from its swagger-2.0 definition: fields the
 * type lacks are dropped. A definition with properties is a closed struct; one with {@code additionalProperties}
 * is a map; one with neither (RawExtension, JSON, FieldsV1, IntOrString, Quantity, Time) has its own unmarshaller
 * in Go and keeps whatever it holds, as does {@code x-kubernetes-preserve-unknown-fields}. A value of the wrong
 * JSON type is not descended into (Go fails the decode there; that is not this class's concern).
 *
 * <p>Two spellings of the dropped paths: sigs.k8s.io/json's strict decoding ({@code spec.template.spec.containers[0].foo},
 * map keys as {@code .key}) and structured-merge-diff's, which server-side apply reports
 * ({@code .spec.template.spec.containers[name="c"].foo}).
 */
final class FieldPruner {
    private static final String REF = "#/definitions/";
    private final Function<String, JsonNode> definitions;

    FieldPruner(Function<String, JsonNode> definitions) {
        this.definitions = definitions;
    }

    /**
     * Removes undeclared fields of {@code value} in place; their strict-decoding paths go to {@code out}, met in
     * document order or, with {@code sortedKeys}, in the order of the same document with every object's keys sorted.
     */
    void prune(JsonNode value, JsonNode schema, String path, List<String> out, boolean sortedKeys) {
        JsonNode s = resolve(schema);
        if (s == null || s.path("x-kubernetes-preserve-unknown-fields").asBoolean()) return;
        if (value instanceof ObjectNode o) {
            JsonNode props = s.get("properties");
            if (props != null && props.isObject() && !props.isEmpty()) {
                List<String> names = names(o);
                if (sortedKeys) names.sort(null);
                for (String k : names) {
                    JsonNode field = props.get(k);
                    if (field == null) {
                        out.add(child(path, k));
                        o.remove(k);
                    } else {
                        prune(o.get(k), field, child(path, k), out, sortedKeys);
                    }
                }
            } else if (s.get("additionalProperties") instanceof ObjectNode values) {
                List<String> names = names(o);
                if (sortedKeys) names.sort(null);
                for (String k : names) prune(o.get(k), values, child(path, k), out, sortedKeys);
            }
        } else if (value instanceof ArrayNode a && s.get("items") instanceof ObjectNode items) {
            for (int i = 0; i < a.size(); i++) prune(a.get(i), items, path + "[" + i + "]", out, sortedKeys);
        }
    }

    /** Undeclared fields of {@code value} in structured-merge-diff's path syntax; {@code value} is not changed. */
    void undeclared(JsonNode value, JsonNode schema, String path, List<String> out) {
        JsonNode s = resolve(schema);
        if (s == null || s.path("x-kubernetes-preserve-unknown-fields").asBoolean()) return;
        if (value instanceof ObjectNode o) {
            JsonNode props = s.get("properties");
            if (props != null && props.isObject() && !props.isEmpty()) {
                for (String k : names(o)) {
                    JsonNode field = props.get(k);
                    if (field == null) out.add(path + "." + k);
                    else undeclared(o.get(k), field, path + "." + k, out);
                }
            } else if (s.get("additionalProperties") instanceof ObjectNode values) {
                for (String k : names(o)) undeclared(o.get(k), values, path + "." + k, out);
            }
        } else if (value instanceof ArrayNode a && s.get("items") instanceof ObjectNode items) {
            List<String> keys = listKeys(schema, s);
            for (int i = 0; i < a.size(); i++) undeclared(a.get(i), items, path + element(a.get(i), i, keys), out);
        }
    }

    /** An associative list's keys: the list-map keys, else the strategic merge key. */
    private List<String> listKeys(JsonNode field, JsonNode resolved) {
        for (JsonNode n : new JsonNode[] {field, resolved}) {
            if (n.get("x-kubernetes-list-map-keys") instanceof ArrayNode ks && !ks.isEmpty()) {
                List<String> keys = new ArrayList<>();
                ks.forEach(k -> keys.add(k.asText()));
                return keys;
            }
            if (n.path("x-kubernetes-patch-strategy").asText().contains("merge") && n.hasNonNull("x-kubernetes-patch-merge-key")) {
                return List.of(n.get("x-kubernetes-patch-merge-key").asText());
            }
        }
        return List.of();
    }

    /** {@code [name="c"]}, {@code [containerPort=80,protocol="TCP"]} (keys sorted), or {@code [3]}. */
    private static String element(JsonNode item, int index, List<String> keys) {
        if (keys.isEmpty() || !(item instanceof ObjectNode o)) return "[" + index + "]";
        TreeMap<String, String> present = new TreeMap<>();
        for (String k : keys) {
            JsonNode v = o.get(k);
            if (v != null && !v.isNull()) present.put(k, v.toString());
        }
        if (present.isEmpty()) return "[" + index + "]";
        StringBuilder sb = new StringBuilder("[");
        present.forEach((k, v) -> sb.append(sb.length() > 1 ? "," : "").append(k).append('=').append(v));
        return sb.append(']').toString();
    }

    private static List<String> names(ObjectNode o) {
        List<String> names = new ArrayList<>(o.size());
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String child(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The schema a node stands for, following references and single-element allOf wrappers. */
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
