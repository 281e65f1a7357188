package io.k3j.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class NetworkNamespaceTest {

    @Test
    @DisplayName("a namespace attached to a host bridge gets eth0 with its address and a default route; nsenter keeps the host's /sys/fs/cgroup; delete leaves nothing")
    void attachRunDelete() {
        assumeTrue(Packages.isRoot(), "needs root");
        String hex = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt(1 << 24)).substring(2);
        String net = "10." + ThreadLocalRandom.current().nextInt(200, 255) + "." + ThreadLocalRandom.current().nextInt(256);
        String bridge = "k3jb" + hex;
        String veth = "k3jv" + hex;
        NetworkNamespace ns = NetworkNamespace.create("k3jt-ns-" + hex);
        try {
            assertThrows(IllegalStateException.class, () -> NetworkNamespace.create(ns.name()), "a second one of the same name");
            ns.attach(bridge, net + ".1/24", veth, net + ".2/24");
            assertEquals(List.of("nsenter", "--net=/run/netns/" + ns.name(), "ip", "-4", "addr"), ns.command("ip", "-4", "addr"));
            String addr = ns.run(Duration.ofSeconds(10), "ip", "-4", "-o", "addr", "show", "dev", "eth0").output();
            assertTrue(addr.contains("inet " + net + ".2/24"), addr);
            assertTrue(ns.run(Duration.ofSeconds(10), "ip", "route", "show", "default").output().contains("via " + net + ".1 dev eth0"));
            assertTrue(ns.run(Duration.ofSeconds(10), "ip", "link", "show", "dev", "lo").output().contains("UP"), "lo is up");
            // the host answers on the bridge: the namespace is really wired to it
            Processes.Result ping = ns.run(Duration.ofSeconds(10), "busybox", "ping", "-c", "1", "-W", "2", net + ".1");
            assertTrue(ping.ok(), "the bridge address answers from inside: " + ping.output());
            // only the network namespace changes: the cgroup hierarchy runc needs is still there
            assertTrue(ns.run(Duration.ofSeconds(10), "ls", "/sys/fs/cgroup").output().contains("memory"));
            assertTrue(NetworkNamespace.linkExists(bridge) && NetworkNamespace.linkExists(veth));
        } finally {
            ns.delete(veth);
            NetworkNamespace.deleteLink(bridge);
        }
        assertFalse(NetworkNamespace.exists(ns.name()));
        assertFalse(Files.exists(Path.of("/run/netns", ns.name())));
        assertFalse(NetworkNamespace.linkExists(veth));
        assertFalse(NetworkNamespace.linkExists(bridge));
    }
}
