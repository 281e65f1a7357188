package io.k3j.agent.netpol;

import io.k3j.agent.netpol.Ruleset.AddrSet;
import io.k3j.agent.netpol.Ruleset.Chain;
import io.k3j.agent.netpol.Ruleset.Family;
import io.k3j.agent.netpol.Ruleset.Rule;
import io.k3j.agent.netpol.Ruleset.Tuple;
import io.k3j.agent.netpol.Ruleset.TupleSet;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns NetworkPolicies, pods and namespaces into one node's {@link Ruleset}, with the semantics of the API
 * (<a href="https://kubernetes.io/docs/concepts/services-networking/network-policies/">network policies</a>):
 * <ul>
 *   <li>a pod is isolated for ingress (egress) when any policy of its namespace selects it and has that policy
 *       type; what it may receive (send) is then the union of the rules of all those policies;</li>
 *   <li>a peer is a podSelector (the policy's namespace), a namespaceSelector (every pod there), both (pods
 *       matching the podSelector in namespaces matching the namespaceSelector), or an ipBlock without its
 *       excepts; a rule without peers admits every peer, one without ports every port;</li>
 *   <li>a named port means the port of that name and protocol on the pod the traffic goes to: the selected pod
 *       for ingress, each peer pod for egress (so an egress named port only admits pods, never plain addresses).</li>
 * </ul>
 * Only pods of this node get chains (each node enforces for its own pods, in both directions); peers are pods of the
 * whole cluster. Pods on the host network and finished pods are neither selected nor peers: their addresses are
 * the node's, or free.
 */
final class PolicyCompiler {
    private static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

    private final List<Policy> policies;
    private final List<PodInfo> pods;
    private final Map<String, Map<String, String>> namespaceLabels;
    private final String nodeName;
    private final Map<String, AddrSet> addrSets = new TreeMap<>();
    private final Map<String, TupleSet> tupleSets = new TreeMap<>();

    private PolicyCompiler(String nodeName, Collection<Policy> policies, Collection<PodInfo> pods, Map<String, Map<String, String>> namespaceLabels) {
        this.nodeName = nodeName;
        this.policies = policies.stream().sorted(Comparator.comparing(Policy::key)).toList();
        this.pods = pods.stream().filter(PodInfo::participates).sorted(Comparator.comparing(PodInfo::key)).toList();
        this.namespaceLabels = namespaceLabels;
    }

    /**
     * @param namespaceLabels labels by namespace name; a namespace missing here (its informer lags) still has its
     *                        {@code kubernetes.io/metadata.name} label
     */
    static Ruleset compile(String nodeName, Collection<Policy> policies, Collection<PodInfo> pods, Map<String, Map<String, String>> namespaceLabels) {
        return new PolicyCompiler(nodeName, policies, pods, namespaceLabels).compile();
    }

    private Ruleset compile() {
        Map<String, Chain> chains = new TreeMap<>();
        Map<String, String> ingress = new TreeMap<>();
        Map<String, String> egress = new TreeMap<>();
        for (PodInfo pod : pods) {
            if (!pod.nodeName().equals(nodeName)) continue;
            List<Policy> in = new ArrayList<>();
            List<Policy> out = new ArrayList<>();
            for (Policy p : policies) {
                if (!p.namespace().equals(pod.namespace()) || !p.podSelector().matches(pod.labels())) continue;
                if (p.ingress()) in.add(p);
                if (p.egress()) out.add(p);
            }
            if (!in.isEmpty()) dispatch(ingress, pod, chain(pod, in, true), chains);
            if (!out.isEmpty()) dispatch(egress, pod, chain(pod, out, false), chains);
        }
        return new Ruleset(addrSets, tupleSets, chains, ingress, egress);
    }

    private static void dispatch(Map<String, String> map, PodInfo pod, Chain chain, Map<String, Chain> chains) {
        boolean used = false;
        for (String ip : pod.ips()) {
            // two live pods claiming one address is a transient state (a sandbox recreated); the first one by name wins
            if (map.putIfAbsent(ip, chain.name()) == null) used = true;
        }
        if (used) chains.put(chain.name(), chain);
    }

    private Chain chain(PodInfo pod, List<Policy> selecting, boolean ingress) {
        List<Rule> rules = new ArrayList<>();
        for (Policy p : selecting) {
            List<Policy.Rule> list = ingress ? p.ingressRules() : p.egressRules();
            for (int i = 0; i < list.size(); i++) {
                Policy.Rule rule = list.get(i);
                String comment = p.key() + (ingress ? " ingress[" : " egress[") + i + "]";
                String base = setPrefix(p) + (ingress ? "-in" : "-out") + i;
                List<Policy.Port> numbered = rule.ports().stream().filter(x -> !x.named()).toList();
                List<Policy.Port> named = rule.ports().stream().filter(Policy.Port::named).toList();
                List<Family> families = rule.allPeers() ? List.of(Family.ANY) : List.of(Family.V4, Family.V6);
                for (Family f : families) {
                    String set = f == Family.ANY ? null : addrSet(base + "-" + (f == Family.V6 ? "6" : "4"), p, rule, f == Family.V6);
                    if (rule.ports().isEmpty()) {
                        rules.add(new Rule(f, set, null, null, 0, 0, comment));
                        continue;
                    }
                    for (Policy.Port port : numbered) rules.add(new Rule(f, set, null, port.protocol(), port.port(), port.endPort(), comment));
                    if (ingress) {
                        // the selected pod says what its named ports are
                        for (Policy.Port port : named) {
                            int n = pod.resolve(port.name(), port.protocol().toUpperCase(java.util.Locale.ROOT));
                            if (n > 0) rules.add(new Rule(f, set, null, port.protocol(), n, n, comment));
                        }
                    }
                }
                if (!ingress && !named.isEmpty()) {
                    // each peer pod says what its named ports are: address . protocol . port elements
                    for (boolean v6 : new boolean[] {false, true}) {
                        String name = base + "-n" + (v6 ? "6" : "4");
                        tupleSets.computeIfAbsent(name, k -> tupleSet(p, rule, named, v6));
                        rules.add(new Rule(v6 ? Family.V6 : Family.V4, null, name, null, 0, 0, comment));
                    }
                }
            }
        }
        String name = (ingress ? "in-" : "out-") + hash(pod.key());
        return new Chain(name, ingress, pod.key(), rules);
    }

