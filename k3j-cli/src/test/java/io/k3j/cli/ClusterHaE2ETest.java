package io.k3j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.k3j.agent.host.NetworkNamespace;
import io.k3j.agent.image.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code k3j cluster create --servers 3}: server-0 starts embedded etcd, the others join it; every server is a
 * control-plane,etcd,master node; a client writing continuously through the load balancer's API port while server-0
 * (first etcd member, first API backend) is killed with -9 gets its writes accepted again within seconds and loses
 * none it was told succeeded; a Deployment scaled after the kill converges on the surviving nodes; server-0 rejoins
 * when started again; delete leaves nothing. Needs root.
 */
class ClusterHaE2ETest {

    @Test
    @DisplayName("3 servers + 1 agent: kill -9 of server-0 under a write load, writes resume, nothing acknowledged is lost, server-0 rejoins")
    void failover() throws Exception {
        String id = ClusterCli.newId();
        String name = "ha" + id;
        Path work = Files.createTempDirectory("k3jha");
        Path root = work.resolve("clusters");
        ClusterCli cli = new ClusterCli(root, work.resolve("kubeconfig"));
        Set<String> netnsBefore = netnsFiles();
        List<String> nodes = List.of("k3j-" + name + "-server-0", "k3j-" + name + "-server-1", "k3j-" + name + "-server-2", "k3j-" + name + "-agent-0");
        try {
            long t0 = System.nanoTime();
            cli.k3j("cluster", "create", name, "--servers", "3", "--agents", "1", "--api-port", "127.0.0.1:" + ClusterCli.freePort(), "--timeout", "300s");
            System.err.printf("ClusterHaE2ETest: cluster create --servers 3 --agents 1 took %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            String roles = cli.kubectl("get", "nodes", "--no-headers", "-o", "custom-columns=N:.metadata.name,R:.status.conditions[?(@.type=='Ready')].status,"
                    + "E:.metadata.labels.node-role\\.kubernetes\\.io/etcd");
            for (String n : nodes) assertTrue(roles.lines().anyMatch(l -> l.startsWith(n + " ") && l.contains("True")), roles);
            for (String n : nodes.subList(0, 3)) assertTrue(roles.lines().anyMatch(l -> l.startsWith(n + " ") && l.strip().endsWith("true")), n + " is an etcd member: " + roles);
            assertEquals(3, cli.kubectl("get", "endpoints", "kubernetes", "-o", "jsonpath={.subsets[*].addresses[*].ip}").trim().split("\\s+").length);

            cli.k3j("image", "import", TestImages.busybox(work.resolve("img")).archive().toString(), "-c", name);
            cli.kubectl("create", "deployment", "app", "--image=docker.io/library/busybox:1.35", "--replicas=2", "--", "sleep", "3600");
            cli.kubectl("rollout", "status", "deployment/app", "--timeout=180s");

            // a writer through the load balancer: every create it is told succeeded must exist afterwards
            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            java.util.Queue<long[]> acks = new java.util.concurrent.ConcurrentLinkedQueue<>(); // {started, done} in nanos
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = Thread.ofVirtual().start(() -> {
                for (int i = 0; !stop.get(); i++) {
                    long started = System.nanoTime();
                    try {
                        cli.kubectl("create", "configmap", "w-" + i, "--request-timeout=3s");
                        acknowledged.add("w-" + i);
                        acks.add(new long[] {started, System.nanoTime()});
                    } catch (AssertionError refusedOrTimedOut) {
                        // not acknowledged: it may or may not exist
                    }
                }
            });
            Thread.sleep(3000);
            long server0 = Long.parseLong(Files.readString(root.resolve(name).resolve("nodes").resolve(nodes.get(0)).resolve("node.pid")).strip());
            int before = acknowledged.size();
            long killed = System.nanoTime();
            ProcessHandle.of(server0).orElseThrow().destroyForcibly();
            // the first write sent after the kill that was acknowledged
            long resumed = -1;
            for (long until = killed + 60_000_000_000L; resumed < 0 && System.nanoTime() < until; Thread.sleep(50)) {
                resumed = acks.stream().filter(a -> a[0] > killed).mapToLong(a -> a[1]).min().orElse(-1);
            }
            long resumedMillis = resumed < 0 ? -1 : (resumed - killed) / 1_000_000;
            System.err.printf("ClusterHaE2ETest: first write sent after the kill -9 of server-0 acknowledged %d ms after it%n", resumedMillis);
            Thread.sleep(3000);
            stop.set(true);
            writer.join(30_000);
            assertTrue(acknowledged.size() > before, "no write acknowledged after the kill");
            // the bar is 5 s; a loaded CI machine gets more room, the figure is printed above
            assertTrue(resumedMillis >= 0 && resumedMillis < 20_000, "writes resumed only " + resumedMillis + " ms after the kill");
            Set<String> present = cli.kubectl("get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}").lines()
                    .flatMap(l -> Stream.of(l.trim().split("\\s+"))).collect(Collectors.toSet());
            List<String> lost = acknowledged.stream().filter(k -> !present.contains(k)).sorted().toList();
            assertTrue(lost.isEmpty(), "acknowledged writes lost: " + lost);

            // scaled after the kill, the Deployment converges on the nodes still up (server-0 is cordoned: its node
            // is still Ready for the 40 s grace period, a pod placed there would wait for it)
            cli.kubectl("cordon", nodes.get(0));
            cli.kubectl("scale", "deployment/app", "--replicas=4");
            cli.kubectl("rollout", "status", "deployment/app", "--timeout=180s");

            long restarted = System.nanoTime();
            cli.k3j("node", "start", nodes.get(0));
            System.err.printf("ClusterHaE2ETest: server-0 Ready again %d ms after its start%n", (System.nanoTime() - restarted) / 1_000_000);
            cli.kubectl("uncordon", nodes.get(0));
            for (long until = System.nanoTime() + 60_000_000_000L; ; Thread.sleep(500)) {
                int n = cli.kubectl("get", "endpoints", "kubernetes", "-o", "jsonpath={.subsets[*].addresses[*].ip}").trim().split("\\s+").length;
                if (n == 3) break;
                if (System.nanoTime() > until) throw new AssertionError("server-0 not back in the kubernetes endpoints");
            }
            assertTrue(cli.kubectl("get", "configmap", "w-0", "-o", "name").contains("w-0"));

            long deleting = System.nanoTime();
            cli.k3j("cluster", "delete", name);
            System.err.printf("ClusterHaE2ETest: cluster delete took %d ms%n", (System.nanoTime() - deleting) / 1_000_000);
            List<String> left = new ArrayList<>();
            for (String n : nodes) if (NetworkNamespace.exists(n)) left.add("netns " + n);
            for (String f : netnsFiles()) if (!netnsBefore.contains(f)) left.add("/run/netns/" + f);
            String marker = root.resolve(name).toString();
            ProcessHandle.allProcesses().forEach(p -> {
                try {
                    if (Files.readString(Path.of("/proc/" + p.pid() + "/cmdline")).contains(marker)) left.add("process " + p.pid());
                } catch (Exception gone) {
                    // exited
                }
            });
            assertTrue(left.isEmpty(), "left behind: " + left);
        } finally {
            if (Files.exists(root.resolve(name))) {
                try {
                    cli.k3j("cluster", "delete", name);
                } catch (AssertionError e) {
                    System.err.println("cleanup: " + e.getMessage());
                }
            }
            ClusterCli.deleteTree(work);
        }
    }

    static Set<String> netnsFiles() {
        try (Stream<Path> s = Files.list(Path.of("/run/netns"))) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        } catch (java.io.IOException e) {
            return Set.of();
        }
    }
}
