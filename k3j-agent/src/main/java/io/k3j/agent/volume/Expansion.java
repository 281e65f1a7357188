package io.k3j.agent.volume;

import java.util.function.Function;

/**
 * {@code $(VAR)} expansion with the semantics of k8s.io/kubernetes/third_party/forked/golang/expansion, which
 * kubelet applies to env values, command, args and subPathExpr: {@code $$} is an escaped {@code $}, a reference
 * whose name the mapping does not know stays verbatim ({@code $(UNDEFINED)}), an unterminated {@code $(} stays as it
 * is, and a {@code $} before anything else is kept with that character.
 */
final class Expansion {

    private Expansion() { }

    /**
     * Expands {@code input}; {@code mapping} returns the value of a name or null when the name is unknown (the
     * reference is then kept as written).
     */
    static String expand(String input, Function<String, String> mapping) {
        StringBuilder out = new StringBuilder(input.length());
        int checkpoint = 0;
        for (int cursor = 0; cursor < input.length(); cursor++) {
            if (input.charAt(cursor) != '$' || cursor + 1 >= input.length()) continue;
            out.append(input, checkpoint, cursor);
            char next = input.charAt(cursor + 1);
            int advance = 1;
            if (next == '$') {
                out.append('$');
            } else if (next == '(') {
                int close = input.indexOf(')', cursor + 2);
                if (close < 0) {
                    out.append("$(");
                } else {
                    String name = input.substring(cursor + 2, close);
                    String value = mapping.apply(name);
                    out.append(value != null ? value : "$(" + name + ")");
                    advance = close - cursor;
                }
            } else {
                out.append('$').append(next);
            }
            cursor += advance;
            checkpoint = cursor + 1;
        }
        out.append(input, checkpoint, input.length());
        return out.toString();
    }
}
