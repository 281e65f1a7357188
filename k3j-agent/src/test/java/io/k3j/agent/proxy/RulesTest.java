package io.k3j.agent.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Rule generation for each feature, as readable nft snippets. The real kernel runs them in {@link ServiceProxyNetnsTest}. */
class RulesTest {
    static ObjectNode yaml(String y) {
        return (ObjectNode) Json.parseYamlOrJson(y.getBytes(StandardCharsets.UTF_8));
    }

    static ObjectNode service(String extraSpec) {
        return yaml("""
                metadata: {namespace: ns, name: web}
                spec:
                  clusterIP: 10.43.0.20
                  clusterIPs: [10.43.0.20]
                  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
                """ + extraSpec.indent(2));
    }

    /** A slice of port "http"/8080 with endpoints "ip:node:ready[:serving:terminating]". */
    static ObjectNode slice(String... endpoints) {
        StringBuilder eps = new StringBuilder();
        for (String e : endpoints) {
            String[] p = e.split(":");
            eps.append("  - addresses: [").append(p[0]).append("]\n    nodeName: ").append(p[1])
                    .append("\n    conditions: {ready: ").append(p[2]);
            if (p.length > 3) eps.append(", serving: ").append(p[3]).append(", terminating: ").append(p[4]);
            eps.append("}\n");
        }
        return yaml("""
                metadata: {namespace: ns, name: web-abc, labels: {kubernetes.io/service-name: web}}
                addressType: IPv4
                ports: [{name: http, port: 8080, protocol: TCP}]
                endpoints:
                """ + eps);
    }

    static Fragment fragment(ObjectNode svc, ObjectNode... slices) {
        return Rules.fragment(ServicePort.of(svc, List.of(slices), "10.42.0.1"), "n1", "10.42.0.0/16");
    }

    @Test
    void clusterIpBalancesRandomlyAcrossReadyEndpoints() {
        Fragment f = fragment(service(""), slice("10.42.0.5:n1:true", "10.42.1.6:n2:true", "10.42.2.7:n3:true", "10.42.2.8:n3:false"));
        assertEquals(List.of(
                "ip daddr 10.43.0.20 meta l4proto tcp th dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
                "meta l4proto tcp dnat ip to numgen random mod 3 map { 0 : 10.42.0.5 . 8080, 1 : 10.42.1.6 . 8080, 2 : 10.42.2.7 . 8080 }"),
                f.chains.get("svc-ns/web/tcp/80"));
        assertEquals(List.of("svc-ns/web/tcp/80"), List.copyOf(f.chains.keySet()), "no chain per endpoint without affinity");
        assertEquals(java.util.Set.of("10.42.0.5", "10.42.1.6", "10.42.2.7"), f.hairpin, "not ready: not a hairpin candidate");
        assertTrue(Rules.base("t", List.of()).contains(
                "add rule ip t masquerading ct status dnat ip saddr . ip daddr @hairpin-endpoints jump mark-for-masquerade"));
        assertEquals(Map.of("10.43.0.20 . tcp . 80", "goto svc-ns/web/tcp/80"), f.elements.get(Rules.SERVICE_IPS));
        assertFalse(f.elements.containsKey(Rules.NO_ENDPOINT_IPS));
    }

    @Test
    void terminatingServingEndpointsOnlyWhenNoneIsReady() {
        Fragment f = fragment(service(""), slice("10.42.0.5:n1:false:true:true", "10.42.0.6:n1:false:false:true"));
        assertEquals(List.of("ip daddr 10.43.0.20 meta l4proto tcp th dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
                "meta l4proto tcp dnat to 10.42.0.5:8080"), f.chains.get("svc-ns/web/tcp/80"));
        Fragment g = fragment(service(""), slice("10.42.0.5:n1:false:true:true", "10.42.0.7:n1:true"));
        assertEquals("meta l4proto tcp dnat to 10.42.0.7:8080", g.chains.get("svc-ns/web/tcp/80").getLast());
    }

