package io.k3j.api.jsonpath;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * JSONPath as kubectl and kube-apiserver evaluate it (k8s.io/client-go/util/jsonpath) for one action, e.g. a
 * CRD printer column's {@code .status.conditions[?(@.type=="Ready")].status}: fields ({@code .a},
 * {@code ['a']}), {@code *}, {@code ..}, indexes and slices ({@code [0]}, {@code [-1]}, {@code [1:3:2]}),
 * unions ({@code [0,2]}) and filters ({@code ==, !=, <, <=, >, >=}, or existence). The {@code {...}}
 * template form and {@code range}/{@code end} are not supported.
 *
 * <p>Missing keys yield no result instead of an error, as with {@code AllowMissingKeys(true)}, which is how
 * the CRD table convertor runs it. Compiled paths are immutable and thread-safe.
 */
public final class JsonPath {
    private final String expression;
    private final List<Node> nodes;

    private JsonPath(String expression, List<Node> nodes) {
        this.expression = expression;
        this.nodes = nodes;
    }

    /**
     * Compiles an expression such as {@code .spec.replicas}. A surrounding {@code {}} pair is accepted.
     *
     * @throws JsonPathException when it does not parse
     */
    public static JsonPath compile(String expression) {
        String text = expression.strip();
        if (text.startsWith("{") && text.endsWith("}")) text = text.substring(1, text.length() - 1);
        return new JsonPath(expression, List.copyOf(Parser.parse(text)));
    }

    /**
     * Evaluates {@code expr} on {@code root}.
     *
     * @throws JsonPathException when the expression does not parse or fails on this document
     */
    public static List<JsonNode> eval(String expr, JsonNode root) {
        return compile(expr).evaluate(root);
    }

    /**
     * The matches, in document order (JSON nulls included as null nodes). Empty when nothing matches.
     *
     * @throws JsonPathException on an index out of bounds, a slice of a non-array, or an invalid comparison
     */
    public List<JsonNode> evaluate(JsonNode root) {
        List<JsonNode> cur = new ArrayList<>();
        if (root != null) cur.add(root);
        return walkList(cur, nodes);
    }

    public String expression() {
        return expression;
    }

    @Override
    public String toString() {
        return expression;
    }

    /**
     * Renders one result the way jsonpath's {@code PrintResults} does: strings verbatim, numbers and booleans
     * as Go prints them, null as {@code null}, objects and arrays as compact JSON with sorted keys.
     */
    public static String printText(JsonNode value) {
        if (value == null || value.isNull() || value.isMissingNode()) return "null";
        if (value.isTextual()) return value.asText();
        if (value.isBoolean()) return Boolean.toString(value.booleanValue());
        if (value.isIntegralNumber()) return value.bigIntegerValue().toString();
        if (value.isNumber()) return goFloat(value.doubleValue());
        return Json.string(sortKeys(value));
    }

    private static JsonNode sortKeys(JsonNode n) {
        if (n.isObject()) {
            Map<String, JsonNode> sorted = new TreeMap<>();
            n.fields().forEachRemaining(e -> sorted.put(e.getKey(), sortKeys(e.getValue())));
            var o = Json.object();
            o.setAll(sorted);
            return o;
        }
        if (n.isArray()) {
            var a = Json.array();
            n.forEach(e -> a.add(sortKeys(e)));
            return a;
        }
        return n;
    }

