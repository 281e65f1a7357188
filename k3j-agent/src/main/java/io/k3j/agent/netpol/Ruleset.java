package io.k3j.agent.netpol;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The nftables program for one node's policies, as data: what {@link PolicyCompiler} produces, what is rendered into
 * an {@code nft -f} batch, and what {@link #allows} evaluates the way the kernel would (the unit tests' oracle).
 *
 * <p>Layout of the table: the base chain {@code forward} (hook forward) accepts replies and traffic from the host,
 * then sends a packet from a local pod isolated for egress through that pod's {@code out-*} chain (verdict maps
 * {@code out4}/{@code out6} keyed by pod IP; a rule that matches returns, the chain's end rejects), then a packet to
 * a local pod isolated for ingress through its {@code in-*} chain (maps {@code in4}/{@code in6}; a match accepts,
 * the end rejects). Peers live in interval sets, one per policy rule and address family, shared by every pod the
 * policy selects; egress named ports, which each peer pod resolves on its own, live in
 * {@code address . protocol . port} sets. Pods, namespaces or labels that change only change set and map elements,
 * which {@link #incremental} rewrites without touching chains.
 */
final class Ruleset {
    static final String BASE_CHAIN = "forward";
    static final List<String> MAPS = List.of("in4", "in6", "out4", "out6");

    /** Which peers a rule admits: every address of one family, or any family ({@code ANY}). */
    enum Family { ANY, V4, V6 }

    /**
     * One rule of a pod chain.
     *
     * @param addrSet  the peer set (source address in an ingress chain, destination in an egress chain), null for any peer
     * @param tupleSet an {@code address . protocol . port} set matched against the destination, null for none
     * @param protocol {@code tcp}, {@code udp}, {@code sctp}, or null for any
     * @param portLo   first destination port, 0 for any
     */
    record Rule(Family family, String addrSet, String tupleSet, String protocol, int portLo, int portHi, String comment) { }

    /** A pod's ingress or egress chain; it ends with a reject (TCP reset, else ICMP administratively prohibited). */
    record Chain(String name, boolean ingress, String pod, List<Rule> rules) {
        Chain {
            rules = List.copyOf(rules);
        }
    }

    /** An interval set of peer addresses, disjoint and sorted. */
    record AddrSet(boolean v6, List<IpRange> ranges) {
        AddrSet {
            ranges = List.copyOf(ranges);
        }
    }

    /** One element of a named-port set. */
    record Tuple(String ip, String protocol, int port) { }

    record TupleSet(boolean v6, List<Tuple> tuples) {
        TupleSet {
            tuples = List.copyOf(tuples);
        }
    }

    private final SortedMap<String, AddrSet> addrSets;
    private final SortedMap<String, TupleSet> tupleSets;
    private final SortedMap<String, Chain> chains;
    /** pod IP → chain name, for the pods of this node isolated for ingress / egress. */
    private final SortedMap<String, String> ingress;
    private final SortedMap<String, String> egress;

    Ruleset(Map<String, AddrSet> addrSets, Map<String, TupleSet> tupleSets, Map<String, Chain> chains,
            Map<String, String> ingress, Map<String, String> egress) {
        this.addrSets = new TreeMap<>(addrSets);
        this.tupleSets = new TreeMap<>(tupleSets);
        this.chains = new TreeMap<>(chains);
        this.ingress = new TreeMap<>(ingress);
        this.egress = new TreeMap<>(egress);
    }

    Map<String, AddrSet> addrSets() {
        return addrSets;
    }

    Map<String, TupleSet> tupleSets() {
        return tupleSets;
    }

    Map<String, Chain> chains() {
        return chains;
    }

    Map<String, String> ingressDispatch() {
        return ingress;
    }

    Map<String, String> egressDispatch() {
        return egress;
    }

    // ---- evaluation, as the kernel does it ---------------------------------------------------------------------

    /**
     * Whether a new connection from {@code src} to {@code dst} (protocol {@code tcp}/{@code udp}/{@code sctp} or
     * another, e.g. {@code icmp}, with port 0) passes this node's table. Replies and host traffic always pass.
     */
    boolean allows(String src, String dst, String protocol, int port) {
        String out = egress.get(src);
        if (out != null && !matches(chains.get(out), src, dst, protocol, port)) return false;
        String in = ingress.get(dst);
        return in == null || matches(chains.get(in), src, dst, protocol, port);
    }

    private boolean matches(Chain chain, String src, String dst, String protocol, int port) {
        String peer = chain.ingress() ? src : dst;
        boolean v6 = peer.indexOf(':') >= 0;
        for (Rule r : chain.rules()) {
            if (r.family() == Family.V4 && v6 || r.family() == Family.V6 && !v6) continue;
            if (r.addrSet() != null) {
                AddrSet s = addrSets.get(r.addrSet());
                IpRange a = IpRange.address(peer);
                if (s.ranges().stream().noneMatch(x -> x.contains(a))) continue;
            }
            if (r.tupleSet() != null && !tupleSets.get(r.tupleSet()).tuples().contains(new Tuple(dst, protocol, port))) continue;
            if (r.protocol() != null && !r.protocol().equals(protocol)) continue;
            if (r.portLo() != 0 && (port < r.portLo() || port > r.portHi())) continue;
            return true;
        }
        return false;
    }

    // ---- rendering ------------------------------------------------------------------------------------------

    /**
     * The whole table in one batch: created if missing, deleted, and written again, which the kernel commits as
     * one transaction (no moment without rules, a stale table from an earlier run is adopted).
     */
    String full(String table) {
        StringBuilder b = new StringBuilder();
        b.append("table inet ").append(table).append(" {}\n");
        b.append("delete table inet ").append(table).append('\n');
        b.append("table inet ").append(table).append(" {\n");
        addrSets.forEach((name, s) -> {
            b.append("  set ").append(name).append(" { type ").append(s.v6() ? "ipv6_addr" : "ipv4_addr").append("; flags interval;");
            elements(b, addrElements(s));
            b.append(" }\n");
        });
        tupleSets.forEach((name, s) -> {
            b.append("  set ").append(name).append(" { type ").append(tupleType(s.v6())).append(';');
            elements(b, tupleElements(s));
            b.append(" }\n");
        });
        for (Chain c : chains.values()) {
            b.append("  chain ").append(c.name()).append(" {\n");
            b.append("    comment ").append(quote(c.pod() + (c.ingress() ? " ingress" : " egress"))).append('\n');
            for (Rule r : c.rules()) b.append("    ").append(render(r, c.ingress())).append('\n');
            // a TCP reset is not subject to the kernel's ICMP rate limit (net.ipv4.icmp_ratelimit): a client retrying
            // a refused connection is refused at once every time instead of waiting for its SYN to be resent
            b.append("    meta l4proto tcp reject with tcp reset\n");
            b.append("    reject with icmpx type admin-prohibited\n");
            b.append("  }\n");
        }
        for (String map : MAPS) {
            b.append("  map ").append(map).append(" { type ").append(map.endsWith("6") ? "ipv6_addr" : "ipv4_addr").append(" : verdict;");
            elements(b, mapElements(map));
            b.append(" }\n");
        }
        b.append("  chain ").append(BASE_CHAIN).append(" {\n");
        b.append("    type filter hook forward priority filter; policy accept;\n");
        b.append("    ct state established,related accept\n");
        // the node itself reaches its pods whatever their policies (kubelet probes); its own packets take the output
        // hook and never come here, except when a source address of this host is routed through it
        b.append("    fib saddr type local accept\n");
        b.append("    ip saddr vmap @out4\n");
        b.append("    ip6 saddr vmap @out6\n");
        b.append("    ip daddr vmap @in4\n");
        b.append("    ip6 daddr vmap @in6\n");
        b.append("  }\n");
        b.append("}\n");
        return b.toString();
    }

    /**
     * The batch that turns the table {@code previous} was rendered into into this one by replacing the elements of
     * the sets and maps that differ; null when the chains or set declarations differ (then {@link #full} is
     * needed), empty when nothing differs.
     */
    String incremental(Ruleset previous, String table) {
        if (!sameShape(previous)) return null;
        StringBuilder b = new StringBuilder();
        addrSets.forEach((name, s) -> {
            if (!s.equals(previous.addrSets.get(name))) replace(b, "set", table, name, addrElements(s));
        });
        tupleSets.forEach((name, s) -> {
            if (!s.equals(previous.tupleSets.get(name))) replace(b, "set", table, name, tupleElements(s));
        });
        for (String map : MAPS) {
            List<String> now = mapElements(map);
            if (!now.equals(previous.mapElements(map))) replace(b, "map", table, map, now);
        }
        return b.toString();
    }

    private boolean sameShape(Ruleset other) {
        if (other == null || !chains.equals(other.chains)) return false;
        if (!addrSets.keySet().equals(other.addrSets.keySet()) || !tupleSets.keySet().equals(other.tupleSets.keySet())) return false;
        for (var e : addrSets.entrySet()) {
            if (e.getValue().v6() != other.addrSets.get(e.getKey()).v6()) return false;
        }
        for (var e : tupleSets.entrySet()) {
            if (e.getValue().v6() != other.tupleSets.get(e.getKey()).v6()) return false;
        }
        return true;
    }

    private static void replace(StringBuilder b, String kind, String table, String name, List<String> elements) {
        b.append("flush ").append(kind).append(" inet ").append(table).append(' ').append(name).append('\n');
        if (elements.isEmpty()) return;
        b.append("add element inet ").append(table).append(' ').append(name).append(" { ");
        b.append(String.join(", ", elements)).append(" }\n");
    }

    private static void elements(StringBuilder b, List<String> elements) {
        if (elements.isEmpty()) return;
        b.append(" elements = { ").append(String.join(", ", elements)).append(" };");
    }

    private static List<String> addrElements(AddrSet s) {
        return s.ranges().stream().map(IpRange::element).toList();
    }

    private static List<String> tupleElements(TupleSet s) {
        return s.tuples().stream().map(t -> t.ip() + " . " + t.protocol() + " . " + t.port()).toList();
    }

    private List<String> mapElements(String map) {
        boolean v6 = map.endsWith("6");
        Map<String, String> dispatch = map.startsWith("in") ? ingress : egress;
        List<String> out = new ArrayList<>();
        dispatch.forEach((ip, chain) -> {
            if ((ip.indexOf(':') >= 0) == v6) out.add(ip + " : jump " + chain);
        });
        return out;
    }

    private static String tupleType(boolean v6) {
        return (v6 ? "ipv6_addr" : "ipv4_addr") + " . inet_proto . inet_service";
    }

    private static String render(Rule r, boolean ingress) {
        List<String> parts = new ArrayList<>();
        String ip = r.family() == Family.V6 ? "ip6" : "ip";
        if (r.addrSet() != null) parts.add(ip + (ingress ? " saddr @" : " daddr @") + r.addrSet());
        if (r.tupleSet() != null) parts.add(ip + " daddr . meta l4proto . th dport @" + r.tupleSet());
        if (r.addrSet() == null && r.tupleSet() == null && r.family() != Family.ANY) {
            parts.add("meta nfproto " + (r.family() == Family.V6 ? "ipv6" : "ipv4"));
        }
        if (r.protocol() != null) parts.add("meta l4proto " + r.protocol());
        if (r.portLo() != 0) parts.add("th dport " + (r.portLo() == r.portHi() ? Integer.toString(r.portLo()) : r.portLo() + "-" + r.portHi()));
        parts.add(ingress ? "accept" : "return");
        if (r.comment() != null) parts.add("comment " + quote(r.comment()));
        return String.join(" ", parts);
    }

    /** nft comments are at most 128 bytes and may not contain double quotes. */
    private static String quote(String s) {
        String clean = s.replace('"', '\'');
        if (clean.length() > 120) clean = clean.substring(0, 120);
        return '"' + clean + '"';
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Ruleset r && addrSets.equals(r.addrSets) && tupleSets.equals(r.tupleSets) && chains.equals(r.chains)
                && ingress.equals(r.ingress) && egress.equals(r.egress);
    }

    @Override
    public int hashCode() {
        return Objects.hash(addrSets, tupleSets, chains, ingress, egress);
    }
}
