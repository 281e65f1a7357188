package io.k3j.agent.proxy;

import java.util.List;
import java.util.Map;

/**
 * nft batches (one transaction each, as {@code nft -f -} applies a whole input atomically): a full rewrite of the
 * table, or the difference between old and new fragments. Commands are ordered so that nothing is referenced before
 * it exists or deleted while still referenced: element deletions, flushes, new sets and chains, rules, new elements,
 * and only then chain and set deletions.
 */
final class Transaction {
    private Transaction() {
    }

    /**
     * Replaces {@code table} wholesale (adopting or replacing a stale one in the same transaction).
     *
     * @param localhostNodePorts node ports answer on 127.0.0.0/8 too ({@link Rules#base(String, List, boolean)})
     */
    static String full(String table, List<String> nodeIps, boolean localhostNodePorts, Iterable<Fragment> fragments,
                       java.util.Collection<String> hairpin) {
        StringBuilder b = new StringBuilder(1 << 20);
        // "add" then "delete" makes the delete valid whether or not the table existed
        b.append("add table ip ").append(table).append('\n');
        b.append("delete table ip ").append(table).append('\n');
        b.append("add table ip ").append(table).append('\n');
        for (String line : Rules.base(table, nodeIps, localhostNodePorts)) b.append(line).append('\n');
        // sets and chains of every service first, so rules may jump to chains of any fragment in any order
        for (Fragment f : fragments) appendDeclarations(b, table, f);
        for (Fragment f : fragments) appendRules(b, table, f);
        for (Fragment f : fragments) appendElements(b, table, f);
        appendHairpin(b, "add", table, hairpin);
        return b.toString();
    }

    /** {@code add|delete element ... hairpin-endpoints { ip . ip, ... }} for {@code ips}, nothing when empty. */
    static void appendHairpin(StringBuilder b, String verb, String table, java.util.Collection<String> ips) {
        if (ips.isEmpty()) return;
        b.append(verb).append(" element ip ").append(table).append(' ').append(Rules.HAIRPIN).append(" { ");
        boolean first = true;
        for (String ip : ips) {
            if (!first) b.append(", ");
            first = false;
            b.append(ip).append(" . ").append(ip);
        }
        b.append(" }\n");
    }

    /** The commands that create {@code f} in an existing table. */
    static void appendAdds(StringBuilder b, String table, Fragment f) {
        appendDeclarations(b, table, f);
        appendRules(b, table, f);
        appendElements(b, table, f);
    }

    /**
     * Turns every {@code old} fragment into its {@code updated} one (same keys; {@link Fragment#EMPTY} for added or
     * removed services). Empty when nothing differs.
     */
    static String diff(String table, Map<String, Fragment> old, Map<String, Fragment> updated) {
        return diff(table, old, updated, List.of(), List.of());
    }

    /** As {@link #diff(String, Map, Map)}, also adding and removing hairpin endpoints (counted by the caller). */
    static String diff(String table, Map<String, Fragment> old, Map<String, Fragment> updated, java.util.Collection<String> hairpinAdded,
                       java.util.Collection<String> hairpinRemoved) {
        StringBuilder deleteElements = new StringBuilder();
        StringBuilder flushes = new StringBuilder();
        StringBuilder declarations = new StringBuilder();
        StringBuilder rules = new StringBuilder();
        StringBuilder addElements = new StringBuilder();
        StringBuilder deletions = new StringBuilder();
        for (Map.Entry<String, Fragment> e : updated.entrySet()) {
            Fragment was = old.getOrDefault(e.getKey(), Fragment.EMPTY);
            Fragment now = e.getValue();
            if (was.equals(now)) continue;
            for (Map.Entry<String, Map<String, String>> m : was.elements.entrySet()) {
                Map<String, String> nowMap = now.elements.getOrDefault(m.getKey(), Map.of());
                for (Map.Entry<String, String> el : m.getValue().entrySet()) {
                    if (!el.getValue().equals(nowMap.get(el.getKey()))) {
                        deleteElements.append("delete element ip ").append(table).append(' ').append(m.getKey())
                                .append(" { ").append(el.getKey()).append(" }\n");
                    }
                }
            }
            for (Map.Entry<String, List<String>> c : was.chains.entrySet()) {
                List<String> nowRules = now.chains.get(c.getKey());
                if (!c.getValue().equals(nowRules)) {
                    flushes.append("flush chain ip ").append(table).append(' ').append(c.getKey()).append('\n');
                }
                if (nowRules == null) {
                    deletions.append("delete chain ip ").append(table).append(' ').append(c.getKey()).append('\n');
                }
            }
            for (String set : was.sets.keySet()) {
                if (!now.sets.containsKey(set)) {
                    deletions.append("delete set ip ").append(table).append(' ').append(set).append('\n');
                }
            }
            for (Map.Entry<String, String> s : now.sets.entrySet()) {
                if (!was.sets.containsKey(s.getKey())) {
                    declarations.append("add set ip ").append(table).append(' ').append(s.getKey()).append(' ').append(s.getValue()).append('\n');
                }
            }
            for (Map.Entry<String, List<String>> c : now.chains.entrySet()) {
                List<String> wasRules = was.chains.get(c.getKey());
                if (wasRules == null) declarations.append("add chain ip ").append(table).append(' ').append(c.getKey()).append('\n');
                if (!c.getValue().equals(wasRules)) appendChainRules(rules, table, c.getKey(), c.getValue());
            }
            for (Map.Entry<String, Map<String, String>> m : now.elements.entrySet()) {
                Map<String, String> wasMap = was.elements.getOrDefault(m.getKey(), Map.of());
                for (Map.Entry<String, String> el : m.getValue().entrySet()) {
                    if (!el.getValue().equals(wasMap.get(el.getKey()))) {
                        addElements.append("add element ip ").append(table).append(' ').append(m.getKey())
                                .append(" { ").append(el.getKey()).append(" : ").append(el.getValue()).append(" }\n");
                    }
                }
            }
        }
        appendHairpin(deleteElements, "delete", table, hairpinRemoved);
        appendHairpin(addElements, "add", table, hairpinAdded);
        return deleteElements.append(flushes).append(declarations).append(rules).append(addElements).append(deletions).toString();
    }

    private static void appendDeclarations(StringBuilder b, String table, Fragment f) {
        for (Map.Entry<String, String> s : f.sets.entrySet()) {
            b.append("add set ip ").append(table).append(' ').append(s.getKey()).append(' ').append(s.getValue()).append('\n');
        }
        for (String chain : f.chains.keySet()) b.append("add chain ip ").append(table).append(' ').append(chain).append('\n');
    }

    private static void appendRules(StringBuilder b, String table, Fragment f) {
        for (Map.Entry<String, List<String>> c : f.chains.entrySet()) appendChainRules(b, table, c.getKey(), c.getValue());
    }

    private static void appendChainRules(StringBuilder b, String table, String chain, List<String> rules) {
        for (String rule : rules) {
            b.append("add rule ip ").append(table).append(' ').append(chain).append(' ').append(rule).append('\n');
        }
    }

    private static void appendElements(StringBuilder b, String table, Fragment f) {
        for (Map.Entry<String, Map<String, String>> m : f.elements.entrySet()) {
            if (m.getValue().isEmpty()) continue;
            b.append("add element ip ").append(table).append(' ').append(m.getKey()).append(" { ");
            boolean first = true;
            for (Map.Entry<String, String> el : m.getValue().entrySet()) {
                if (!first) b.append(", ");
                first = false;
                b.append(el.getKey()).append(" : ").append(el.getValue());
            }
            b.append(" }\n");
        }
    }
}