    // fmt's %v for a float64 (strconv %g, shortest): exponent form below 1e-4 or from 1e6 on.
    static String goFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "+Inf" : "-Inf";
        if (d == 0) return (1 / d < 0) ? "-0" : "0";
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exp = bd.precision() - bd.scale() - 1;
        if (exp < -4 || exp >= 6) {
            String digits = bd.unscaledValue().abs().toString();
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            String e = String.format("%02d", Math.abs(exp));
            return (d < 0 ? "-" : "") + mantissa + "e" + (exp < 0 ? "-" : "+") + e;
        }
        return bd.toPlainString();
    }

    // ---- evaluation (util/jsonpath/jsonpath.go) ----

    private static List<JsonNode> walkList(List<JsonNode> input, List<Node> list) {
        List<JsonNode> cur = input;
        for (Node n : list) cur = walk(cur, n);
        return cur;
    }

    private static List<JsonNode> walk(List<JsonNode> input, Node node) {
        return switch (node) {
            case Node.Field f -> field(input, f.name());
            case Node.Wildcard w -> wildcard(input);
            case Node.Recursive r -> recursive(input);
            case Node.Array a -> array(input, a);
            case Node.Union u -> {
                List<JsonNode> out = new ArrayList<>();
                for (List<Node> branch : u.branches()) out.addAll(walkList(input, branch));
                yield out;
            }
            case Node.Filter f -> filter(input, f);
            case Node.Text t -> repeat(input, Json.NODES.textNode(t.text()));
            case Node.IntLit i -> repeat(input, Json.NODES.numberNode(i.value()));
            case Node.FloatLit fl -> repeat(input, Json.NODES.numberNode(fl.value()));
            case Node.BoolLit b -> repeat(input, Json.NODES.booleanNode(b.value()));
        };
    }

    private static List<JsonNode> repeat(List<JsonNode> input, JsonNode value) {
        List<JsonNode> out = new ArrayList<>(input.size());
        for (int i = 0; i < input.size(); i++) out.add(value);
        return out;
    }

    private static boolean isNil(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode();
    }

    private static List<JsonNode> field(List<JsonNode> input, String name) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode v : input) {
            if (isNil(v) || !v.isObject()) continue;
            JsonNode r = v.get(name);
            if (r != null) out.add(r);
        }
        return out;
    }

    private static List<JsonNode> children(JsonNode v) {
        List<JsonNode> out = new ArrayList<>();
        if (v.isObject() || v.isArray()) v.forEach(out::add);
        return out;
    }

    private static List<JsonNode> wildcard(List<JsonNode> input) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode v : input) {
            if (!isNil(v)) out.addAll(children(v));
        }
        return out;
    }

    private static List<JsonNode> recursive(List<JsonNode> input) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode v : input) {
            if (isNil(v)) continue;
            List<JsonNode> kids = children(v);
            if (!kids.isEmpty()) {
                out.add(v);
                out.addAll(recursive(kids));
            }
        }
        return out;
    }

    private static List<JsonNode> array(List<JsonNode> input, Node.Array a) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode v : input) {
            if (isNil(v)) continue;
            if (!v.isArray()) throw new JsonPathException(kind(v) + " is not array or slice");
            int len = v.size();
            int start = a.start() == null ? 0 : a.start();
            if (start < 0) start += len;
            int end = a.end() == null ? len : a.end();
            if (end < 0 || (end == 0 && a.derivedEnd())) end += len;
            if (end == start) return out;
            if (start >= len || start < 0) {
                throw new JsonPathException("array index out of bounds: index " + start + ", length " + len);
            }
            if (end > len || end < 0) {
                throw new JsonPathException("array index out of bounds: index " + (end - 1) + ", length " + len);
            }
            if (start > end) throw new JsonPathException("starting index " + start + " is greater than ending index " + end);
            int step = 1;
            if (a.step() != null) {
                if (a.step() <= 0) throw new JsonPathException("step must be > 0");
                step = a.step();
            }
            for (int i = start; i < end; i += step) out.add(v.get(i));
        }
        return out;
    }

    private static List<JsonNode> filter(List<JsonNode> input, Node.Filter f) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode v : input) {
            if (v == null || !v.isArray()) {
                throw new JsonPathException(kind(v) + " is not array or slice and cannot be filtered");
            }
            for (JsonNode item : v) {
                List<JsonNode> one = List.of(item);
                if (f.op().equals("exists")) {
                    List<JsonNode> lefts;
                    try {
                        lefts = walkList(one, f.left());
                    } catch (JsonPathException e) {
                        continue;
                    }
                    if (!lefts.isEmpty()) out.add(item);
                    continue;
                }
                List<JsonNode> lefts = walkList(one, f.left());
                if (lefts.isEmpty()) continue;
                if (lefts.size() > 1) throw new JsonPathException("can only compare one element at a time");
                List<JsonNode> rights = walkList(one, f.right());
                if (rights.isEmpty()) continue;
                if (rights.size() > 1) throw new JsonPathException("can only compare one element at a time");
                if (compare(lefts.get(0), rights.get(0), f.op())) out.add(item);
            }
        }
        return out;
    }

    private enum Kind { BOOL, INT, FLOAT, STRING }

    private static Kind basicKind(JsonNode n) {
        if (n == null) throw new JsonPathException("invalid type for comparison");
        if (n.isBoolean()) return Kind.BOOL;
        if (n.isIntegralNumber()) return Kind.INT;
        if (n.isNumber()) return Kind.FLOAT;
        if (n.isTextual()) return Kind.STRING;
        throw new JsonPathException("invalid type for comparison");
    }

    // text/template's eq/lt semantics: same basic kind only; ints and floats do not mix.
    private static boolean compare(JsonNode l, JsonNode r, String op) {
        return switch (op) {
            case "==" -> equal(l, r);
            case "!=" -> !equal(l, r);
            case "<" -> less(l, r);
            case "<=" -> less(l, r) || equal(l, r);
            case ">" -> !(less(l, r) || equal(l, r));
            case ">=" -> !less(l, r);
            default -> throw new JsonPathException("unrecognized filter operator " + op);
        };
    }

    private static boolean equal(JsonNode l, JsonNode r) {
        Kind k1 = basicKind(l);
        Kind k2 = basicKind(r);
        if (k1 != k2) throw new JsonPathException("incompatible types for comparison");
        return switch (k1) {
            case BOOL -> l.booleanValue() == r.booleanValue();
            case INT -> l.bigIntegerValue().equals(r.bigIntegerValue());
            case FLOAT -> l.doubleValue() == r.doubleValue();
            case STRING -> l.textValue().equals(r.textValue());
        };
    }

    private static boolean less(JsonNode l, JsonNode r) {
        Kind k1 = basicKind(l);
        Kind k2 = basicKind(r);
        if (k1 != k2) throw new JsonPathException("incompatible types for comparison");
        return switch (k1) {
            case BOOL -> throw new JsonPathException("invalid type for comparison");
            case INT -> l.bigIntegerValue().compareTo(r.bigIntegerValue()) < 0;
            case FLOAT -> l.doubleValue() < r.doubleValue();
            case STRING -> l.textValue().compareTo(r.textValue()) < 0;
        };
    }

    private static String kind(JsonNode v) {
        if (v == null || v.isNull()) return "<nil>";
        if (v.isObject()) return "map[string]interface {}";
        if (v.isTextual()) return "string";
        if (v.isBoolean()) return "bool";
        if (v.isIntegralNumber()) return "int64";
        if (v.isNumber()) return "float64";
        return v.getNodeType().name().toLowerCase();
    }
}
