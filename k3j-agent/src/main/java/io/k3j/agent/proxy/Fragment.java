package io.k3j.agent.proxy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The part of the table that belongs to one Service: its own chains and affinity sets, and its elements in the
 * shared dispatch maps. Incremental updates compare the old and new fragment of each changed Service and touch
 * only what differs.
 */
final class Fragment {
    /** chain name → its rules, in order. */
    final Map<String, List<String>> chains = new LinkedHashMap<>();
    /** set name → its body, e.g. {@code { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }}. */
    final Map<String, String> sets = new LinkedHashMap<>();
    /** map name → element key → verdict. */
    final Map<String, Map<String, String>> elements = new LinkedHashMap<>();

    /** Endpoint addresses for the shared hairpin set; counted across Services by the proxy (pods back several). */
    final java.util.Set<String> hairpin = new java.util.TreeSet<>();

    /**
     * UDP only: where clients send ({@code clusterIP:port}, {@code lbIP:port}, or {@code :nodePort} on any node
     * address) → the endpoint addresses behind it; compared across syncs to delete the conntrack flows of endpoints
     * that left.
     */
    final Map<String, java.util.Set<String>> udp = new java.util.TreeMap<>();

    static final Fragment EMPTY = new Fragment();

    List<String> chain(String name) {
        return chains.computeIfAbsent(name, n -> new ArrayList<>());
    }

    void element(String map, String key, String verdict) {
        elements.computeIfAbsent(map, m -> new LinkedHashMap<>()).put(key, verdict);
    }

    boolean isEmpty() {
        return chains.isEmpty() && sets.isEmpty() && elements.isEmpty() && hairpin.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Fragment f && chains.equals(f.chains) && sets.equals(f.sets) && elements.equals(f.elements)
                && hairpin.equals(f.hairpin) && udp.equals(f.udp);
    }

    @Override
    public int hashCode() {
        return Objects.hash(chains, sets, elements, hairpin, udp);
    }

    /** Readable form for tests and debugging: the nft commands that would create this fragment. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        Transaction.appendAdds(b, "T", this);
        return b.toString();
    }
}
