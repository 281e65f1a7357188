package io.k3j.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.agent.eviction.Thresholds;
import io.k3j.agent.host.Packages;
import io.k3j.agent.testing.Kubectls;
import io.k3j.agent.testing.TestNode;
import io.k3j.api.Json;
import io.k3j.controllers.testing.TestCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Node-pressure eviction on a real node: with a memory threshold this machine always meets
 * ({@code memory.available<1000Gi}), the eviction manager evicts one pod per round, BestEffort before Guaranteed,
 * and reports them as kubelet does (phase Failed, reason Evicted, kubelet's message, an Evicted event).
 */
class EvictionE2ETest {

    @Test
    @DisplayName("under memory pressure the BestEffort pod is evicted first, then the Guaranteed one, as Failed/Evicted")
    void evictsInQosOrder() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root");
        try (TestCluster cluster = TestNode.startCluster()) {
            TestNode node = TestNode.start(cluster, Thresholds.parse("memory.available<1000Gi"));
            try {
                Kubectls k = new Kubectls(Kubectls.DEFAULT, cluster.kubeconfig());
                String manifests = """
                        apiVersion: v1
                        kind: Pod
                        metadata: {name: guaranteed}
                        spec:
                          containers:
                          - name: c
                            image: docker.io/library/busybox:1.35
                            command: [sleep, "3600"]
                            resources:
                              requests: {cpu: 10m, memory: 64Mi}
                              limits: {cpu: 10m, memory: 64Mi}
                        ---
                        apiVersion: v1
                        kind: Pod
                        metadata: {name: besteffort}
                        spec:
                          containers:
                          - name: c
                            image: docker.io/library/busybox:1.35
                            command: [sleep, "3600"]
                        """;
                k.run(manifests.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(30), "apply", "-f", "-").ok();

                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                String first = null;
                while (first == null && System.nanoTime() < deadline) {
                    for (String pod : new String[] {"besteffort", "guaranteed"}) {
                        JsonNode p = Json.parse(k.run("get", "pod", pod, "-o", "json").ok().getBytes(StandardCharsets.UTF_8));
                        if ("Evicted".equals(p.path("status").path("reason").asText()) && first == null) first = pod;
                    }
                    if (first == null) Thread.sleep(500);
                }
                assertEquals("besteffort", first, "the BestEffort pod goes first");
                JsonNode evicted = Json.parse(k.run("get", "pod", "besteffort", "-o", "json").ok().getBytes(StandardCharsets.UTF_8));
                assertEquals("Failed", evicted.path("status").path("phase").asText());
                assertTrue(evicted.path("status").path("message").asText()
                        .startsWith("The node was low on resource: memory. Threshold quantity: 1000Gi, available: "),
                        evicted.path("status").toString());
                assertNotEquals("Evicted", Json.parse(k.run("get", "pod", "guaranteed", "-o", "json").ok()
                        .getBytes(StandardCharsets.UTF_8)).path("status").path("reason").asText(), "one pod per round");
                assertTrue(k.run("get", "events", "--field-selector", "reason=Evicted,involvedObject.name=besteffort").ok()
                        .contains("The node was low on resource: memory"));

                // the next round takes the Guaranteed pod: the threshold is still met
                long next = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                String reason = "";
                while (!"Evicted".equals(reason) && System.nanoTime() < next) {
                    Thread.sleep(1000);
                    reason = Json.parse(k.run("get", "pod", "guaranteed", "-o", "json").ok().getBytes(StandardCharsets.UTF_8))
                            .path("status").path("reason").asText();
                }
                assertEquals("Evicted", reason);
            } finally {
                node.close();
            }
        }
    }
}
