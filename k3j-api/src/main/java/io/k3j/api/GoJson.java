package io.k3j.api;

/**
 * Strings as Go's encoding/json writes them, for messages and keys that must match kube-apiserver's byte for
 * byte: HTML-safe escapes for {@code < > &}, the line and paragraph separators (U+2028, U+2029) and other
 * control characters escaped as backslash-u sequences.
 */
public final class GoJson {
    private GoJson() {}

    /** Appends {@code s} as a quoted JSON string. */
    public static void appendString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '<', '>', '&', '\u2028', '\u2029' -> sb.append(String.format("\\u%04x", (int) c));
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
