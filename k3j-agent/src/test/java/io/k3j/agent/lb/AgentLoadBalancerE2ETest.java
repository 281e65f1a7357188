package io.k3j.agent.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.k3j.agent.eviction.Thresholds;
import io.k3j.agent.host.Packages;
import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.agent.testing.TestNode;
import io.k3j.controllers.testing.TestCluster;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A real node (containerd and all) with its API load balancer: everything it says to the API goes through it. */
class AgentLoadBalancerE2ETest {

    @Test
    @DisplayName("a node with --lb-server-port joins and reports through 127.0.0.1:<lb port>, learns the server and saves it")
    void nodeTalksThroughItsLoadBalancer() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root");
        try (TestCluster cluster = TestNode.startCluster()) {
            TestNode node = TestNode.start(cluster, Thresholds.DEFAULTS, c -> c.withLbServerPort(0));
            try {
                ApiLoadBalancer lb = node.agent().loadBalancer().orElseThrow();
                // Ready means its heartbeats and status reached the server: through the load balancer, the only URL it has
                assertThat(((HttpKubeClient) node.agent().client()).server()).isEqualTo(lb.url());
                assertThat(Files.readString(node.agent().config().dataDir().resolve("etc/kubelet.kubeconfig")))
                        .contains("server: " + lb.url());
                ServerAddress server = new ServerAddress("127.0.0.1", cluster.controlPlane().port());
                ApiLoadBalancerClusterTest.awaitTrue("the server learnt", () -> lb.servers().equals(List.of(server)));
                assertThat(lb.current()).contains(server);
                ApiLoadBalancerClusterTest.awaitTrue("the list saved",
                        () -> ApiLoadBalancerClusterTest.saved(node.agent().config().lbStateFile()).contains(server.toString()));
            } finally {
                node.close();
            }
        }
    }
}
