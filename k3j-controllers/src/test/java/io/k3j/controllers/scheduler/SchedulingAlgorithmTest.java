package io.k3j.controllers.scheduler;

import static io.k3j.controllers.scheduler.Fixtures.node;
import static io.k3j.controllers.scheduler.Fixtures.pod;
import static io.k3j.controllers.scheduler.Fixtures.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SchedulingAlgorithmTest {

    private final SchedulingAlgorithm algorithm = new SchedulingAlgorithm();

    @Test
    void fitErrorForTaintAndInsufficientCpuMatchesKubeScheduler() {
        Snapshot s = snapshot(node("master").taint("node-role.kubernetes.io/master", null, "NoSchedule"),
                node("w1").alloc("cpu", "1"), node("w2").alloc("cpu", "1"));
        ScheduleResult r = algorithm.schedule(pod("p").cpu("2").info(), s);
        assertThat(r.scheduled()).isFalse();
        // Asking for more than a node has at all is UnschedulableAndUnresolvable: evicting can't help.
        assertThat(r.fitError().message()).isEqualTo("0/3 nodes are available: 1 node(s) had untolerated taint"
                + " {node-role.kubernetes.io/master: }, 2 Insufficient cpu. preemption: 0/3 nodes are available:"
                + " 3 Preemption is not helpful for scheduling..");
        assertThat(r.preemption()).isNull();
    }

    @Test
    void fitErrorWhenNodesAreFullOfEquallyImportantPods() {
        Snapshot s = snapshot(List.of(node("master").taint("node-role.kubernetes.io/master", null, "NoSchedule"),
                node("w1"), node("w2")), Map.of("w1", List.of(pod("a").cpu("3500m")), "w2", List.of(pod("b").cpu("3"))));
        ScheduleResult r = algorithm.schedule(pod("p").cpu("2").info(), s);
        assertThat(r.fitError().message()).isEqualTo("0/3 nodes are available: 1 node(s) had untolerated taint"
                + " {node-role.kubernetes.io/master: }, 2 Insufficient cpu. preemption: 0/3 nodes are available:"
                + " 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..");
    }

    @Test
    void reasonsSortAsTextIncludingTheirCounts() {
        List<Fixtures.NodeBuilder> nodes = new ArrayList<>();
        for (int i = 0; i < 10; i++) nodes.add(node("small-" + i).alloc("cpu", "1"));
        nodes.add(node("t1").taint("a", "b", "NoSchedule"));
        nodes.add(node("t2").taint("a", "b", "NoSchedule"));
        ScheduleResult r = algorithm.schedule(pod("p").cpu("2").preemptNever().info(), snapshot(nodes, Map.of()));
        assertThat(r.fitError().message()).isEqualTo("0/12 nodes are available: 10 Insufficient cpu,"
                + " 2 node(s) had untolerated taint {a: b}. preemption: not eligible due to preemptionPolicy=Never..");
    }

    @Test
    void noNodes() {
        ScheduleResult r = algorithm.schedule(pod("p").info(), Snapshot.of(List.of(), null, null));
        assertThat(r.fitError().message()).isEqualTo("no nodes available to schedule pods");
    }

    @Test
    void prefersTheEmptierNode() {
        Snapshot s = snapshot(List.of(node("busy"), node("idle")), Map.of("busy", List.of(pod("x").cpu("2").mem("4Gi"))));
        for (int i = 0; i < 5; i++) {
            assertThat(algorithm.schedule(pod("p" + i).cpu("100m").mem("128Mi").info(), s).node()).isEqualTo("idle");
        }
    }

    @Test
    void spreadsReplicasOfOneOwnerEvenWhenNodesDiffer() {
        // "big" is roomier, so LeastAllocated alone would stack replicas there; the default spreading
        // constraint (per owner, hostname maxSkew 3 as a score) pulls them apart.
        Snapshot s = snapshot(node("big").alloc("cpu", "8").alloc("memory", "16Gi"), node("n1"), node("n2"));
        Map<String, Integer> perNode = new TreeMap<>();
        for (int i = 0; i < 30; i++) {
            PodInfo p = pod("web-" + i).label("app", "web").owner("rs-1").cpu("10m").mem("16Mi").info();
            ScheduleResult r = algorithm.schedule(p, s);
            s.assume(p, r.node());
            perNode.merge(r.node(), 1, Integer::sum);
        }
        assertThat(perNode.keySet()).containsExactly("big", "n1", "n2");
        assertThat(perNode.values()).allSatisfy(c -> assertThat(c).isBetween(7, 13));
    }

    @Test
    void equalNodesFillEvenly() {
        Snapshot s = snapshot(node("a"), node("b"), node("c"));
        Map<String, Integer> perNode = new HashMap<>();
        for (int i = 0; i < 9; i++) {
            PodInfo p = pod("p" + i).info(); // best-effort pods: every node scores the same
            String n = algorithm.schedule(p, s).node();
            s.assume(p, n);
            perNode.merge(n, 1, Integer::sum);
        }
        assertThat(perNode).containsOnly(Map.entry("a", 3), Map.entry("b", 3), Map.entry("c", 3));
    }

    @Test
    void antiAffinityOnZoneAllowsOneReplicaPerZone() {
        Snapshot s = snapshot(node("a1").zone("z1"), node("a2").zone("z1"), node("b1").zone("z2"), node("b2").zone("z2"));
        List<String> zones = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            PodInfo p = pod("db-" + i).label("app", "db").podAffinity(true, true, 0, "topology.kubernetes.io/zone", "app", "db").info();
            ScheduleResult r = algorithm.schedule(p, s);
            s.assume(p, r.node());
            zones.add(s.node(r.node()).labels().get("topology.kubernetes.io/zone"));
        }
        assertThat(zones).containsExactlyInAnyOrder("z1", "z2");
        PodInfo third = pod("db-2").label("app", "db").podAffinity(true, true, 0, "topology.kubernetes.io/zone", "app", "db").info();
        ScheduleResult r = algorithm.schedule(third, s);
        assertThat(r.fitError().message()).isEqualTo("0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules."
                + " preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod..");
    }

    @Test
    void preferredAffinitiesAndPreferNoScheduleSteerTheChoice() {
        Snapshot s = snapshot(node("a").taint("soft", null, "PreferNoSchedule").label("disk", "ssd"), node("b"), node("c").label("disk", "ssd"));
        assertThat(algorithm.schedule(pod("p").preferredNode(50, "disk", "ssd").info(), s).node()).isEqualTo("c");
        Snapshot t = snapshot(List.of(node("a").zone("z1"), node("b").zone("z2")), Map.of("b", List.of(pod("cache").label("app", "cache"))));
        PodInfo near = pod("web").podAffinity(false, false, 100, "topology.kubernetes.io/zone", "app", "cache").info();
        assertThat(algorithm.schedule(near, t).node()).isEqualTo("b");
        PodInfo far = pod("web").podAffinity(true, false, 100, "topology.kubernetes.io/zone", "app", "cache").info();
        assertThat(algorithm.schedule(far, t).node()).isEqualTo("a");
    }

    @Test
    void softTopologySpreadPrefersTheEmptierZone() {
        Snapshot s = snapshot(List.of(node("a").zone("z1"), node("b").zone("z1"), node("c").zone("z2")),
                Map.of("a", List.of(pod("w0").label("app", "w")), "b", List.of(pod("w1").label("app", "w"))));
        for (int i = 0; i < 3; i++) {
            PodInfo p = pod("w" + (i + 2)).label("app", "w").spread(1, "topology.kubernetes.io/zone", false, "app", "w").info();
            assertThat(algorithm.schedule(p, s).node()).isEqualTo("c");
        }
    }

    @Test
    void percentageOfNodesToScore() {
        assertThat(SchedulingAlgorithm.numFeasibleNodesToFind(0, 50)).isEqualTo(50);
        assertThat(SchedulingAlgorithm.numFeasibleNodesToFind(0, 100)).isEqualTo(100);
        assertThat(SchedulingAlgorithm.numFeasibleNodesToFind(0, 300)).isEqualTo(144); // 48%
        assertThat(SchedulingAlgorithm.numFeasibleNodesToFind(0, 1000)).isEqualTo(420); // 42%
        assertThat(SchedulingAlgorithm.numFeasibleNodesToFind(0, 6000)).isEqualTo(300); // floor of 5%
        assertThat(SchedulingAlgorithm.numFeasibleNodesToFind(10, 500)).isEqualTo(100); // never below 100
        assertThat(SchedulingAlgorithm.numFeasibleNodesToFind(100, 5000)).isEqualTo(5000);
        assertThatThrownBy(() -> new SchedulingAlgorithm(101)).hasMessage("percentageOfNodesToScore : 101 (expected: 0..100)");

        List<Fixtures.NodeBuilder> nodes = new ArrayList<>();
        for (int i = 0; i < 300; i++) nodes.add(node(String.format("n%03d", i)));
        Snapshot s = snapshot(nodes, Map.of());
        ScheduleResult first = algorithm.schedule(pod("p").info(), s);
        assertThat(first.evaluatedNodes()).isEqualTo(144);
        assertThat(first.feasibleNodes()).isEqualTo(144);
        assertThat(first.node()).isLessThan("n144");
        // The next search starts where this one stopped.
        assertThat(algorithm.schedule(pod("q").info(), s).node()).isBetween("n144", "n287");
        // A failing pod is checked against every node.
        ScheduleResult none = algorithm.schedule(pod("r").nodeSelector("x", "y").info(), s);
        assertThat(none.evaluatedNodes()).isEqualTo(300);
        assertThat(none.fitError().message()).startsWith("0/300 nodes are available: 300 node(s) didn't match Pod's node affinity/selector.");
    }
}
