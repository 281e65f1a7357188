package io.k3j.cluster.spec;

import java.util.List;

/**
 * A parsed k3d node filter: which nodes a port, volume, env var, label or extra arg applies to. Accepts k3d v5's
 * syntax ({@code server:0}, {@code agent:*}, {@code agent:0,1}, {@code server:1-2}, {@code loadbalancer}, {@code all},
 * several joined with {@code ;}) and k3d v4's brackets ({@code agent[*]}, {@code server[0]}, {@code agent[0,1]},
 * {@code server[1:2]}). A port filter may end in {@code :proxy} or {@code :direct} (k3d v5).
 *
 * @param text   the filter as written (for messages)
 * @param suffix "proxy", "direct" or null
 */
public record NodeFilter(String text, List<Selector> selectors, String suffix) {

    /** One part of a filter: a role (null = all roles) and indices (null = every index). */
    public record Selector(NodeRole role, List<Integer> indices) {
    }

    /** Whether {@code node} is selected. */
    public boolean matches(NodeRef node) {
        for (Selector s : selectors) {
            if (s.role() != null && s.role() != node.role()) continue;
            if (s.indices() == null || s.indices().contains(node.index())) return true;
        }
        return false;
    }
}