    @Test
    void withoutEndpointsEveryEntryRejects() {
        Fragment f = fragment(service("""
                type: LoadBalancer
                externalIPs: [192.0.2.9]
                ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30080}]
                """), slice("10.42.0.5:n1:false"));
        assertTrue(f.chains.isEmpty());
        assertEquals(Map.of("10.43.0.20 . tcp . 80", "goto reject-chain", "192.0.2.9 . tcp . 80", "goto reject-chain"),
                f.elements.get(Rules.NO_ENDPOINT_IPS));
        assertEquals(Map.of("tcp . 30080", "goto reject-chain"), f.elements.get(Rules.NO_ENDPOINT_NODEPORTS));
        assertTrue(Rules.base("t", List.of("192.168.1.1")).containsAll(List.of(
                "add rule ip t reject-chain meta l4proto tcp reject with tcp reset", "add rule ip t reject-chain reject",
                "add rule ip t filter-prerouting ct state new jump endpoints-check",
                "add rule ip t filter-output ct state new jump endpoints-check")));
    }

    @Test
    void nodePortLoadBalancerAndExternalIpsMasqueradeWithClusterPolicy() {
        ObjectNode svc = service("""
                type: LoadBalancer
                externalIPs: [192.0.2.9]
                ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30080}]
                """);
        svc.set("status", yaml("loadBalancer: {ingress: [{ip: 192.168.5.5}, {ip: 192.168.5.6, ipMode: Proxy}, {hostname: x.example}]}"));
        Fragment f = fragment(svc, slice("10.42.0.5:n1:true"));
        assertEquals(List.of("jump mark-for-masquerade", "goto svc-ns/web/tcp/80"), f.chains.get("ext-ns/web/tcp/80"));
        assertEquals(Map.of("10.43.0.20 . tcp . 80", "goto svc-ns/web/tcp/80", "192.0.2.9 . tcp . 80", "goto ext-ns/web/tcp/80",
                "192.168.5.5 . tcp . 80", "goto ext-ns/web/tcp/80"), f.elements.get(Rules.SERVICE_IPS));
        assertEquals(Map.of("tcp . 30080", "goto ext-ns/web/tcp/80"), f.elements.get(Rules.SERVICE_NODEPORTS));
        assertTrue(Rules.base("t", List.of("192.168.1.1", "192.168.1.2")).contains("add element ip t nodeport-ips { 192.168.1.1, 192.168.1.2 }"));
    }

    @Test
    void externalTrafficPolicyLocalKeepsTheSourceAndUsesLocalEndpoints() {
        ObjectNode svc = service("""
                type: NodePort
                externalTrafficPolicy: Local
                ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30080}]
                """);
        Fragment f = fragment(svc, slice("10.42.0.5:n1:true", "10.42.1.6:n2:true"));
        assertEquals(List.of("ip saddr 10.42.0.0/16 goto svc-ns/web/tcp/80", "fib saddr type local jump mark-for-masquerade",
                "fib saddr type local goto svc-ns/web/tcp/80", "goto svl-ns/web/tcp/80"), f.chains.get("ext-ns/web/tcp/80"));
        assertEquals("meta l4proto tcp dnat to 10.42.0.5:8080", f.chains.get("svl-ns/web/tcp/80").getLast());
        assertTrue(f.chains.get("svc-ns/web/tcp/80").getLast().startsWith("meta l4proto tcp dnat ip to numgen random mod 2 map"));
        // no endpoint on this node: outside clients are dropped, pods and the host still get the others
        Fragment none = fragment(svc, slice("10.42.1.6:n2:true"));
        assertEquals("drop", none.chains.get("ext-ns/web/tcp/80").getLast());
        assertFalse(none.chains.containsKey("svl-ns/web/tcp/80"));
    }

    @Test
    void internalTrafficPolicyLocal() {
        ObjectNode svc = service("internalTrafficPolicy: Local");
        Fragment f = fragment(svc, slice("10.42.0.5:n1:true", "10.42.1.6:n2:true"));
        assertEquals(Map.of("10.43.0.20 . tcp . 80", "goto svl-ns/web/tcp/80"), f.elements.get(Rules.SERVICE_IPS));
        assertEquals("meta l4proto tcp dnat to 10.42.0.5:8080", f.chains.get("svl-ns/web/tcp/80").getLast());
        Fragment none = fragment(svc, slice("10.42.1.6:n2:true"));
        assertEquals(Map.of("10.43.0.20 . tcp . 80", "drop"), none.elements.get(Rules.NO_ENDPOINT_IPS));
        assertFalse(none.elements.containsKey(Rules.SERVICE_IPS));
    }

