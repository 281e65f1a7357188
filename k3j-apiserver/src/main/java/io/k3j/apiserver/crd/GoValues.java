package io.k3j.apiserver.crd;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.GoJson;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeMap;

/**
 * How kube-apiserver sees and prints decoded JSON. Custom resources are decoded into Go's
 * {@code map[string]interface{}} with integers as int64 and other numbers as float64, and field errors print
 * their values with Go's fmt and encoding/json; messages only match when we do the same.
 */
final class GoValues {
    enum Kind { NULL, BOOL, INT, FLOAT, STRING, ARRAY, OBJECT }

    private GoValues() {}

    static Kind kind(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) return Kind.NULL;
        if (n.isBoolean()) return Kind.BOOL;
        if (n.isTextual()) return Kind.STRING;
        if (n.isArray()) return Kind.ARRAY;
        if (n.isObject()) return Kind.OBJECT;
        if (n.isNumber()) {
            // sigs.k8s.io/json keeps a number as int64 only when it parses as one
            if ((n.isInt() || n.isLong() || n.isShort()) || (n.isBigInteger() && n.canConvertToLong())) return Kind.INT;
            return Kind.FLOAT;
        }
        return Kind.STRING;
    }

    /** Go's {@code %T} of the decoded value. */
    static String typeName(JsonNode n) {
        return switch (kind(n)) {
            case NULL -> "<nil>";
            case BOOL -> "bool";
            case INT -> "int64";
            case FLOAT -> "float64";
            case STRING -> "string";
            case ARRAY -> "[]interface {}";
            case OBJECT -> "map[string]interface {}";
        };
    }

    /** Go's {@code %v} of the decoded value, as unstructured accessor errors print it. */
    static String plain(JsonNode n) {
        return switch (kind(n)) {
            case NULL -> "<nil>";
            case BOOL -> String.valueOf(n.booleanValue());
            case INT -> String.valueOf(n.longValue());
            case FLOAT -> goFloat(n.doubleValue());
            case STRING -> n.asText();
            case ARRAY -> {
                List<String> parts = new ArrayList<>();
                n.forEach(x -> parts.add(plain(x)));
                yield "[" + String.join(" ", parts) + "]";
            }
            case OBJECT -> {
                TreeMap<String, JsonNode> sorted = new TreeMap<>();
                n.properties().forEach(e -> sorted.put(e.getKey(), e.getValue()));
                List<String> parts = new ArrayList<>();
                sorted.forEach((k, v) -> parts.add(k + ":" + plain(v)));
                yield "map[" + String.join(" ", parts) + "]";
            }
        };
    }

    /**
     * A field error's bad value as {@code field.Error.ErrorBody} prints it: numbers and booleans with %v,
     * strings with %q, everything else as JSON. Accepts String, Long, Integer, Double, Boolean or JsonNode.
     */
    static String render(Object value) {
        if (value == null) return "null";
        if (value instanceof String s) return quote(s);
        if (value instanceof Long || value instanceof Integer || value instanceof Boolean) return value.toString();
        if (value instanceof Double d) return goFloat(d);
        JsonNode n = (JsonNode) value;
        return switch (kind(n)) {
            case STRING -> quote(n.asText());
            case BOOL, INT -> plain(n);
            case FLOAT -> goFloat(n.doubleValue());
            default -> json(n);
        };
    }

    /** encoding/json's output for the decoded value: sorted keys, no spaces, HTML-escaped strings. */
    static String json(JsonNode n) {
        StringBuilder sb = new StringBuilder();
        writeJson(sb, n);
        return sb.toString();
    }

    private static void writeJson(StringBuilder sb, JsonNode n) {
        switch (kind(n)) {
            case NULL -> sb.append("null");
            case BOOL, INT -> sb.append(plain(n));
            case FLOAT -> sb.append(jsonFloat(n.doubleValue()));
            case STRING -> GoJson.appendString(sb, n.asText());
            case ARRAY -> {
                sb.append('[');
                boolean first = true;
                for (JsonNode x : n) {
                    if (!first) sb.append(',');
                    first = false;
                    writeJson(sb, x);
                }
                sb.append(']');
            }
            case OBJECT -> {
                TreeMap<String, JsonNode> sorted = new TreeMap<>();
                n.properties().forEach(e -> sorted.put(e.getKey(), e.getValue()));
                sb.append('{');
                boolean first = true;
                for (var e : sorted.entrySet()) {
                    if (!first) sb.append(',');
                    first = false;
                    GoJson.appendString(sb, e.getKey());
                    sb.append(':');
                    writeJson(sb, e.getValue());
                }
                sb.append('}');
            }
        }
    }


    /** Go's strconv.Quote (what %q prints). */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            switch (cp) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case 7 -> sb.append("\\a");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case 11 -> sb.append("\\v");
                default -> {
                    if (cp < 0x20 || cp == 0x7f) sb.append(String.format("\\x%02x", cp));
                    else if (Character.isISOControl(cp) || !Character.isDefined(cp)) {
                        sb.append(cp > 0xffff ? String.format("\\U%08x", cp) : String.format("\\u%04x", cp));
                    } else sb.appendCodePoint(cp);
                }
            }
        });
        return sb.append('"').toString();
    }

    /** Go's {@code %v} for a float64 (strconv 'g', shortest): %e notation when the exponent is < -4 or >= 6. */
    static String goFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "+Inf" : "-Inf";
        if (d == 0) return (1 / d < 0) ? "-0" : "0";
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - bd.scale() - 1; // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp < -4 || exp >= 6) {
            String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            String es = Math.abs(exp) < 10 ? "0" + Math.abs(exp) : String.valueOf(Math.abs(exp));
            return sign + mant + "e" + (exp < 0 ? "-" : "+") + es;
        }
        return sign + bd.abs().toPlainString();
    }

    /** encoding/json's float64: plain between 1e-6 and 1e21, otherwise exponent without a leading zero. */
    static String jsonFloat(double d) {
        double abs = Math.abs(d);
        if (abs != 0 && (abs < 1e-6 || abs >= 1e21)) {
            BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
            String digits = bd.unscaledValue().abs().toString();
            int exp = digits.length() - bd.scale() - 1;
            String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return (d < 0 ? "-" : "") + mant + "e" + (exp < 0 ? "-" : "+") + Math.abs(exp);
        }
        return plainFloat(d);
    }

    /** strconv.FormatFloat(f, 'f', -1, 64), what swag.FormatFloat64 gives. */
    static String plainFloat(double d) {
        if (d == 0) return "0";
        return new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
    }

    /** reflect.DeepEqual on decoded values: int64 and float64 never equal each other. */
    static boolean deepEqual(JsonNode a, JsonNode b) {
        Kind ka = kind(a), kb = kind(b);
        if (ka != kb) return false;
        return switch (ka) {
            case NULL -> true;
            case BOOL -> a.booleanValue() == b.booleanValue();
            case INT -> a.longValue() == b.longValue();
            case FLOAT -> a.doubleValue() == b.doubleValue();
            case STRING -> a.asText().equals(b.asText());
            case ARRAY -> {
                if (a.size() != b.size()) yield false;
                for (int i = 0; i < a.size(); i++) if (!deepEqual(a.get(i), b.get(i))) yield false;
                yield true;
            }
            case OBJECT -> {
                if (a.size() != b.size()) yield false;
                Iterator<String> it = a.fieldNames();
                while (it.hasNext()) {
                    String k = it.next();
                    if (!b.has(k) || !deepEqual(a.get(k), b.get(k))) yield false;
                }
                yield true;
            }
        };
    }

    // ---- field.Error constructors, rendered as kube-apiserver renders them ----

    static Cause required(String field, String detail) {
        return new Cause("FieldValueRequired", detail.isEmpty() ? "Required value" : "Required value: " + detail, field);
    }

    static Cause forbidden(String field, String detail) {
        return new Cause("FieldValueForbidden", detail.isEmpty() ? "Forbidden" : "Forbidden: " + detail, field);
    }

    static Cause invalid(String field, Object value, String detail) {
        return new Cause("FieldValueInvalid", withDetail("Invalid value: " + render(value), detail), field);
    }

    static Cause typeInvalid(String field, Object value, String detail) {
        return new Cause("FieldValueTypeInvalid", withDetail("Invalid value: " + render(value), detail), field);
    }

    static Cause duplicate(String field, Object value) {
        return new Cause("FieldValueDuplicate", "Duplicate value: " + render(value), field);
    }

    static Cause notSupported(String field, Object value, List<String> supported) {
        String detail = supported.isEmpty() ? ""
                : "supported values: " + String.join(", ", supported.stream().map(GoValues::quote).toList());
        return new Cause("FieldValueNotSupported", withDetail("Unsupported value: " + render(value), detail), field);
    }

    static Cause tooLong(String field, long max) {
        String detail = max >= 0 ? "may not be more than " + max + (max == 1 ? " byte" : " bytes") : "value is too long";
        return new Cause("FieldValueTooLong", "Too long: " + detail, field);
    }

    static Cause tooMany(String field, long actual, long max) {
        String detail = max >= 0 ? "must have at most " + max + (max == 1 ? " item" : " items") : "has too many items";
        String body = actual >= 0 ? "Too many: " + actual : "Too many";
        return new Cause("FieldValueTooMany", body + ": " + detail, field);
    }

    private static String withDetail(String s, String detail) {
        return detail == null || detail.isEmpty() ? s : s + ": " + detail;
    }

    // ---- field.Path rendering ----

    static String child(String path, String name) {
        return path == null || path.isEmpty() ? name : path + "." + name;
    }

    static String key(String path, String key) {
        return (path == null ? "" : path) + "[" + key + "]";
    }

    static String index(String path, int i) {
        return (path == null ? "" : path) + "[" + i + "]";
    }
}
