package io.k3j.agent.netpol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.k3j.agent.host.Packages;
import io.k3j.api.Json;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The rendered batches against the kernel: a full table, an element-only update, a stale table adopted, removal. */
class NftRulesetTest {

    private static Policy policy(String yaml) {
        return Policy.of(Json.parseYamlOrJson(yaml.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    @DisplayName("full and incremental batches apply; the kernel's table holds the chains, sets and dispatch maps; remove() deletes it")
    void applies() {
        assumeTrue(Packages.isRoot(), "needs root");
        String table = "k3jt-np-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt(1 << 24)).substring(2);
        List<Policy> policies = List.of(policy("""
                metadata: {namespace: a, name: web}
                spec:
                  podSelector: {matchLabels: {app: server}}
                  policyTypes: [Ingress, Egress]
                  ingress:
                  - from: [{podSelector: {matchLabels: {role: a}}}, {ipBlock: {cidr: 192.168.0.0/16, except: [192.168.1.0/24]}}]
                    ports: [{port: http}, {port: 8000, endPort: 8100}, {protocol: SCTP, port: 7}, {protocol: UDP}]
                  - {}
                  egress:
                  - to: [{namespaceSelector: {}}, {ipBlock: {cidr: "2001:db8::/48"}}]
                    ports: [{port: http}, {protocol: UDP, port: 53}]
                """));
        PodInfo server = new PodInfo("a", "server", Map.of("app", "server"), List.of("10.9.0.10", "fd00::10"), "n1", false, false,
                List.of(new PodInfo.ContainerPort("http", "TCP", 8080)));
        PodInfo client = new PodInfo("a", "client", Map.of("role", "a"), List.of("10.9.0.11"), "n1", false, false,
                List.of(new PodInfo.ContainerPort("http", "TCP", 81)));
        Ruleset first = PolicyCompiler.compile("n1", policies, List.of(server, client), Map.of());
        try {
            Nft.apply(first.full(table));
            String listed = Nft.run(null, "list", "table", "inet", table).output();
            assertTrue(listed.contains("hook forward"), listed);
            assertTrue(listed.contains("10.9.0.10 : jump in-" + PolicyCompiler.hash("a/server")), listed);
            assertTrue(listed.contains("fd00::10 : jump out-" + PolicyCompiler.hash("a/server")), listed);
            assertTrue(listed.contains("10.9.0.11 . tcp . 81"), "egress named port of the peer pod: " + listed);
            assertTrue(listed.contains("tcp dport 8080 accept"), "ingress named port of the selected pod: " + listed);

            PodInfo relabelled = new PodInfo("a", "other", Map.of("role", "a"), List.of("10.9.1.7"), "n2", false, false, List.of());
            Ruleset second = PolicyCompiler.compile("n1", policies, List.of(server, client, relabelled), Map.of());
            String batch = second.incremental(first, table);
            assertNotNull(batch);
            assertTrue(!batch.isEmpty() && !batch.contains("chain"), batch);
            Nft.apply(batch);
            String after = Nft.run(null, "list", "table", "inet", table).output();
            assertTrue(after.contains("10.9.1.7"), after);
            assertNotEquals(listed, after);

            // a stale table from an earlier run is replaced as a whole
            Nft.apply(first.full(table));
            String again = Nft.run(null, "list", "table", "inet", table).output();
            assertTrue(!again.contains("10.9.1.7"), again);
            assertEquals(listed, again);
        } finally {
            NetworkPolicyEnforcer.remove(table);
        }
        assertNotEquals(0, Nft.run(null, "list", "table", "inet", table).exit(), "table removed");
        NetworkPolicyEnforcer.remove(table); // removing what is gone is no error
        assertThrows(Nft.NftException.class, () -> Nft.apply("table inet " + table + " { chain c { bogus } }"));
    }
}