    @Test
    void sessionAffinityClientIpUsesTimedSetsPerEndpoint() {
        ObjectNode svc = service("""
                sessionAffinity: ClientIP
                sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
                """);
        Fragment f = fragment(svc, slice("10.42.0.5:n1:true", "10.42.0.6:n1:true"));
        assertEquals(List.of(
                "ip daddr 10.43.0.20 meta l4proto tcp th dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
                "ip saddr @aff-60-ns/web/tcp/80__10.42.0.5/8080 goto ep-ns/web/tcp/80__10.42.0.5/8080",
                "ip saddr @aff-60-ns/web/tcp/80__10.42.0.6/8080 goto ep-ns/web/tcp/80__10.42.0.6/8080",
                "numgen random mod 2 vmap { 0 : goto ep-ns/web/tcp/80__10.42.0.5/8080, 1 : goto ep-ns/web/tcp/80__10.42.0.6/8080 }"),
                f.chains.get("svc-ns/web/tcp/80"));
        assertEquals("{ type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }", f.sets.get("aff-60-ns/web/tcp/80__10.42.0.5/8080"));
        assertEquals(List.of("update @aff-60-ns/web/tcp/80__10.42.0.5/8080 { ip saddr }", "meta l4proto tcp dnat to 10.42.0.5:8080"),
                f.chains.get("ep-ns/web/tcp/80__10.42.0.5/8080"));
        Fragment dflt = fragment(service("sessionAffinity: ClientIP"), slice("10.42.0.5:n1:true"));
        assertTrue(dflt.sets.containsKey("aff-10800-ns/web/tcp/80__10.42.0.5/8080"), "default timeout 10800 s");
    }

    @Test
    void externalNameAndHeadlessServicesGetNoRules() {
        assertTrue(ServicePort.of(yaml("""
                metadata: {namespace: ns, name: ext}
                spec: {type: ExternalName, externalName: example.com, ports: [{port: 80}]}
                """), List.of(), "10.42.0.1").isEmpty());
        assertTrue(ServicePort.of(yaml("""
                metadata: {namespace: ns, name: web}
                spec: {clusterIP: None, clusterIPs: [None], ports: [{name: http, port: 80}]}
                """), List.of(slice("10.42.0.5:n1:true")), "10.42.0.1").isEmpty());
    }

    @Test
    void nodeLocalServicesGoToThisNodesGatewayWithoutMasquerade() {
        ObjectNode dns = yaml("""
                metadata: {namespace: kube-system, name: kube-dns, annotations: {k3j.io/node-local: "true"}}
                spec:
                  clusterIP: 10.43.0.10
                  ports: [{name: dns, port: 53, protocol: UDP, targetPort: 53}, {name: dns-tcp, port: 53, protocol: TCP, targetPort: 5353}]
                """);
        Fragment f = fragment(dns);
        assertEquals(List.of("meta l4proto udp dnat to 10.42.0.1:53"), f.chains.get("svc-kube-system/kube-dns/udp/53"));
        assertEquals(List.of("meta l4proto tcp dnat to 10.42.0.1:5353"), f.chains.get("svc-kube-system/kube-dns/tcp/53"));
        assertTrue(f.hairpin.isEmpty(), "the gateway is this host: nothing to masquerade");
        assertEquals(Map.of("10.43.0.10 . udp . 53", "goto svc-kube-system/kube-dns/udp/53", "10.43.0.10 . tcp . 53",
                "goto svc-kube-system/kube-dns/tcp/53"), f.elements.get(Rules.SERVICE_IPS));
        assertTrue(ServicePort.of(dns, List.of(), null).isEmpty(), "no gateway address yet: no rules");
    }

