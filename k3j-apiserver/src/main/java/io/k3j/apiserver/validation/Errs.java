package io.k3j.apiserver.validation;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException.Cause;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An error list in the shape of apimachinery's field.ErrorList: each helper renders its message exactly as
 * field.Error.ErrorBody does (Go {@code %q} for strings, {@code %v} for numbers, {@code %#v} for maps and
 * slices), so the 422 text matches kube-apiserver's.
 */
final class Errs {
    final List<Cause> list = new ArrayList<>();

    void required(String field, String detail) {
        list.add(new Cause("FieldValueRequired", "Required value" + suffix(detail), field));
    }

    void invalid(String field, Object value, String detail) {
        list.add(new Cause("FieldValueInvalid", "Invalid value: " + go(value) + suffix(detail), field));
    }

    void notSupported(String field, Object value, List<String> supported) {
        StringBuilder detail = new StringBuilder();
        if (!supported.isEmpty()) {
            detail.append("supported values: ");
            for (int i = 0; i < supported.size(); i++) {
                if (i > 0) detail.append(", ");
                detail.append(quote(supported.get(i)));
            }
        }
        list.add(new Cause("FieldValueNotSupported", "Unsupported value: " + go(value) + suffix(detail.toString()), field));
    }

    void forbidden(String field, String detail) {
        list.add(new Cause("FieldValueForbidden", "Forbidden" + suffix(detail), field));
    }

    void duplicate(String field, Object value) {
        list.add(new Cause("FieldValueDuplicate", "Duplicate value: " + go(value), field));
    }

    void notFound(String field, Object value) {
        list.add(new Cause("FieldValueNotFound", "Not found: " + go(value), field));
    }

    void tooLong(String field, int max) {
        list.add(new Cause("FieldValueTooLong", "Too long: may not be more than " + max + " bytes", field));
    }

    void tooMany(String field, int actual, int max) {
        list.add(new Cause("FieldValueTooMany", "Too many: " + actual + ": must have at most " + max + " items", field));
    }

    /** One Invalid per message, as most validators report a list of strings from a name check. */
    void invalidEach(String field, Object value, List<String> messages) {
        for (String m : messages) invalid(field, value, m);
    }

    boolean isEmpty() {
        return list.isEmpty();
    }

    int size() {
        return list.size();
    }

    private static String suffix(String detail) {
        return detail == null || detail.isEmpty() ? "" : ": " + detail;
    }

    /** Go's {@code %q}: double-quoted with Go escapes. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    /** The value part of field.Error.ErrorBody. */
    static String go(Object value) {
        if (value == null) return "null";
        if (value instanceof String s) return quote(s);
        if (value instanceof Number || value instanceof Boolean) return value.toString();
        if (value instanceof GoText t) return t.text();
        if (value instanceof JsonNode n) return goNode(n);
        return value.toString();
    }

    /** A pre-rendered value, for Go types whose %#v form a caller spells out. */
    record GoText(String text) {}

    private static String goNode(JsonNode n) {
        if (n.isNull() || n.isMissingNode()) return "null";
        if (n.isTextual()) return quote(n.asText());
        if (n.isNumber() || n.isBoolean()) return n.asText();
        if (n.isObject()) {
            boolean allStrings = true;
            for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) allStrings &= it.next().isTextual();
            if (allStrings) {
                // %#v of map[string]string: keys sorted, no spaces.
                TreeMap<String, String> sorted = new TreeMap<>();
                for (Map.Entry<String, JsonNode> e : n.properties()) sorted.put(e.getKey(), e.getValue().asText());
                StringBuilder sb = new StringBuilder("map[string]string{");
                boolean first = true;
                for (var e : sorted.entrySet()) {
                    if (!first) sb.append(", ");
                    first = false;
                    sb.append(quote(e.getKey())).append(':').append(quote(e.getValue()));
                }
                return sb.append('}').toString();
            }
        }
        if (n.isArray()) {
            boolean allStrings = true;
            for (JsonNode e : n) allStrings &= e.isTextual();
            if (allStrings) {
                StringBuilder sb = new StringBuilder("[]string{");
                boolean first = true;
                for (JsonNode e : n) {
                    if (!first) sb.append(", ");
                    first = false;
                    sb.append(quote(e.asText()));
                }
                return sb.append('}').toString();
            }
        }
        return n.toString();
    }
}
