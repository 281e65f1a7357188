package io.k3j.controllers.scheduler;

import static io.k3j.controllers.scheduler.Fixtures.node;
import static io.k3j.controllers.scheduler.Fixtures.pod;
import static io.k3j.controllers.scheduler.Fixtures.snapshot;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PreemptionTest {

    @Test
    void picksTheNodeWhoseMostImportantVictimMattersLeastAndReprievesWhatItCan() {
        Snapshot s = snapshot(List.of(node("a"), node("b")), Map.of(
                "a", List.of(pod("p1").priority(10).cpu("2"), pod("p2").priority(1).cpu("1").startTime("2024-01-01T00:00:00Z"),
                        pod("p3").priority(1).cpu("1").startTime("2024-01-02T00:00:00Z")),
                "b", List.of(pod("q1").priority(5).cpu("3"), pod("q2").priority(0).cpu("1"))));
        PodInfo urgent = pod("urgent").priority(100).cpu("2").info();

        ScheduleResult r = new SchedulingAlgorithm().schedule(urgent, s);
        assertThat(r.scheduled()).isFalse();
        assertThat(r.fitError().message()).isEqualTo("0/2 nodes are available: 2 Insufficient cpu.");
        // On a, p1 (priority 10) is reprieved and both priority-1 pods go; on b, q1 (priority 5) would have to go.
        assertThat(r.preemption().node()).isEqualTo("a");
        assertThat(r.victims()).extracting(PodInfo::name).containsExactlyInAnyOrder("p2", "p3");
        // The snapshot is left as it was.
        assertThat(s.node("a").pods()).hasSize(3);
        assertThat(Preemption.find(urgent, s)).get().isEqualTo(r.preemption());
    }

    @Test
    void prefersFewerVictimsAtEqualPriority() {
        Snapshot s = snapshot(List.of(node("a"), node("b")), Map.of(
                "a", List.of(pod("a1").cpu("1"), pod("a2").cpu("1"), pod("a3").cpu("1"), pod("a4").cpu("1")),
                "b", List.of(pod("b1").cpu("2"), pod("b2").cpu("2"))));
        Preemption.Result r = Preemption.find(pod("p").priority(1).cpu("2").info(), s).orElseThrow();
        assertThat(r.node()).isEqualTo("b");
        assertThat(r.victims()).hasSize(1);
    }

    @Test
    void onlyLowerPriorityPodsAreVictims() {
        Snapshot s = snapshot(List.of(node("a")), Map.of("a", List.of(pod("x").priority(5).cpu("4"))));
        assertThat(Preemption.find(pod("p").priority(5).cpu("1").info(), s)).isEmpty();
        assertThat(Preemption.find(pod("p").priority(6).cpu("1").info(), s)).get()
                .extracting(Preemption.Result::victims).asList().hasSize(1);
    }

    @Test
    void nothingToPlanWhenThePodFitsSomewhere() {
        Snapshot s = snapshot(List.of(node("a"), node("b")), Map.of("a", List.of(pod("x").priority(0).cpu("4"))));
        assertThat(Preemption.find(pod("p").priority(10).cpu("1").info(), s)).isEmpty();
    }

    @Test
    void preemptionPolicyNeverNeverPreempts() {
        Snapshot s = snapshot(List.of(node("a")), Map.of("a", List.of(pod("x").priority(0).cpu("4"))));
        PodInfo p = pod("p").priority(1000).preemptNever().cpu("1").info();
        assertThat(Preemption.find(p, s)).isEmpty();
        assertThat(new SchedulingAlgorithm().schedule(p, s).fitError().message())
                .isEqualTo("0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..");
    }

    @Test
    void evictingAnAntiAffinityPeerMakesRoom() {
        Snapshot s = snapshot(List.of(node("a")), Map.of("a", List.of(pod("old").label("app", "db").priority(0))));
        PodInfo p = pod("new").priority(10).podAffinity(true, true, 0, "kubernetes.io/hostname", "app", "db").info();
        Preemption.Result r = Preemption.find(p, s).orElseThrow();
        assertThat(r.victims()).extracting(PodInfo::name).containsExactly("old");
    }
}