    @Test
    void updatesRewriteOnlyWhatChanged() {
        ObjectNode sticky = service("sessionAffinity: ClientIP");
        Fragment before = fragment(sticky, slice("10.42.0.5:n1:true", "10.42.0.6:n1:true"));
        Fragment after = fragment(sticky, slice("10.42.0.5:n1:true", "10.42.0.7:n1:true"));
        String tx = Transaction.diff("t", Map.of("ns/web", before), Map.of("ns/web", after), List.of("10.42.0.7"), List.of("10.42.0.6"));
        assertEquals("""
                delete element ip t hairpin-endpoints { 10.42.0.6 . 10.42.0.6 }
                flush chain ip t ep-ns/web/tcp/80__10.42.0.6/8080
                flush chain ip t svc-ns/web/tcp/80
                add set ip t aff-10800-ns/web/tcp/80__10.42.0.7/8080 { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
                add chain ip t ep-ns/web/tcp/80__10.42.0.7/8080
                add rule ip t ep-ns/web/tcp/80__10.42.0.7/8080 update @aff-10800-ns/web/tcp/80__10.42.0.7/8080 { ip saddr }
                add rule ip t ep-ns/web/tcp/80__10.42.0.7/8080 meta l4proto tcp dnat to 10.42.0.7:8080
                add rule ip t svc-ns/web/tcp/80 ip daddr 10.43.0.20 meta l4proto tcp th dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade
                add rule ip t svc-ns/web/tcp/80 ip saddr @aff-10800-ns/web/tcp/80__10.42.0.5/8080 goto ep-ns/web/tcp/80__10.42.0.5/8080
                add rule ip t svc-ns/web/tcp/80 ip saddr @aff-10800-ns/web/tcp/80__10.42.0.7/8080 goto ep-ns/web/tcp/80__10.42.0.7/8080
                add rule ip t svc-ns/web/tcp/80 numgen random mod 2 vmap { 0 : goto ep-ns/web/tcp/80__10.42.0.5/8080, 1 : goto ep-ns/web/tcp/80__10.42.0.7/8080 }
                add element ip t hairpin-endpoints { 10.42.0.7 . 10.42.0.7 }
                delete chain ip t ep-ns/web/tcp/80__10.42.0.6/8080
                delete set ip t aff-10800-ns/web/tcp/80__10.42.0.6/8080
                """, tx);
        assertEquals("", Transaction.diff("t", Map.of("ns/web", after), Map.of("ns/web", after)));
        String gone = Transaction.diff("t", Map.of("ns/web", after), Map.of("ns/web", Fragment.EMPTY));
        assertTrue(gone.startsWith("delete element ip t service-ips { 10.43.0.20 . tcp . 80 }\n"), gone);
        assertTrue(gone.contains("flush chain ip t svc-ns/web/tcp/80\n") && gone.endsWith("delete set ip t aff-10800-ns/web/tcp/80__10.42.0.7/8080\n"), gone);
    }

    @Test
    void localhostNodePortsDispatchOnLoopbackAndGuardAgainstMartians() {
        List<String> on = Rules.base("t", List.of("192.168.1.1"), true);
        assertTrue(on.contains("add rule ip t services ip daddr 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports"), on.toString());
        assertTrue(on.contains("add rule ip t endpoints-check ip daddr 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports"));
        assertTrue(on.contains("add rule ip t filter-prerouting iifname != \"lo\" ip daddr 127.0.0.0/8 drop"), "CVE-2020-8558");
        assertTrue(on.indexOf("add rule ip t filter-prerouting iifname != \"lo\" ip daddr 127.0.0.0/8 drop")
                < on.indexOf("add rule ip t filter-prerouting ct state new jump endpoints-check"), "the guard comes first");
        List<String> off = Rules.base("t", List.of("192.168.1.1"), false);
        assertFalse(off.stream().anyMatch(l -> l.contains("127.0.0.0/8")), off.toString());
    }

    @Test
    void udpPortsRecordWhereClientsSendAndWhichEndpointsAnswer() {
        ObjectNode svc = yaml("""
                metadata: {namespace: ns, name: dns}
                spec:
                  type: LoadBalancer
                  clusterIP: 10.43.0.10
                  ports: [{name: dns, port: 53, protocol: UDP, nodePort: 30053}, {name: tcp, port: 53, protocol: TCP, nodePort: 30054}]
                status: {loadBalancer: {ingress: [{ip: 192.168.1.50}]}}
                """);
        ObjectNode slice = yaml("""
                metadata: {namespace: ns, name: dns-1, labels: {kubernetes.io/service-name: dns}}
                addressType: IPv4
                ports: [{name: dns, port: 5353, protocol: UDP}, {name: tcp, port: 5353, protocol: TCP}]
                endpoints:
                - {addresses: [10.42.0.5], nodeName: n1, conditions: {ready: true}}
                - {addresses: [10.42.1.6], nodeName: n2, conditions: {ready: false}}
                """);
        Fragment f = fragment(svc, slice);
        assertEquals(Map.of("10.43.0.10:53", java.util.Set.of("10.42.0.5"), "192.168.1.50:53", java.util.Set.of("10.42.0.5"),
                ":30053", java.util.Set.of("10.42.0.5")), f.udp, "UDP only, ready endpoints only");
        assertTrue(fragment(svc).udp.isEmpty(), "no endpoints: nothing to flush later");
    }