    private String addrSet(String name, Policy p, Policy.Rule rule, boolean v6) {
        addrSets.computeIfAbsent(name, k -> {
            List<IpRange> ranges = new ArrayList<>();
            for (Policy.Peer peer : rule.peers()) {
                switch (peer) {
                    case Policy.Block b -> ranges.addAll(b.ranges());
                    case Policy.Pods sel -> {
                        for (PodInfo pod : selected(p, sel)) pod.ips().forEach(ip -> ranges.add(IpRange.address(ip)));
                    }
                }
            }
            return new AddrSet(v6, IpRange.merge(ranges.stream().filter(r -> r.v6() == v6).toList()));
        });
        return name;
    }

    private TupleSet tupleSet(Policy p, Policy.Rule rule, List<Policy.Port> named, boolean v6) {
        Set<PodInfo> peers = new LinkedHashSet<>();
        if (rule.allPeers()) {
            peers.addAll(pods);
        } else {
            for (Policy.Peer peer : rule.peers()) {
                switch (peer) {
                    case Policy.Pods sel -> peers.addAll(selected(p, sel));
                    case Policy.Block b -> {
                        List<IpRange> ranges = b.ranges();
                        for (PodInfo pod : pods) {
                            if (pod.ips().stream().anyMatch(ip -> ranges.stream().anyMatch(r -> r.contains(ip)))) peers.add(pod);
                        }
                    }
                }
            }
        }
        Set<Tuple> tuples = new LinkedHashSet<>();
        for (PodInfo pod : peers) {
            for (Policy.Port port : named) {
                int n = pod.resolve(port.name(), port.protocol().toUpperCase(java.util.Locale.ROOT));
                if (n <= 0) continue;
                for (String ip : pod.ips()) {
                    // an ipBlock peer admits only the addresses inside the block, even of a dual-stack pod
                    if ((ip.indexOf(':') >= 0) == v6 && admits(p, rule, pod, ip)) tuples.add(new Tuple(ip, port.protocol(), n));
                }
            }
        }
        List<Tuple> sorted = new ArrayList<>(tuples);
        sorted.sort(Comparator.comparing((Tuple t) -> IpRange.address(t.ip()).first()).thenComparing(Tuple::protocol).thenComparingInt(Tuple::port));
        return new TupleSet(v6, sorted);
    }

    private boolean admits(Policy p, Policy.Rule rule, PodInfo pod, String ip) {
        if (rule.allPeers()) return true;
        for (Policy.Peer peer : rule.peers()) {
            switch (peer) {
                case Policy.Pods sel -> {
                    if (selected(p, sel).contains(pod)) return true;
                }
                case Policy.Block b -> {
                    if (b.ranges().stream().anyMatch(r -> r.contains(ip))) return true;
                }
            }
        }
        return false;
    }

    private final Map<Policy.Pods, Map<String, List<PodInfo>>> selections = new HashMap<>();

    /** The pods a selector peer of {@code p} means (podSelector and namespaceSelector ANDed). */
    private List<PodInfo> selected(Policy p, Policy.Pods sel) {
        return selections.computeIfAbsent(sel, k -> new LinkedHashMap<>()).computeIfAbsent(p.namespace(), ns -> {
            List<PodInfo> out = new ArrayList<>();
            for (PodInfo pod : pods) {
                boolean inNamespace = sel.namespaces() == null ? pod.namespace().equals(ns) : sel.namespaces().matches(labelsOf(pod.namespace()));
                if (inNamespace && (sel.pods() == null || sel.pods().matches(pod.labels()))) out.add(pod);
            }
            return out;
        });
    }

    private Map<String, String> labelsOf(String namespace) {
        Map<String, String> labels = namespaceLabels.get(namespace);
        if (labels != null && labels.containsKey(NAMESPACE_NAME_LABEL)) return labels;
        Map<String, String> withName = new HashMap<>(labels == null ? Map.of() : labels);
        withName.put(NAMESPACE_NAME_LABEL, namespace);
        return withName;
    }

    /** nft names must start with a letter. */
    static String setPrefix(Policy p) {
        return "p" + hash(p.key());
    }

    /** Short, stable names: nft names are limited and pod or policy names are up to 253 characters. */
    static String hash(String key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
