package io.k3j.agent.netpol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Policy evaluation: policies, pods and namespaces compiled into the rule model, then asked — through the model's
 * own evaluation of its chains and sets — which connections pass. The model is what is rendered into nft (proved
 * against the kernel in NftRulesetTest and NetworkPolicyE2ETest).
 */
class PolicyCompilerTest {
    private static final String NODE = "n1";

    private final List<PodInfo> pods = new ArrayList<>();
    private final List<Policy> policies = new ArrayList<>();
    private final Map<String, Map<String, String>> namespaces = new HashMap<>();

    private PodInfo pod(String ns, String name, String node, String ip, Map<String, String> labels, PodInfo.ContainerPort... ports) {
        PodInfo p = new PodInfo(ns, name, labels, List.of(ip), node, false, false, List.of(ports));
        pods.add(p);
        return p;
    }

    private void policy(String yaml) {
        JsonNode np = Json.parseYamlOrJson(yaml.getBytes(StandardCharsets.UTF_8));
        policies.add(Policy.of(np));
    }

    private Ruleset compile() {
        return PolicyCompiler.compile(NODE, policies, pods, namespaces);
    }

    /** server 10.0.0.10 (ns a, app=server, on this node), clients in a and b, one pod on another node. */
    private void world() {
        namespaces.put("a", Map.of("kubernetes.io/metadata.name", "a"));
        namespaces.put("b", Map.of("kubernetes.io/metadata.name", "b", "team", "x"));
        namespaces.put("c", Map.of("kubernetes.io/metadata.name", "c"));
        pod("a", "server", NODE, "10.0.0.10", Map.of("app", "server"), new PodInfo.ContainerPort("http", "TCP", 8080));
        pod("a", "client-a", NODE, "10.0.0.11", Map.of("role", "a"));
        pod("a", "client-b", NODE, "10.0.0.12", Map.of("role", "b"));
        pod("b", "client-c", NODE, "10.0.0.13", Map.of("role", "a"));
        pod("c", "client-d", "n2", "10.0.1.14", Map.of("role", "a"));
        pod("a", "remote-server", "n2", "10.0.1.20", Map.of("app", "server"));
    }

