package io.k3j.controllers.scheduler;

import static io.k3j.controllers.scheduler.Fixtures.node;
import static io.k3j.controllers.scheduler.Fixtures.pod;
import static io.k3j.controllers.scheduler.Fixtures.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FiltersTest {

    private static List<String> reasons(Fixtures.PodBuilder p, Fixtures.NodeBuilder n) {
        Snapshot s = snapshot(n);
        return SchedulingAlgorithm.filter(p.info(), s.node(n.info().name()), s);
    }

    @Test
    void requestsAreMaxOfContainerSumAndInitContainersPlusOverhead() {
        PodInfo p = pod("p").cpu("100m").mem("64Mi").container("200m", "64Mi").init("500m", "32Mi", false).overhead("10m").info();
        assertThat(p.milliCpu()).isEqualTo(510);
        assertThat(p.memory()).isEqualTo(128L * 1024 * 1024);
        // A sidecar runs alongside the app containers, and before later init containers.
        PodInfo s = pod("s").cpu("100m").mem("1Mi").init("300m", "1Mi", true).init("250m", "1Mi", false).info();
        assertThat(s.milliCpu()).isEqualTo(550);
    }

    @Test
    void nodeUnschedulable() {
        assertThat(reasons(pod("p"), node("n").unschedulable())).containsExactly("node(s) were unschedulable");
        assertThat(reasons(pod("p").tolerate("node.kubernetes.io/unschedulable", "Exists", null, "NoSchedule"),
                node("n").unschedulable())).isEmpty();
    }

    @Test
    void notReadyNodeFailsAsTheNotReadyTaint() {
        assertThat(reasons(pod("p"), node("n").condition("Ready", "False")))
                .containsExactly("node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
        assertThat(reasons(pod("p"), node("n").condition("Ready", "Unknown")))
                .containsExactly("node(s) had untolerated taint {node.kubernetes.io/unreachable: }");
        assertThat(reasons(pod("p").tolerate("node.kubernetes.io/not-ready", "Exists", null, null),
                node("n").condition("Ready", "False"))).isEmpty();
    }

    @Test
    void nodeName() {
        assertThat(reasons(pod("p").nodeName("other"), node("n"))).containsExactly("node(s) didn't match the requested node name");
        assertThat(reasons(pod("p").nodeName("n"), node("n"))).isEmpty();
    }

    @Test
    void taintToleration() {
        Fixtures.NodeBuilder n = node("n").taint("dedicated", "gpu", "NoSchedule");
        assertThat(reasons(pod("p"), n)).containsExactly("node(s) had untolerated taint {dedicated: gpu}");
        assertThat(reasons(pod("p").tolerate("dedicated", "Equal", "gpu", "NoSchedule"), n)).isEmpty();
        assertThat(reasons(pod("p").tolerate("dedicated", "Equal", "cpu", "NoSchedule"), n)).hasSize(1);
        assertThat(reasons(pod("p").tolerate(null, "Exists", null, null), n)).isEmpty();
        // PreferNoSchedule never filters.
        assertThat(reasons(pod("p"), node("m").taint("soft", null, "PreferNoSchedule"))).isEmpty();
    }

    @Test
    void nodeAffinityAndSelector() {
        Fixtures.NodeBuilder n = node("n").label("disk", "ssd").label("gen", "5");
        String err = "node(s) didn't match Pod's node affinity/selector";
        assertThat(reasons(pod("p").nodeSelector("disk", "ssd"), n)).isEmpty();
        assertThat(reasons(pod("p").nodeSelector("disk", "hdd"), n)).containsExactly(err);
        assertThat(reasons(pod("p").requiredNode("disk", "In", "ssd", "nvme"), n)).isEmpty();
        assertThat(reasons(pod("p").requiredNode("disk", "NotIn", "ssd"), n)).containsExactly(err);
        assertThat(reasons(pod("p").requiredNode("gen", "Gt", "4"), n)).isEmpty();
        assertThat(reasons(pod("p").requiredNode("gen", "Lt", "4"), n)).containsExactly(err);
        assertThat(reasons(pod("p").requiredNode("gpu", "DoesNotExist"), n)).isEmpty();
    }

    @Test
    void resourcesFit() {
        Fixtures.NodeBuilder n = node("n").alloc("cpu", "1").alloc("memory", "1Gi").alloc("pods", "1")
                .alloc("ephemeral-storage", "1Gi").alloc("example.com/dongle", "1");
        assertThat(reasons(pod("p").cpu("2"), n)).containsExactly("Insufficient cpu");
        assertThat(reasons(pod("p").cpu("500m").mem("2Gi").request("ephemeral-storage", "2Gi"), n))
                .containsExactly("Insufficient memory", "Insufficient ephemeral-storage");
        assertThat(reasons(pod("p").request("example.com/dongle", "2"), n)).containsExactly("Insufficient example.com/dongle");
        assertThat(reasons(pod("p").cpu("1").mem("1Gi"), n)).isEmpty();
        Snapshot s = snapshot(List.of(n), Map.of("n", List.of(pod("q").cpu("600m"))));
        assertThat(SchedulingAlgorithm.filter(pod("p").cpu("500m").info(), s.node("n"), s))
                .containsExactly("Too many pods", "Insufficient cpu");
    }

    @Test
    void nodePorts() {
        Snapshot s = snapshot(List.of(node("n")), Map.of("n", List.of(pod("web").hostPort(8080))));
        assertThat(SchedulingAlgorithm.filter(pod("p").hostPort(8080).info(), s.node("n"), s))
                .containsExactly("node(s) didn't have free ports for the requested pod ports");
        assertThat(SchedulingAlgorithm.filter(pod("p").hostPort(8081).info(), s.node("n"), s)).isEmpty();
    }

    @Test
    void interPodAntiAffinityOnHostname() {
        Snapshot s = snapshot(List.of(node("a"), node("b")), Map.of("a", List.of(pod("db-0").label("app", "db"))));
        PodInfo p = pod("db-1").label("app", "db").podAffinity(true, true, 0, "kubernetes.io/hostname", "app", "db").info();
        assertThat(SchedulingAlgorithm.filter(p, s.node("a"), s)).containsExactly("node(s) didn't match pod anti-affinity rules");
        assertThat(SchedulingAlgorithm.filter(p, s.node("b"), s)).isEmpty();
    }

    @Test
    void existingPodsAntiAffinityOnZone() {
        Fixtures.PodBuilder guard = pod("guard").podAffinity(true, true, 0, "topology.kubernetes.io/zone", "app", "web");
        Snapshot s = snapshot(List.of(node("a").zone("z1"), node("b").zone("z1"), node("c").zone("z2")),
                Map.of("a", List.of(guard)));
        PodInfo web = pod("web").label("app", "web").info();
        assertThat(SchedulingAlgorithm.filter(web, s.node("b"), s))
                .containsExactly("node(s) didn't satisfy existing pods anti-affinity rules");
        assertThat(SchedulingAlgorithm.filter(web, s.node("c"), s)).isEmpty();
        assertThat(SchedulingAlgorithm.filter(pod("other").label("app", "db").info(), s.node("b"), s)).isEmpty();
    }

    @Test
    void podAffinity() {
        Snapshot s = snapshot(List.of(node("a").zone("z1"), node("b").zone("z2"), node("c")),
                Map.of("a", List.of(pod("cache").label("app", "cache"))));
        PodInfo p = pod("web").podAffinity(false, true, 0, "topology.kubernetes.io/zone", "app", "cache").info();
        assertThat(SchedulingAlgorithm.filter(p, s.node("a"), s)).isEmpty();
        assertThat(SchedulingAlgorithm.filter(p, s.node("b"), s)).containsExactly("node(s) didn't match pod affinity rules");
        assertThat(SchedulingAlgorithm.filter(p, s.node("c"), s)).containsExactly("node(s) didn't match pod affinity rules");
        // The first pod of a self-attracted group may go anywhere the topology key exists.
        PodInfo first = pod("g-0").label("app", "g").podAffinity(false, true, 0, "topology.kubernetes.io/zone", "app", "g").info();
        assertThat(SchedulingAlgorithm.filter(first, s.node("b"), s)).isEmpty();
    }

    @Test
    void topologySpreadSkewAndMissingLabel() {
        // z1 holds two matching pods, z2 none: with maxSkew 1 only z2 accepts another.
        Snapshot s = snapshot(List.of(node("a").zone("z1"), node("b").zone("z2"), node("c")),
                Map.of("a", List.of(pod("w0").label("app", "w"), pod("w1").label("app", "w"))));
        PodInfo p = pod("w2").label("app", "w").spread(1, "topology.kubernetes.io/zone", true, "app", "w").info();
        assertThat(SchedulingAlgorithm.filter(p, s.node("a"), s)).containsExactly("node(s) didn't match pod topology spread constraints");
        assertThat(SchedulingAlgorithm.filter(p, s.node("b"), s)).isEmpty();
        assertThat(SchedulingAlgorithm.filter(p, s.node("c"), s))
                .containsExactly("node(s) didn't match pod topology spread constraints (missing required label)");
        // maxSkew 3: z1 has 2, the minimum is 0, and 2 + 1 - 0 = 3 is allowed.
        PodInfo loose = pod("w3").label("app", "w").spread(3, "topology.kubernetes.io/zone", true, "app", "w").info();
        assertThat(SchedulingAlgorithm.filter(loose, s.node("a"), s)).isEmpty();
    }

    @Test
    void volumeNodeAffinity() {
        ObjectNode claim = Json.object();
        claim.putObject("metadata").put("name", "data").put("namespace", "default");
        claim.putObject("spec").put("volumeName", "pv-local").put("storageClassName", "local");
        ObjectNode pv = Json.object();
        pv.putObject("metadata").put("name", "pv-local");
        ObjectNode term = pv.putObject("spec").putObject("nodeAffinity").putObject("required")
                .putArray("nodeSelectorTerms").addObject();
        term.putArray("matchExpressions").addObject().put("key", "kubernetes.io/hostname").put("operator", "In")
                .putArray("values").add("a");
        ObjectNode unbound = Json.object();
        unbound.putObject("metadata").put("name", "later").put("namespace", "default");
        unbound.putObject("spec").put("storageClassName", "local");
        VolumeLookup lookup = new VolumeLookup() {
            public ObjectNode claim(String ns, String name) {
                return name.equals("data") ? claim : name.equals("later") ? unbound : null;
            }

            public ObjectNode volume(String name) {
                return name.equals("pv-local") ? pv : null;
            }

            public String bindingMode(String cls) {
                return cls.equals("local") ? "WaitForFirstConsumer" : null;
            }
        };
        Snapshot s = Snapshot.of(List.of(node("a").info(), node("b").info()), null, lookup);
        PodInfo p = pod("p").claim("data").claim("later").info();
        assertThat(SchedulingAlgorithm.filter(p, s.node("a"), s)).isEmpty();
        assertThat(SchedulingAlgorithm.filter(p, s.node("b"), s)).containsExactly("node(s) had volume node affinity conflict");
        ScheduleResult r = new SchedulingAlgorithm().schedule(pod("q").claim("missing").info(), s);
        assertThat(r.fitError().message()).isEqualTo("0/2 nodes are available: persistentvolumeclaim \"missing\" not found."
                + " preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..");
    }

    @Test
    void daemonSetCheckIgnoresResourcesButNotTaints() {
        NodeInfo n = node("n").alloc("cpu", "100m").taint("k", "v", "NoExecute").info();
        PodInfo big = pod("ds").cpu("4").info();
        assertThat(n.daemonSetReasons(big)).containsExactly("node(s) had untolerated taint {k: v}");
        assertThat(n.toleratesNoExecute(big)).isFalse();
        PodInfo tolerant = pod("ds").cpu("4").tolerate("k", "Exists", null, "NoExecute").info();
        assertThat(n.daemonSetReasons(tolerant)).isEmpty();
        assertThat(n.toleratesNoExecute(tolerant)).isTrue();
    }
}
