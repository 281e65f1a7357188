package io.k3j.agent.netpol;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector;
import java.util.ArrayList;
import java.util.List;

/**
 * A networking.k8s.io/v1 NetworkPolicy read into what enforcement needs. Absent and empty lists keep their API
 * meaning: a rule without {@code from}/{@code to} admits every peer, one without {@code ports} every port; a policy
 * without rules of a type it has isolates and admits nothing.
 */
record Policy(String namespace, String name, LabelSelector podSelector, boolean ingress, boolean egress,
              List<Rule> ingressRules, List<Rule> egressRules) {

    /** One ingress or egress rule; an empty {@code peers} means every peer, an empty {@code ports} every port. */
    record Rule(List<Peer> peers, List<Port> ports) {
        boolean allPeers() {
            return peers.isEmpty();
        }
    }

    /** A {@code from}/{@code to} entry. */
    sealed interface Peer permits Pods, Block { }

    /**
     * podSelector and/or namespaceSelector. A null {@code namespaces} means the policy's own namespace; a null
     * {@code pods} with a namespace selector means every pod of those namespaces.
     */
    record Pods(LabelSelector pods, LabelSelector namespaces) implements Peer { }

    /** ipBlock: the CIDR without the excepted ones. */
    record Block(IpRange cidr, List<IpRange> except) implements Peer {
        List<IpRange> ranges() {
            return cidr.minus(except);
        }
    }

    /**
     * A port entry: {@code name} set for a named port, else {@code port}..{@code endPort} (0 = every port of the
     * protocol). Protocol in lower case, as nft spells it.
     */
    record Port(String protocol, int port, int endPort, String name) {
        boolean named() {
            return name != null;
        }
    }

    String key() {
        return namespace + "/" + name;
    }

    /** Reads a NetworkPolicy; parts the API server would have refused (bad selectors, CIDRs) match nothing. */
    static Policy of(JsonNode np) {
        JsonNode meta = np.path("metadata");
        JsonNode spec = np.path("spec");
        List<Rule> ingress = rules(spec.path("ingress"), "from");
        List<Rule> egress = rules(spec.path("egress"), "to");
        boolean hasIngress;
        boolean hasEgress;
        JsonNode types = spec.path("policyTypes");
        if (types.isArray() && !types.isEmpty()) {
            hasIngress = false;
            hasEgress = false;
            for (JsonNode t : types) {
                if (t.asText().equals("Ingress")) hasIngress = true;
                if (t.asText().equals("Egress")) hasEgress = true;
            }
        } else {
            // the API's default: Ingress always, Egress when the policy has egress rules
            hasIngress = true;
            hasEgress = spec.path("egress").isArray() && !spec.path("egress").isEmpty();
        }
        LabelSelector selector = spec.has("podSelector") ? selector(spec.get("podSelector")) : LabelSelector.EVERYTHING;
        return new Policy(Json.text(meta, "namespace"), Json.text(meta, "name"), selector, hasIngress, hasEgress,
                hasIngress ? ingress : List.of(), hasEgress ? egress : List.of());
    }

    private static List<Rule> rules(JsonNode list, String peersField) {
        List<Rule> out = new ArrayList<>();
        if (!list.isArray()) return out;
        for (JsonNode r : list) {
            List<Peer> peers = new ArrayList<>();
            boolean anyPeerListed = false;
            for (JsonNode p : r.path(peersField)) {
                anyPeerListed = true;
                Peer peer = peer(p);
                if (peer != null) peers.add(peer);
            }
            if (anyPeerListed && peers.isEmpty()) {
                // every listed peer was unusable: the rule admits nobody, not everybody
                peers.add(new Pods(LabelSelector.NOTHING, null));
            }
            List<Port> ports = new ArrayList<>();
            for (JsonNode p : r.path("ports")) ports.add(port(p));
            out.add(new Rule(List.copyOf(peers), List.copyOf(ports)));
        }
        return List.copyOf(out);
    }

    private static Peer peer(JsonNode p) {
        if (p.hasNonNull("ipBlock")) {
            JsonNode b = p.get("ipBlock");
            try {
                IpRange cidr = IpRange.cidr(b.path("cidr").asText(""));
                List<IpRange> except = new ArrayList<>();
                for (JsonNode e : b.path("except")) except.add(IpRange.cidr(e.asText("")));
                return new Block(cidr, List.copyOf(except));
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        LabelSelector pods = p.hasNonNull("podSelector") ? selector(p.get("podSelector")) : null;
        LabelSelector namespaces = p.hasNonNull("namespaceSelector") ? selector(p.get("namespaceSelector")) : null;
        if (pods == null && namespaces == null) return null;
        return new Pods(pods, namespaces);
    }

    private static Port port(JsonNode p) {
        String protocol = p.path("protocol").asText("TCP").toLowerCase(java.util.Locale.ROOT);
        JsonNode port = p.path("port");
        if (port.isTextual()) return new Port(protocol, 0, 0, port.asText());
        int number = port.isNumber() ? port.asInt() : 0;
        int end = number != 0 && p.path("endPort").isNumber() ? Math.max(number, p.path("endPort").asInt()) : number;
        return new Port(protocol, number, end, null);
    }

    private static LabelSelector selector(JsonNode s) {
        try {
            return LabelSelector.fromJson(s);
        } catch (ApiException e) {
            return LabelSelector.NOTHING;
        }
    }
}
