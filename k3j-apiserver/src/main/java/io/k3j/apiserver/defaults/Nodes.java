package io.k3j.apiserver.defaults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Quantity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Small tree helpers shared by the defaulters: Go's "if x == nil { x = default }" on JSON trees. */
final class Nodes {
    private Nodes() {}

    /** True when the field is absent or JSON null, which Go decodes as the zero value / nil pointer. */
    static boolean unset(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull();
    }

    /** Unset or the empty string: Go's {@code if x == ""}. */
    static boolean blank(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() || (v.isTextual() && v.asText().isEmpty());
    }

    static void text(ObjectNode o, String field, String value) {
        if (blank(o, field)) o.put(field, value);
    }

    static void number(ObjectNode o, String field, long value) {
        if (unset(o, field)) o.put(field, value);
    }

    static void bool(ObjectNode o, String field, boolean value) {
        if (unset(o, field)) o.put(field, value);
    }

    /** The object at {@code field}, or null when it is absent or not an object. */
    static ObjectNode child(JsonNode o, String field) {
        JsonNode v = o == null ? null : o.get(field);
        return v instanceof ObjectNode c ? c : null;
    }

    /** The object at {@code field}, created empty when absent or null. */
    static ObjectNode ensure(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        if (v instanceof ObjectNode c) return c;
        return o.putObject(field);
    }

    /** The object elements of the array at {@code field} (non-objects skipped). */
    static List<ObjectNode> items(JsonNode o, String field) {
        JsonNode v = o == null ? null : o.get(field);
        List<ObjectNode> out = new ArrayList<>();
        if (v instanceof ArrayNode a) for (JsonNode e : a) if (e instanceof ObjectNode eo) out.add(eo);
        return out;
    }

    /** SetDefaults_ResourceList: every quantity rounded up to milli scale and written canonically. */
    static void resourceList(ObjectNode list) {
        if (list == null) return;
        for (Map.Entry<String, JsonNode> e : list.properties()) {
            JsonNode v = e.getValue();
            String text = v.isTextual() ? v.asText() : v.isNumber() ? v.asText() : null;
            if (text == null) continue;
            try {
                list.put(e.getKey(), Quantity.parse(text).roundUp(3).toString());
            } catch (IllegalArgumentException ignored) {
                // left as is: validation reports it
            }
        }
    }
}