    @Test
    void loadBalancerSourceRangesFenceOnlyTheLoadBalancerAddresses() {
        ObjectNode svc = service("""
                type: LoadBalancer
                loadBalancerSourceRanges: [192.168.5.7/24, 10.0.0.0/8, "2001:db8::/32", bogus]
                """);
        svc.putObject("status").putObject("loadBalancer").putArray("ingress").addObject().put("ip", "192.168.1.50");
        ((ObjectNode) svc.at("/spec/ports/0")).put("nodePort", 30080);
        Fragment f = fragment(svc, slice("10.42.0.5:n1:true"));
        assertEquals(List.of("ip saddr { 192.168.5.0/24, 10.0.0.0/8 } return", "drop"), f.chains.get("fw-ns/web/tcp/80"),
                "host bits cleared, IPv6 and malformed ranges left out");
        assertEquals(Map.of("192.168.1.50 . tcp . 80", "goto fw-ns/web/tcp/80"), f.elements.get(Rules.FIREWALL_IPS));

        ObjectNode annotated = service("type: LoadBalancer");
        annotated.withObjectProperty("metadata").putObject("annotations")
                .put("service.beta.kubernetes.io/load-balancer-source-ranges", "172.16.0.0/12, 10.1.2.3/32");
        annotated.putObject("status").putObject("loadBalancer").putArray("ingress").addObject().put("ip", "192.168.1.50");
        assertEquals(List.of("ip saddr { 172.16.0.0/12, 10.1.2.3/32 } return", "drop"),
                fragment(annotated, slice("10.42.0.5:n1:true")).chains.get("fw-ns/web/tcp/80"), "the annotation when the field is empty");

        ObjectNode noLb = service("type: LoadBalancer\nloadBalancerSourceRanges: [10.0.0.0/8]");
        assertFalse(fragment(noLb, slice("10.42.0.5:n1:true")).elements.containsKey(Rules.FIREWALL_IPS), "no LB address yet: nothing to fence");
    }

    @Test
    void ipv6ClusterIpsAreIgnoredAndAnIpv6OnlyServiceGetsNoRules() {
        ObjectNode dual = yaml("""
                metadata: {namespace: ns, name: web}
                spec:
                  type: NodePort
                  clusterIP: 10.43.0.20
                  clusterIPs: [10.43.0.20, "fd00:43::20"]
                  ipFamilies: [IPv4, IPv6]
                  ipFamilyPolicy: PreferDualStack
                  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30080}]
                """);
        ObjectNode v6slice = yaml("""
                metadata: {namespace: ns, name: web-v6, labels: {kubernetes.io/service-name: web}}
                addressType: IPv6
                ports: [{name: http, port: 8080, protocol: TCP}]
                endpoints: [{addresses: ["fd00:42::5"], nodeName: n1, conditions: {ready: true}}]
                """);
        List<ServicePort> ports = ServicePort.of(dual, List.of(slice("10.42.0.5:n1:true"), v6slice), "10.42.0.1");
        assertEquals(1, ports.size());
        assertEquals(List.of("10.43.0.20"), ports.getFirst().clusterIps());
        assertEquals(List.of("10.42.0.5"), ports.getFirst().endpoints().stream().map(ServicePort.Endpoint::ip).toList());
        Fragment f = fragment(dual, slice("10.42.0.5:n1:true"), v6slice);
        assertFalse(f.toString().contains("fd00"), f.toString());
        // nft accepts the batch: every address in it is IPv4
        assertTrue(f.toString().contains("10.43.0.20 . tcp . 80"));

        ObjectNode v6only = yaml("""
                metadata: {namespace: ns, name: web}
                spec:
                  type: NodePort
                  clusterIP: "fd00:43::20"
                  clusterIPs: ["fd00:43::20"]
                  ipFamilies: [IPv6]
                  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30080}]
                """);
        assertEquals(List.of(), ServicePort.of(v6only, List.of(v6slice), "10.42.0.1"),
                "not rejected on the IPv4 node port either: the IPv4 proxy leaves it alone");
    }
}
