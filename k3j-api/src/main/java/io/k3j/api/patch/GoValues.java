package io.k3j.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * How kube-apiserver sees a decoded JSON value. The patch engines of Kubernetes work on Go's
 * {@code map[string]interface{}} trees (integers decoded as int64, other numbers as float64), so type
 * comparisons, {@code ==} equality and the {@code %v} rendering in error messages follow Go, not Jackson.
 */
final class GoValues {

    enum GoType { NIL, MAP, SLICE, STRING, INT64, FLOAT64, BOOL }

    private GoValues() {}

    static GoType type(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) return GoType.NIL;
        if (n.isObject()) return GoType.MAP;
        if (n.isArray()) return GoType.SLICE;
        if (n.isTextual()) return GoType.STRING;
        if (n.isBoolean()) return GoType.BOOL;
        if (n.isIntegralNumber()) return GoType.INT64;
        if (n.isNumber()) return GoType.FLOAT64;
        // binary/POJO nodes never come out of a JSON parser; treat them as strings
        return GoType.STRING;
    }

    /** The name {@code reflect.TypeOf} prints, used in "expected a X, but received a Y" messages. */
    static String typeName(JsonNode n) {
        return switch (type(n)) {
            case NIL -> "<nil>";
            case MAP -> "map[string]interface {}";
            case SLICE -> "[]interface {}";
            case STRING -> "string";
            case INT64 -> "int64";
            case FLOAT64 -> "float64";
            case BOOL -> "bool";
        };
    }

    /** Go's {@code ==} on interface values: same dynamic type and same value; nil equals nil. */
    static boolean eq(JsonNode a, JsonNode b) {
        GoType ta = type(a);
        if (ta != type(b)) return false;
        return switch (ta) {
            case NIL -> true;
            case STRING -> a.textValue().equals(b.textValue());
            case BOOL -> a.booleanValue() == b.booleanValue();
            case INT64 -> a.bigIntegerValue().equals(b.bigIntegerValue());
            case FLOAT64 -> a.doubleValue() == b.doubleValue();
            // Go panics comparing maps; structural equality is the sane reading
            case MAP, SLICE -> a.equals(b);
        };
    }

    /** Go's {@code %v}: {@code map[a:1 b:[x y]]}, keys sorted, nil as {@code <nil>}. */
    static String format(JsonNode n) {
        StringBuilder sb = new StringBuilder();
        append(sb, n);
        return sb.toString();
    }

    /** {@code %v} of a Go slice of values, e.g. {@code fmt.Sprint([][]interface{}{a, b})}. */
    static String formatAll(List<JsonNode> values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) sb.append(' ');
            append(sb, values.get(i));
        }
        return sb.append(']').toString();
    }

    private static void append(StringBuilder sb, JsonNode n) {
        switch (type(n)) {
            case NIL -> sb.append("<nil>");
            case STRING -> sb.append(n.textValue());
            case BOOL -> sb.append(n.booleanValue());
            case INT64 -> sb.append(n.bigIntegerValue());
            case FLOAT64 -> sb.append(formatFloat(n.doubleValue()));
            case SLICE -> {
                sb.append('[');
                for (int i = 0; i < n.size(); i++) {
                    if (i > 0) sb.append(' ');
                    append(sb, n.get(i));
                }
                sb.append(']');
            }
            case MAP -> {
                List<String> keys = new ArrayList<>();
                for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) keys.add(it.next());
                keys.sort(null);
                sb.append("map[");
                for (int i = 0; i < keys.size(); i++) {
                    if (i > 0) sb.append(' ');
                    sb.append(keys.get(i)).append(':');
                    append(sb, n.get(keys.get(i)));
                }
                sb.append(']');
            }
        }
    }

    /** strconv.FormatFloat(f, 'g', -1, 64) as fmt's %v uses it: exponent form below 1e-4 and from 1e6
     * (shortest formatting decides with precision 6), e.g. {@code 1e+06}. */
    static String formatFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "+Inf" : "-Inf";
        if (d == 0) return (1 / d < 0) ? "-0" : "0";
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - bd.scale() - 1;
        String sign = bd.signum() < 0 ? "-" : "";
        if (exp < -4 || exp >= 6) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            int e = Math.abs(exp);
            return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (e < 10 ? "0" + e : String.valueOf(e));
        }
        return bd.toPlainString();
    }
}
