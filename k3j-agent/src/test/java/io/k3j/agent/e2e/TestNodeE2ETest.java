package io.k3j.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.k3j.agent.host.Packages;
import io.k3j.agent.testing.Kubectls;
import io.k3j.agent.testing.TestNode;
import io.k3j.controllers.testing.TestCluster;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The fixture itself: a node joins, advertises its ephemeral kubelet port, runs a pod, and leaves nothing behind. */
class TestNodeE2ETest {

    @Test
    @DisplayName("a TestNode becomes Ready, advertises its bound kubelet port, runs a busybox pod; close() leaves no process, bridge, mount or dir")
    void lifecycle() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root");
        try (TestCluster cluster = TestNode.startCluster()) {
            TestNode node = TestNode.start(cluster);
            try {
                int port = node.nodeObject().path("status").path("daemonEndpoints").path("kubeletEndpoint").path("Port").asInt();
                assertNotEquals(0, node.agent().kubeletPort());
                assertEquals(node.agent().kubeletPort(), port, "the Node advertises the port the kubelet API bound");
                assertFalse(node.nodeObject().path("spec").path("podCIDR").asText().isEmpty());

                Kubectls k = new Kubectls(Kubectls.DEFAULT, cluster.kubeconfig());
                k.run("run", "hello", "--image=docker.io/library/busybox:1.35", "--restart=Never", "--", "sh", "-c", "echo hello from k3j; sleep 3600").ok();
                k.run("wait", "--for=condition=Ready", "pod/hello", "--timeout=60s").ok();
                assertEquals("hello from k3j\n", k.run("logs", "hello").ok());
                assertTrue(node.bridgeExists(), "the pod network's bridge");
                assertTrue(node.processes().size() >= 2, "containerd and a shim: " + node.processes());
            } finally {
                node.close();
            }
            assertFalse(Files.exists(node.dir()));
            assertTrue(node.processes().isEmpty());
            assertThrows(Exception.class, () -> new java.net.Socket("127.0.0.1", node.agent().kubeletPort()).close(),
                    "the kubelet API is closed");
        }
    }
}
