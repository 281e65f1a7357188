package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;


/** How Go prints values into the messages kube-apiserver sends: {@code strconv.Quote} and {@code fmt}'s {@code %+v}. */
final class GoText {
    private GoText() {}

    /**
     * {@code strconv.Quote}, limited to ASCII output: control characters and anything outside printable ASCII are
     * escaped, so the result is safe in an HTTP header too.
     */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else if (c < 0x7f) {
                        sb.append(c);
                    } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                        sb.append(String.format("\\U%08x", Character.toCodePoint(c, s.charAt(++i))));
                    } else {
                        sb.append(String.format("\\u%04x", (int) c));
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** {@code fmt.Sprintf("%+v", v)} of a decoded JSON value: {@code map[a:1 b:[x y]]}, maps with sorted keys. */
    static String value(JsonNode v) {
        if (v == null || v.isNull()) return "<nil>";
        if (v.isObject()) {
            List<String> keys = new ArrayList<>();
            v.fieldNames().forEachRemaining(keys::add);
            keys.sort(null);
            StringBuilder sb = new StringBuilder("map[");
            for (int i = 0; i < keys.size(); i++) {
                if (i > 0) sb.append(' ');
                sb.append(keys.get(i)).append(':').append(value(v.get(keys.get(i))));
            }
            return sb.append(']').toString();
        }
        if (v.isArray()) {
            StringBuilder sb = new StringBuilder("[");
            Iterator<JsonNode> it = v.elements();
            while (it.hasNext()) sb.append(value(it.next())).append(it.hasNext() ? " " : "");
            return sb.append(']').toString();
        }
        if (v.isIntegralNumber()) return v.asText();
        if (v.isNumber()) {
            double d = v.asDouble();
            return d == Math.rint(d) && Math.abs(d) < 1e21 ? Long.toString((long) d) : Double.toString(d);
        }
        return v.asText();
    }

}
