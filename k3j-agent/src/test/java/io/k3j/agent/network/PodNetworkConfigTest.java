package io.k3j.agent.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PodNetworkConfigTest {

    @Test
    @DisplayName("podCIDR arithmetic: gateway is the first host, the VTEP the network address; bad input is refused")
    void cidrs() {
        Ipv4Cidr c = Ipv4Cidr.parse("10.42.3.0/24");
        assertEquals("10.42.3.1", c.firstHost());
        assertEquals("10.42.3.0", c.networkAddress());
        assertEquals("10.42.3.0/24", Ipv4Cidr.parse("10.42.3.77/24").toString(), "normalised to the network");
        assertEquals("0a:58:0a:2a:03:01", PodNetwork.bridgeMac(c));
        assertThrows(IllegalArgumentException.class, () -> Ipv4Cidr.parse("10.42.3.0"));
        assertThrows(IllegalArgumentException.class, () -> Ipv4Cidr.parse("10.42.300.0/24"));
        assertThrows(IllegalArgumentException.class, () -> Ipv4Cidr.parse("fd00::/64"));
    }

    @Test
    @DisplayName("config: backends by their flag names, vxlan needs the node IP, names are checked")
    void config() {
        assertEquals(PodNetwork.Backend.VXLAN, PodNetwork.Backend.parse("vxlan"));
        assertEquals(PodNetwork.Backend.HOST_GW, PodNetwork.Backend.parse("host-gw"));
        assertThrows(IllegalArgumentException.class, () -> PodNetwork.Backend.parse("wireguard"));
        PodNetwork.Config c = PodNetwork.Config.of("n1", null, "cni0");
        assertEquals(PodNetwork.DEFAULT_TABLE, c.table());
        assertThrows(IllegalArgumentException.class, () -> c.withBackend(PodNetwork.Backend.VXLAN), "vxlan without a node IP");
        assertThrows(IllegalArgumentException.class, () -> PodNetwork.Config.of("n1", "10.0.0.1", "a-bridge-name-too-long"));
        assertThrows(IllegalArgumentException.class, () -> c.withNames("bad table;", "k3j.1"));
        assertEquals("10.42.0.0/24", c.withPodCidr("10.42.0.0/24").podCidr());
    }

    @Test
    @DisplayName("slimNode keeps what routes need (name, podCIDR, addresses, the VXLAN MAC) and drops the rest")
    void slimNode() {
        ObjectNode node = Json.parseObject("""
                {"apiVersion": "v1", "kind": "Node",
                 "metadata": {"name": "n2", "uid": "u", "resourceVersion": "7", "labels": {"a": "b"},
                              "annotations": {"k3j.io/vxlan-mac": "0e:6b:0a:00:00:02", "other": "x"}},
                 "spec": {"podCIDR": "10.42.2.0/24", "podCIDRs": ["10.42.2.0/24"], "taints": []},
                 "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"}], "conditions": [], "images": []}}
                """.getBytes(StandardCharsets.UTF_8));
        ObjectNode slim = PodNetwork.slimNode(node);
        assertEquals("n2", slim.path("metadata").path("name").asText());
        assertEquals("7", slim.path("metadata").path("resourceVersion").asText());
        assertEquals("0e:6b:0a:00:00:02", slim.path("metadata").path("annotations").path(PodNetwork.VXLAN_MAC_ANNOTATION).asText());
        assertFalse(slim.path("metadata").path("annotations").has("other"));
        assertFalse(slim.path("metadata").has("labels"));
        assertEquals("10.42.2.0/24", slim.path("spec").path("podCIDR").asText());
        assertFalse(slim.path("status").has("conditions"));
        assertEquals("10.0.0.2", PodNetwork.internalIp(slim));
    }
}
