package io.k3j.api.select;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Renders values the way Go's fmt and encoding/json render them inside Kubernetes error messages, so our
 * messages match kube-apiserver's byte for byte.
 */
final class GoText {
    private GoText() {}

    /** Go's {@code %q} (strconv.Quote): printable runes verbatim, everything else escaped. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        s.codePoints().forEach(c -> {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case 7 -> b.append("\\a");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case 11 -> b.append("\\v");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\x%02x", c));
                    } else if (c > 0x7f && (Character.isISOControl(c) || !Character.isDefined(c))) {
                        b.append(c > 0xffff ? String.format("\\U%08x", c) : String.format("\\u%04x", c));
                    } else {
                        b.appendCodePoint(c);
                    }
                }
            }
        });
        return b.append('"').toString();
    }

    /** encoding/json of a {@code []string}: {@code null} for a nil slice. */
    static String jsonStrings(List<String> values) {
        if (values == null) return "null";
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) b.append(',');
            b.append(quote(values.get(i)));
        }
        return b.append(']').toString();
    }

    /** Go's {@code len(string)}: bytes, not characters. */
    static int byteLength(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
