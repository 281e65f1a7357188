package io.k3j.cluster.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed k3d node filter: which nodes a port, volume, env var, label or extra arg applies to. Accepts k3d v5's
 * syntax ({@code server:0}, {@code agent:*}, {@code agent:0,1}, {@code server:1-2}, {@code loadbalancer}, {@code all};
 * the plurals {@code servers}/{@code agents} too) and k3d v4's brackets ({@code agent[*]}, {@code server[0]},
 * {@code agent[0,1]}, {@code server[1:2]}). A port filter may end in {@code :proxy} or {@code :direct} (k3d v5).
 * Ranges may be open at either end ({@code server:1-} = server 1 and up, {@code agent:-1} = agents 0 and 1).
 *
 * <p>One filter string is one filter; k3d joins several after one {@code @} with {@code ;}
 * ({@code -v /a:/b@server:0;agent:*}), see {@link #parseAll(String)}.
 *
 * @param text      the filter as written (for messages)
 * @param selectors what it selects (one per filter string today; a list so filters can be combined)
 * @param suffix    "proxy", "direct" or null
 */
public record NodeFilter(String text, List<Selector> selectors, String suffix) {

    /**
     * One part of a filter: a role (null = all roles, the load balancer included) and indices.
     *
     * @param indices the selected indices; null = every index from {@code from} on
     * @param from    with {@code indices} null, the first selected index (0 = every index)
     */
    public record Selector(NodeRole role, List<Integer> indices, int from) {
        public Selector {
            indices = indices == null ? null : List.copyOf(indices);
        }

        /** Every index ({@code indices} null) or exactly the given ones. */
        public Selector(NodeRole role, List<Integer> indices) {
            this(role, indices, 0);
        }
    }

    public NodeFilter {
        Objects.requireNonNull(text, "text");
        selectors = List.copyOf(selectors);
    }

    // k3d v5: group, optional ":subset", optional ":suffix" (a word). The subset alternatives mirror k3d's grammar.
    private static final Pattern V5 = Pattern.compile(
            "(?<group>[a-z]+)(?::(?<subset>[0-9]+(?:,[0-9]*)*|[0-9]*-[0-9]*|\\*))?(?::(?<suffix>[a-z]+))?", Pattern.CASE_INSENSITIVE);
    // k3d v4: group, optional "[subset]" where ranges use ':' (server[1:2]), optional ":suffix".
    private static final Pattern V4 = Pattern.compile(
            "(?<group>[a-z]+)\\[(?<subset>[0-9]+(?:,[0-9]*)*|[0-9]*:[0-9]*|\\*)](?::(?<suffix>[a-z]+))?", Pattern.CASE_INSENSITIVE);

    /**
     * Parses one node filter.
     *
     * @throws IllegalArgumentException naming the filter and what was expected
     */
    public static NodeFilter parse(String text) {
        Objects.requireNonNull(text, "text");
        String t = text.trim();
        if (t.isEmpty()) throw new IllegalArgumentException("node filter is empty: expected e.g. server:0, agent:*, loadbalancer or all");
        if (t.contains(";")) {
            throw new IllegalArgumentException("node filter '" + text + "' holds several filters: give one per entry");
        }
        Matcher m = V4.matcher(t);
        boolean v4 = m.matches();
        if (!v4) {
            m = V5.matcher(t);
            if (!m.matches()) throw invalid(text, shapeHint(t));
        }
        String group = m.group("group").toLowerCase(Locale.ROOT);
        NodeRole role;
        boolean all = false;
        switch (group) {
            case "server", "servers" -> role = NodeRole.SERVER;
            case "agent", "agents" -> role = NodeRole.AGENT;
            case "loadbalancer" -> role = NodeRole.LOADBALANCER;
            case "all" -> {
                role = null;
                all = true;
            }
            default -> throw invalid(text, "expected server, agent, loadbalancer or all");
        }
        String subset = m.group("subset");
        String suffix = m.group("suffix");
        if (suffix != null) {
            suffix = suffix.toLowerCase(Locale.ROOT);
            if (!suffix.equals("proxy") && !suffix.equals("direct")) {
                throw invalid(text, "unknown suffix ':" + m.group("suffix") + "' (expected :proxy or :direct)");
            }
        }
        Selector selector;
        if (subset == null || subset.equals("*")) {
            selector = new Selector(role, null, 0);
        } else if (all || role == NodeRole.LOADBALANCER) {
            throw invalid(text, "'" + group + "' takes no index");
        } else {
            selector = subset(text, role, subset, v4 ? ':' : '-');
        }
        return new NodeFilter(text, List.of(selector), suffix);
    }

    /**
     * Parses what follows {@code @} in a flag: one or more filters joined with {@code ;} (k3d v5).
     *
     * @throws IllegalArgumentException if any of them is invalid
     */
    public static List<NodeFilter> parseAll(String text) {
        Objects.requireNonNull(text, "text");
        List<NodeFilter> out = new ArrayList<>();
        for (String part : text.split(";", -1)) {
            if (part.isBlank()) {
                throw new IllegalArgumentException("node filter '" + text + "' has an empty part: join filters as server:0;agent:*");
            }
            out.add(parse(part));
        }
        return List.copyOf(out);
    }

    private static Selector subset(String text, NodeRole role, String subset, char rangeSep) {
        int sep = subset.indexOf(rangeSep);
        if (sep >= 0) {
            String a = subset.substring(0, sep), b = subset.substring(sep + 1);
            int start = a.isEmpty() ? 0 : index(text, a);
            if (b.isEmpty()) return new Selector(role, null, start);
            int end = index(text, b);
            if (end < start) throw invalid(text, "range end " + end + " is before its start " + start);
            List<Integer> idx = new ArrayList<>();
            for (int i = start; i <= end; i++) idx.add(i);
            return new Selector(role, idx, 0);
        }
        List<Integer> idx = new ArrayList<>();
        for (String s : subset.split(",")) {
            if (s.isEmpty()) continue; // k3d allows a trailing comma ("agent:0,")
            int i = index(text, s);
            if (!idx.contains(i)) idx.add(i);
        }
        return new Selector(role, idx, 0);
    }

    private static int index(String text, String digits) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw invalid(text, "index '" + digits + "' is too large");
        }
    }

    // Best guess at what the user got wrong, for the message.
    private static String shapeHint(String t) {
        int cut = 0;
        while (cut < t.length() && Character.isLetter(t.charAt(cut))) cut++;
        String group = t.substring(0, cut).toLowerCase(Locale.ROOT);
        boolean known = switch (group) {
            case "server", "servers", "agent", "agents", "loadbalancer", "all" -> true;
            default -> false;
        };
        if (!known) return "expected server, agent, loadbalancer or all";
        return "expected " + group + ", " + group + ":0, " + group + ":0,1, " + group + ":0-2 or " + group + ":* "
                + "(k3d v4: " + group + "[0], " + group + "[0,1], " + group + "[0:2], " + group + "[*])";
    }

    private static IllegalArgumentException invalid(String text, String why) {
        return new IllegalArgumentException("node filter '" + text + "' is not valid: " + why);
    }

    /** Whether {@code node} is selected. */
    public boolean matches(NodeRef node) {
        for (Selector s : selectors) {
            if (s.role() != null && s.role() != node.role()) continue;
            if (s.indices() == null ? node.index() >= s.from() : s.indices().contains(node.index())) return true;
        }
        return false;
    }

    /** The filter in k3d v5 syntax, as {@code config migrate} writes it: v4's {@code server[1:2]} becomes {@code server:1-2}. */
    public String toV5() {
        String t = text.trim();
        Matcher m = V4.matcher(t);
        if (!m.matches()) return t;
        String subset = m.group("subset");
        return m.group("group") + (subset.equals("*") ? ":*" : ":" + subset.replace(':', '-'))
                + (m.group("suffix") == null ? "" : ":" + m.group("suffix"));
    }

    /** Whether this filter's highest fixed index fits in {@code servers}/{@code agents}; null if so, else why not. */
    String outOfRange(int servers, int agents) {
        for (Selector s : selectors) {
            if (s.role() == null || s.role() == NodeRole.LOADBALANCER) continue;
            int count = s.role() == NodeRole.SERVER ? servers : agents;
            int max = s.indices() == null ? s.from() : s.indices().stream().mapToInt(Integer::intValue).max().orElse(-1);
            if ((s.indices() == null && s.from() > 0 || s.indices() != null) && max >= count) {
                String word = s.role().word();
                return "node filter '" + text + "' selects " + word + " " + max + " but the cluster has "
                        + (count == 0 ? "no " + word + "s" : count + " " + word + (count == 1 ? "" : "s") + " (" + word + ":0"
                        + (count > 1 ? "-" + (count - 1) : "") + ")");
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return text;
    }
}
