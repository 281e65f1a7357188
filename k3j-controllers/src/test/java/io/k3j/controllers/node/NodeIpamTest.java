package io.k3j.controllers.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.TestCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class NodeIpamTest {
    static String cidr(TestCluster c, String node) {
        ObjectNode n = c.get("", "v1", "nodes", "", node);
        return n == null ? "" : Json.text(n.get("spec"), "podCIDR");
    }

    static void awaitCidr(TestCluster c, String node, String cidr) {
        c.await(node + " to get " + cidr, Duration.ofSeconds(20), () -> cidr.equals(cidr(c, node)));
        ObjectNode n = c.get("", "v1", "nodes", "", node);
        assertThat(n.path("spec").path("podCIDRs").get(0).asText()).isEqualTo(cidr);
        assertThat(n.path("spec").path("podCIDRs").size()).isEqualTo(1);
    }

    @Test
    @DisplayName("nodes get consecutive /24s of the cluster CIDR; exhaustion is an event; a deleted node's block goes to a waiting node")
    void allocateExhaustRelease() throws Exception {
        try (TestCluster c = TestCluster.start(List.of(NodeControllers.ipam()), cfg -> cfg.withCidrs("10.42.0.0/22", "10.43.0.0/16"));
             FakeNodes nodes = new FakeNodes(c.api())) {
            nodes.add("n1");
            awaitCidr(c, "n1", "10.42.0.0/24");
            nodes.add("n2");
            awaitCidr(c, "n2", "10.42.1.0/24");
            // a node that brings its own block keeps it, and the allocator will not hand it out again
            c.create("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"own\"},\"spec\":{\"podCIDR\":\"10.42.2.0/24\",\"podCIDRs\":[\"10.42.2.0/24\"]}}");
            nodes.add("n3");
            awaitCidr(c, "n3", "10.42.3.0/24");
            assertThat(cidr(c, "own")).isEqualTo("10.42.2.0/24");

            nodes.add("n4");
            c.await("a CIDRNotAvailable event for n4", Duration.ofSeconds(20), () -> c.list("", "v1", "events", "default").stream()
                    .anyMatch(e -> Json.text(e, "reason").equals("CIDRNotAvailable") && e.path("involvedObject").path("name").asText().equals("n4")
                            && Json.text(e, "message").equals("Node n4 status is now: CIDRNotAvailable")));
            assertThat(cidr(c, "n4")).isEmpty();

            nodes.delete("n2");
            awaitCidr(c, "n4", "10.42.1.0/24");
            nodes.delete("own");
            nodes.add("n5");
            awaitCidr(c, "n5", "10.42.2.0/24");
        }
    }
}