    @Test
    @DisplayName("without policies nothing is isolated and the table has no pod chains")
    void noPolicies() {
        world();
        Ruleset r = compile();
        assertTrue(r.chains().isEmpty());
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 8080));
        assertTrue(r.allows("10.0.0.10", "10.0.0.11", "udp", 53));
    }

    @Test
    @DisplayName("default-deny ingress (empty podSelector, no rules) isolates every local pod of its namespace, only for ingress")
    void defaultDenyIngress() {
        world();
        policy("""
                metadata: {namespace: a, name: deny}
                spec: {podSelector: {}}
                """);
        Ruleset r = compile();
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "tcp", 8080), "same namespace");
        assertFalse(r.allows("10.0.0.13", "10.0.0.10", "tcp", 8080), "other namespace");
        assertFalse(r.allows("192.0.2.1", "10.0.0.10", "icmp", 0), "outside the cluster");
        assertTrue(r.allows("10.0.0.10", "10.0.0.13", "tcp", 80), "egress stays open; client-c (ns b) is not isolated");
        assertEquals(3, r.ingressDispatch().size(), "the three local pods of namespace a: " + r.ingressDispatch());
        assertFalse(r.ingressDispatch().containsKey("10.0.1.20"), "pods of other nodes are enforced there");
        assertTrue(r.egressDispatch().isEmpty());
    }

    @Test
    @DisplayName("an allow rule by podSelector admits the matching pod of the policy's namespace only")
    void podSelector() {
        world();
        policy("""
                metadata: {namespace: a, name: allow-a}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress:
                  - from: [{podSelector: {matchLabels: {role: a}}}]
                """);
        Ruleset r = compile();
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 8080));
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "udp", 9999), "no ports: every port and protocol");
        assertFalse(r.allows("10.0.0.12", "10.0.0.10", "tcp", 8080), "role=b");
        assertFalse(r.allows("10.0.0.13", "10.0.0.10", "tcp", 8080), "role=a but in namespace b");
        assertTrue(r.allows("10.0.0.12", "10.0.0.11", "tcp", 8080), "client-a is not selected by the policy");
    }

    @Test
    @DisplayName("namespaceSelector admits every pod of the labelled namespaces; kubernetes.io/metadata.name always works")
    void namespaceSelector() {
        world();
        namespaces.remove("c"); // the namespace informer lags: its name label is still known
        policy("""
                metadata: {namespace: a, name: from-team-x}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress:
                  - from: [{namespaceSelector: {matchLabels: {team: x}}}]
                  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: c}}}]
                """);
        Ruleset r = compile();
        assertTrue(r.allows("10.0.0.13", "10.0.0.10", "tcp", 8080), "namespace b has team=x");
        assertTrue(r.allows("10.0.1.14", "10.0.0.10", "tcp", 8080), "namespace c by name, from another node");
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "tcp", 8080), "the policy's own namespace is not labelled");
    }

    @Test
    @DisplayName("podSelector and namespaceSelector in one peer are ANDed; in two peers ORed")
    void andVersusOr() {
        world();
        pod("b", "client-e", NODE, "10.0.0.15", Map.of("role", "b"));
        policy("""
                metadata: {namespace: a, name: and}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress:
                  - from: [{namespaceSelector: {matchLabels: {team: x}}, podSelector: {matchLabels: {role: a}}}]
                """);
        Ruleset and = compile();
        assertTrue(and.allows("10.0.0.13", "10.0.0.10", "tcp", 80), "role=a in team=x");
        assertFalse(and.allows("10.0.0.15", "10.0.0.10", "tcp", 80), "role=b in team=x");
        assertFalse(and.allows("10.0.0.11", "10.0.0.10", "tcp", 80), "role=a outside team=x");

        policies.clear();
        policy("""
                metadata: {namespace: a, name: or}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress:
                  - from: [{namespaceSelector: {matchLabels: {team: x}}}, {podSelector: {matchLabels: {role: a}}}]
                """);
        Ruleset or = compile();
        assertTrue(or.allows("10.0.0.13", "10.0.0.10", "tcp", 80));
        assertTrue(or.allows("10.0.0.15", "10.0.0.10", "tcp", 80), "any pod of team=x");
        assertTrue(or.allows("10.0.0.11", "10.0.0.10", "tcp", 80), "role=a of the policy's namespace");
        assertFalse(or.allows("10.0.0.12", "10.0.0.10", "tcp", 80));
    }

    @Test
    @DisplayName("matchExpressions and an empty namespaceSelector (every namespace)")
    void expressions() {
        world();
        policy("""
                metadata: {namespace: a, name: expr}
                spec:
                  podSelector: {matchExpressions: [{key: app, operator: In, values: [server]}]}
                  ingress:
                  - from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: role, operator: NotIn, values: [b]}]}}]
                """);
        Ruleset r = compile();
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 80));
        assertTrue(r.allows("10.0.0.13", "10.0.0.10", "tcp", 80));
        assertTrue(r.allows("10.0.1.14", "10.0.0.10", "tcp", 80));
        assertFalse(r.allows("10.0.0.12", "10.0.0.10", "tcp", 80));
    }

    @Test
    @DisplayName("ipBlock admits its CIDR without the excepted ranges; the peer set holds the disjoint remainder")
    void ipBlock() {
        world();
        policy("""
                metadata: {namespace: a, name: block}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress:
                  - from:
                    - ipBlock: {cidr: 10.0.0.0/24, except: [10.0.0.12/32, 10.0.0.128/25]}
                    - ipBlock: {cidr: 192.168.0.0/16}
                    - ipBlock: {cidr: "2001:db8::/64", except: ["2001:db8::bad/128"]}
                """);
        Ruleset r = compile();
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 80));
        assertFalse(r.allows("10.0.0.12", "10.0.0.10", "tcp", 80), "excepted /32");
        assertFalse(r.allows("10.0.0.200", "10.0.0.10", "tcp", 80), "excepted /25");
        assertTrue(r.allows("192.168.44.1", "10.0.0.10", "tcp", 80));
        assertFalse(r.allows("10.0.1.14", "10.0.0.10", "tcp", 80), "outside");
        String set = "p" + PolicyCompiler.hash("a/block") + "-in0-4";
        assertEquals(List.of("10.0.0.0-10.0.0.11", "10.0.0.13-10.0.0.127", "192.168.0.0-192.168.255.255"),
                r.addrSets().get(set).ranges().stream().map(IpRange::element).toList());
        List<String> v6 = r.addrSets().get("p" + PolicyCompiler.hash("a/block") + "-in0-6").ranges().stream().map(IpRange::element).toList();
        assertEquals(2, v6.size(), v6.toString());
    }

    @Test
    @DisplayName("ports: numbers, endPort ranges, protocols TCP (default), UDP and SCTP")
    void ports() {
        world();
        policy("""
                metadata: {namespace: a, name: ports}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress:
                  - ports: [{port: 80}, {protocol: UDP, port: 53}, {port: 8000, endPort: 8010}, {protocol: SCTP, port: 9}, {protocol: UDP}]
                """);
        Ruleset r = compile();
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 80));
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "tcp", 81));
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "udp", 53));
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "tcp", 53), "53 only for UDP");
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 8005));
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 8010), "endPort is inclusive");
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "tcp", 8011));
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "sctp", 9));
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "udp", 4242), "a protocol without port: all its ports");
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "icmp", 0), "ports listed: other protocols are not admitted");
    }

    @Test
    @DisplayName("an ingress named port resolves against each selected pod's container ports")
    void namedPortIngress() {
        world();
        pod("a", "server2", NODE, "10.0.0.20", Map.of("app", "server"), new PodInfo.ContainerPort("http", "TCP", 9090));
        pod("a", "server3", NODE, "10.0.0.21", Map.of("app", "server"), new PodInfo.ContainerPort("http", "UDP", 8080));
        policy("""
                metadata: {namespace: a, name: named}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress:
                  - ports: [{port: http}]
                """);
        Ruleset r = compile();
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 8080));
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "tcp", 9090));
        assertTrue(r.allows("10.0.0.11", "10.0.0.20", "tcp", 9090));
        assertFalse(r.allows("10.0.0.11", "10.0.0.20", "tcp", 8080));
        assertFalse(r.allows("10.0.0.11", "10.0.0.21", "tcp", 8080), "server3's http is UDP: the TCP name does not resolve");
    }

    @Test
    @DisplayName("an egress named port resolves against each peer pod, and only pods match it")
    void namedPortEgress() {
        world();
        pod("a", "server2", NODE, "10.0.0.20", Map.of("app", "server"), new PodInfo.ContainerPort("http", "TCP", 9090));
        policy("""
                metadata: {namespace: a, name: egress-named}
                spec:
                  podSelector: {matchLabels: {role: a}}
                  policyTypes: [Egress]
                  egress:
                  - to: [{podSelector: {matchLabels: {app: server}}}]
                    ports: [{port: http}]
                  - to: [{ipBlock: {cidr: 10.0.0.0/24}}]
                    ports: [{port: http}]
                """);
        Ruleset r = compile();
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 8080));
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "tcp", 9090));
        assertTrue(r.allows("10.0.0.11", "10.0.0.20", "tcp", 9090));
        assertFalse(r.allows("10.0.0.11", "10.0.0.20", "tcp", 8080));
        assertFalse(r.allows("10.0.0.11", "10.0.0.99", "tcp", 8080), "an address in the ipBlock without a pod has no named ports");
        assertTrue(r.allows("10.0.0.12", "10.0.0.10", "tcp", 1), "role=b is not isolated");
        assertTrue(r.ingressDispatch().isEmpty(), "Egress only: nothing isolated for ingress");
    }

    @Test
    @DisplayName("several policies selecting a pod: allowed traffic is the union of their rules")
    void union() {
        world();
        policy("""
                metadata: {namespace: a, name: p1}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress: [{from: [{podSelector: {matchLabels: {role: a}}}], ports: [{port: 80}]}]
                """);
        policy("""
                metadata: {namespace: a, name: p2}
                spec:
                  podSelector: {}
                  ingress: [{from: [{podSelector: {matchLabels: {role: b}}}], ports: [{port: 81}]}]
                """);
        Ruleset r = compile();
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 80));
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "tcp", 81));
        assertTrue(r.allows("10.0.0.12", "10.0.0.10", "tcp", 81));
        assertFalse(r.allows("10.0.0.12", "10.0.0.10", "tcp", 80));
        assertTrue(r.allows("10.0.0.12", "10.0.0.11", "tcp", 81), "client-a is selected by p2 only");
        assertFalse(r.allows("10.0.0.12", "10.0.0.11", "tcp", 80));
    }

    @Test
    @DisplayName("policyTypes: default adds Egress only with egress rules; explicit types win; egress default-deny")
    void policyTypes() {
        world();
        policy("""
                metadata: {namespace: a, name: egress-rules-default-types}
                spec:
                  podSelector: {matchLabels: {role: a}}
                  egress: [{to: [{podSelector: {matchLabels: {app: server}}}]}]
                """);
        Ruleset r = compile();
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 80));
        assertFalse(r.allows("10.0.0.11", "10.0.0.12", "tcp", 80), "egress isolated by default types");
        assertFalse(r.allows("10.0.0.12", "10.0.0.11", "tcp", 80), "and ingress isolated too (Ingress is always defaulted)");

        policies.clear();
        policy("""
                metadata: {namespace: a, name: ingress-only}
                spec:
                  podSelector: {matchLabels: {role: a}}
                  policyTypes: [Ingress]
                  ingress: [{}]
                  egress: [{to: [{podSelector: {matchLabels: {app: server}}}]}]
                """);
        r = compile();
        assertTrue(r.allows("10.0.0.11", "10.0.0.12", "tcp", 80), "egress rules without the Egress type are ignored");
        assertTrue(r.allows("10.0.0.12", "10.0.0.11", "tcp", 80), "an empty rule admits everything");

        policies.clear();
        policy("""
                metadata: {namespace: a, name: deny-egress}
                spec: {podSelector: {}, policyTypes: [Egress]}
                """);
        r = compile();
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "tcp", 8080));
        assertFalse(r.allows("10.0.0.11", "192.0.2.1", "udp", 53));
        assertTrue(r.allows("10.0.0.13", "10.0.0.10", "tcp", 8080), "namespace b unaffected; ingress of the server open");
    }

    @Test
    @DisplayName("host-network and finished pods are neither targets nor peers")
    void hostNetworkAndTerminal() {
        world();
        pods.add(new PodInfo("a", "host", Map.of("role", "a"), List.of("10.0.9.1"), NODE, true, false, List.of()));
        pods.add(new PodInfo("a", "done", Map.of("role", "a"), List.of("10.0.9.2"), NODE, false, true, List.of()));
        policy("""
                metadata: {namespace: a, name: p}
                spec:
                  podSelector: {}
                  ingress: [{from: [{podSelector: {matchLabels: {role: a}}}]}]
                """);
        Ruleset r = compile();
        assertFalse(r.ingressDispatch().containsKey("10.0.9.1"));
        assertFalse(r.ingressDispatch().containsKey("10.0.9.2"));
        assertFalse(r.allows("10.0.9.1", "10.0.0.10", "tcp", 80));
        assertFalse(r.allows("10.0.9.2", "10.0.0.10", "tcp", 80));
        assertTrue(r.allows("10.0.0.11", "10.0.0.10", "tcp", 80));
    }

    @Test
    @DisplayName("a label change only changes set elements (incremental batch); a newly selected local pod needs a full one")
    void incremental() {
        world();
        policy("""
                metadata: {namespace: a, name: allow-a}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress: [{from: [{podSelector: {matchLabels: {role: a}}}]}]
                """);
        Ruleset before = compile();
        pods.removeIf(p -> p.name().equals("client-b"));
        pod("a", "client-b", NODE, "10.0.0.12", Map.of("role", "a"));
        Ruleset after = compile();
        assertTrue(after.allows("10.0.0.12", "10.0.0.10", "tcp", 80));
        String batch = after.incremental(before, "t");
        assertNotNull(batch);
        String set = "p" + PolicyCompiler.hash("a/allow-a") + "-in0-4";
        assertEquals("flush set inet t " + set + "\nadd element inet t " + set + " { 10.0.0.11-10.0.0.12 }\n", batch);
        assertEquals("", after.incremental(after, "t"));

        pod("a", "server2", NODE, "10.0.0.30", Map.of("app", "server"));
        assertNull(compile().incremental(after, "t"), "a new chain: full rewrite");
    }

    @Test
    @DisplayName("invalid parts (bad CIDR, bad selector) admit nobody rather than everybody")
    void invalid() {
        world();
        policy("""
                metadata: {namespace: a, name: bad}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  ingress:
                  - from: [{ipBlock: {cidr: not-a-cidr}}]
                  - from: [{podSelector: {matchExpressions: [{key: role, operator: Bogus}]}}]
                """);
        Ruleset r = compile();
        assertFalse(r.allows("10.0.0.11", "10.0.0.10", "tcp", 80));
        assertFalse(r.allows("192.0.2.1", "10.0.0.10", "tcp", 80));
    }
}
