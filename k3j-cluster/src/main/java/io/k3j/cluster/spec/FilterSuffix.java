package io.k3j.cluster.spec;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a flag value from its node filters at the one unescaped {@code @}, as k3d does: {@code \@} is a literal
 * {@code @}, and what follows the {@code @} is one or more filters joined with {@code ;}.
 */
final class FilterSuffix {
    record Split(String value, List<NodeFilter> filters) {
    }

    private FilterSuffix() {
    }

    static Split split(String flag) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < flag.length(); i++) {
            char c = flag.charAt(i);
            if (c == '\\' && i + 1 < flag.length() && flag.charAt(i + 1) == '@') {
                cur.append('@');
                i++;
            } else if (c == '@') {
                parts.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        parts.add(cur.toString());
        if (parts.size() == 1) return new Split(parts.getFirst(), List.of());
        if (parts.size() > 2) {
            throw new IllegalArgumentException("'" + flag + "' has more than one '@': only one may separate the node filter "
                    + "(write a literal '@' as '\\@')");
        }
        if (parts.get(1).isBlank()) {
            throw new IllegalArgumentException("'" + flag + "' ends in '@' but names no node filter (e.g. @server:0, @agent:*; "
                    + "write a literal '@' as '\\@')");
        }
        return new Split(parts.get(0), NodeFilter.parseAll(parts.get(1)));
    }

    /** Rejects filters a node-only setting can't take: the load balancer and the port suffixes. */
    static void requireNodeFilters(String flag, List<NodeFilter> filters, String what) {
        for (NodeFilter f : filters) {
            if (f.suffix() != null) {
                throw new IllegalArgumentException(what + " '" + flag + "': node filter '" + f.text()
                        + "' has a :" + f.suffix() + " suffix, which only ports take");
            }
            for (NodeFilter.Selector s : f.selectors()) {
                if (s.role() == NodeRole.LOADBALANCER) {
                    throw new IllegalArgumentException(what + " '" + flag + "': the load balancer is not a k3j node; "
                            + "use server:*, agent:* or all");
                }
            }
        }
    }
}
