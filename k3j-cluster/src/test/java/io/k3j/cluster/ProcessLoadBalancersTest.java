package io.k3j.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.k3j.cluster.lb.LoadBalancerConfig;
import io.k3j.cluster.spec.NodeRole;
import io.k3j.cluster.spec.PortMapping;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The listeners the cluster tool gives its forwarder process, for clusters with and without a load balancer. */
class ProcessLoadBalancersTest {
    private static final List<ClusterState.NodeState> NODES = List.of(
            node("k3j-c-server-0", NodeRole.SERVER, 0, "10.210.0.2"),
            node("k3j-c-server-1", NodeRole.SERVER, 1, "10.210.0.3"),
            node("k3j-c-agent-0", NodeRole.AGENT, 0, "10.210.0.4"),
            node("k3j-c-agent-1", NodeRole.AGENT, 1, "10.210.0.5"));

    @Test
    @DisplayName("with a load balancer: API to every server, proxy ports to the nodes their filter selects, a :direct port to its one node")
    void withLoadBalancer() {
        ClusterState c = cluster(true, 6445, List.of(PortMapping.parse("8080:80"), PortMapping.parse("8081:80@agent:1"),
                PortMapping.parse("8082:80@agent:1:proxy"), PortMapping.parse("8083:80@server:1:direct"), PortMapping.parse("8084:53/udp@agent:0:direct")));
        assertTrue(ProcessLoadBalancers.needed(c));
        assertEquals(Map.of(
                "api", "tcp 6445 -> [10.210.0.2:6443, 10.210.0.3:6443]",
                "port-8080-tcp", "tcp 8080 -> [10.210.0.2:80, 10.210.0.3:80, 10.210.0.4:80, 10.210.0.5:80]",
                "port-8081-tcp", "tcp 8081 -> [10.210.0.5:80]",
                "port-8082-tcp", "tcp 8082 -> [10.210.0.5:80]",
                "port-8083-tcp", "tcp 8083 -> [10.210.0.3:80]",
                "port-8084-udp", "udp 8084 -> [10.210.0.4:53]"), listeners(ProcessLoadBalancers.config(c)));
    }

    @Test
    @DisplayName("--no-lb: no process at all without :direct ports or --api-port; with them, only those listeners (the API to server-0)")
    void withoutLoadBalancer() {
        ClusterState bare = cluster(false, 0, List.of());
        assertFalse(ProcessLoadBalancers.needed(bare));
        assertEquals("https://10.210.0.2:6443", new ProcessLoadBalancers(null, null).apiServer(bare).toString());

        ClusterState direct = cluster(false, 0, List.of(PortMapping.parse("127.0.0.1:9090:80@agent:0:direct")));
        assertTrue(ProcessLoadBalancers.needed(direct));
        assertEquals(Map.of("port-9090-tcp", "tcp 9090 -> [10.210.0.4:80]"), listeners(ProcessLoadBalancers.config(direct)));
        assertEquals("https://10.210.0.2:6443", new ProcessLoadBalancers(null, null).apiServer(direct).toString());

        ClusterState api = cluster(false, 6550, List.of());
        assertTrue(ProcessLoadBalancers.needed(api));
        assertEquals(Map.of("api", "tcp 6550 -> [10.210.0.2:6443]"), listeners(ProcessLoadBalancers.config(api)));
        assertEquals("https://127.0.0.1:6550", new ProcessLoadBalancers(null, null).apiServer(api).toString());
    }

    private static Map<String, String> listeners(LoadBalancerConfig config) {
        return config.listeners().stream().collect(java.util.stream.Collectors.toMap(LoadBalancerConfig.Listener::name,
                l -> l.protocol().id() + " " + l.port() + " -> " + l.backends()));
    }

    private static ClusterState cluster(boolean lb, int apiPort, List<PortMapping> ports) {
        return new ClusterState("c", "k3j-c", "10.210.0.0/24", "t", "0.0.0.0", apiPort, lb, NODES, List.of(), List.of(), ports);
    }

    private static ClusterState.NodeState node(String name, NodeRole role, int index, String ip) {
        return new ClusterState.NodeState(name, role, index, ip, "v" + index, List.of(), Map.of(), List.of());
    }
}
