package io.k3j.api.apply;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.GoJson;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Value equality, ordering and printing as structured-merge-diff does them, so that sets of list items sort, compare
 * and serialize the way kube-apiserver writes them into {@code managedFields}.
 */
final class Values {
    private Values() {}

    /** Deep equality where 1 and 1.0 are the same number (JSON has one number type). */
    static boolean equal(JsonNode a, JsonNode b) {
        if (a == null || b == null) return a == b;
        if (a.isNumber() && b.isNumber()) return decimal(a).compareTo(decimal(b)) == 0;
        if (a.getNodeType() != b.getNodeType()) return false;
        if (a.isObject()) {
            if (a.size() != b.size()) return false;
            for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!equal(e.getValue(), b.get(e.getKey()))) return false;
            }
            return true;
        }
        if (a.isArray()) {
            if (a.size() != b.size()) return false;
            for (int i = 0; i < a.size(); i++) if (!equal(a.get(i), b.get(i))) return false;
            return true;
        }
        return a.equals(b);
    }

    private static BigDecimal decimal(JsonNode n) {
        return n.isIntegralNumber() ? new BigDecimal(n.bigIntegerValue()) : n.decimalValue();
    }

    /** structured-merge-diff's total order: numbers, strings, booleans, lists, maps, null. */
    static int compare(JsonNode a, JsonNode b) {
        int ra = rank(a), rb = rank(b);
        if (ra != rb) return Integer.compare(ra, rb);
        return switch (ra) {
            case 0 -> decimal(a).compareTo(decimal(b));
            case 1 -> a.textValue().compareTo(b.textValue());
            case 2 -> Boolean.compare(a.booleanValue(), b.booleanValue());
            case 3 -> {
                for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
                    int c = compare(a.get(i), b.get(i));
                    if (c != 0) yield c;
                }
                yield Integer.compare(a.size(), b.size());
            }
            case 4 -> {
                List<String> ka = sortedKeys(a), kb = sortedKeys(b);
                for (int i = 0; i < Math.min(ka.size(), kb.size()); i++) {
                    int c = ka.get(i).compareTo(kb.get(i));
                    if (c != 0) yield c;
                    c = compare(a.get(ka.get(i)), b.get(kb.get(i)));
                    if (c != 0) yield c;
                }
                yield Integer.compare(ka.size(), kb.size());
            }
            default -> 0;
        };
    }

    private static int rank(JsonNode n) {
        if (n.isNumber()) return 0;
        if (n.isTextual()) return 1;
        if (n.isBoolean()) return 2;
        if (n.isArray()) return 3;
        if (n.isObject()) return 4;
        return 5;
    }

    static List<String> sortedKeys(JsonNode object) {
        List<String> keys = new ArrayList<>();
        object.fieldNames().forEachRemaining(keys::add);
        keys.sort(null);
        return keys;
    }

    /**
     * JSON as Go's encoding/json writes it: object keys sorted, {@code <>&} and U+2028/9 escaped. Key and value
     * path elements ({@code k:{...}}, {@code v:...}) embed this text, so it must match byte for byte.
     */
    static String goJson(JsonNode n) {
        StringBuilder sb = new StringBuilder();
        writeGo(sb, n);
        return sb.toString();
    }

    private static void writeGo(StringBuilder sb, JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            sb.append("null");
        } else if (n.isTextual()) {
            GoJson.appendString(sb, n.textValue());
        } else if (n.isIntegralNumber()) {
            sb.append(n.bigIntegerValue());
        } else if (n.isNumber()) {
            BigDecimal d = n.decimalValue().stripTrailingZeros();
            sb.append(d.scale() <= 0 && d.precision() - d.scale() <= 21 ? d.toBigInteger().toString() : d.toString());
        } else if (n.isBoolean()) {
            sb.append(n.booleanValue());
        } else if (n.isArray()) {
            sb.append('[');
            for (int i = 0; i < n.size(); i++) {
                if (i > 0) sb.append(',');
                writeGo(sb, n.get(i));
            }
            sb.append(']');
        } else if (n.isObject()) {
            sb.append('{');
            boolean first = true;
            for (String k : sortedKeys(n)) {
                if (!first) sb.append(',');
                first = false;
                GoJson.appendString(sb, k);
                sb.append(':');
                writeGo(sb, n.get(k));
            }
            sb.append('}');
        } else {
            sb.append(n.asText());
        }
    }


    /** How structured-merge-diff prints a value inside a path: strings quoted Go-style ({@code %q}), others bare. */
    static String print(JsonNode n) {
        if (n == null || n.isNull()) return "null";
        if (n.isTextual()) return goQuote(n.textValue());
        if (n.isArray()) {
            List<String> parts = new ArrayList<>();
            n.forEach(x -> parts.add(print(x)));
            return "[" + String.join(",", parts) + "]";
        }
        if (n.isObject()) {
            StringBuilder sb = new StringBuilder();
            for (String k : sortedKeys(n)) sb.append(k).append('=').append(print(n.get(k)));
            return sb.toString();
        }
        if (n.isNumber() && !n.isIntegralNumber()) return goJson(n);
        return n.asText();
    }

    /** Go's {@code %q}: printable characters kept, the rest escaped. */
    static String goQuote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            switch (cp) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case 7 -> sb.append("\\a");
                case 8 -> sb.append("\\b");
                case 12 -> sb.append("\\f");
                case 11 -> sb.append("\\v");
                default -> {
                    if (isPrint(cp)) sb.appendCodePoint(cp);
                    else if (cp < 0x80) sb.append(String.format("\\x%02x", cp));
                    else if (cp <= 0xFFFF) sb.append(String.format("\\u%04x", cp));
                    else sb.append(String.format("\\U%08x", cp));
                }
            }
        });
        return sb.append('"').toString();
    }

    /** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
    static boolean isPrint(int cp) {
        if (cp == ' ') return true;
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER, Character.NON_SPACING_MARK,
                 Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK, Character.DECIMAL_DIGIT_NUMBER,
                 Character.LETTER_NUMBER, Character.OTHER_NUMBER, Character.CONNECTOR_PUNCTUATION,
                 Character.DASH_PUNCTUATION, Character.START_PUNCTUATION, Character.END_PUNCTUATION,
                 Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION, Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL,
                 Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> true;
            default -> false;
        };
    }
}
