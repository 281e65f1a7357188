package io.k3j.controllers.scheduler;

import static io.k3j.controllers.scheduler.Fixtures.node;
import static io.k3j.controllers.scheduler.Fixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.api.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class SnapshotTest {

    @Test
    void buildAccountsAssignedLivePodsOnly() {
        var done = pod("done").cpu("1").nodeName("b").json();
        Json.obj(done, "status").put("phase", "Succeeded");
        Snapshot s = Snapshot.build(List.of(node("b").json(), node("a").json()),
                List.of(pod("run").cpu("1").nodeName("a").json(), done, pod("pending").cpu("1").json(),
                        pod("ghost").cpu("1").nodeName("gone").json()), null, null);
        assertThat(s.nodes()).extracting(NodeInfo::name).containsExactly("a", "b");
        assertThat(s.node("a").pods()).extracting(PodInfo::name).containsExactly("run");
        assertThat(s.node("a").requestedMilliCpu()).isEqualTo(1000);
        assertThat(s.node("b").pods()).isEmpty();
    }

    @Test
    void assumeAndForgetKeepTheSumsRight() {
        Snapshot s = Snapshot.of(List.of(node("a").info(), node("b").info()), null, null);
        PodInfo p = pod("p").cpu("1500m").mem("1Gi").hostPort(80).info();
        s.assume(p, "a");
        assertThat(s.node("a").requestedMilliCpu()).isEqualTo(1500);
        assertThat(s.nodeOf(p).name()).isEqualTo("a");
        s.assume(p, "b"); // moving a pod releases it from the first node
        assertThat(s.node("a").requestedMilliCpu()).isZero();
        assertThat(s.node("b").requestedMemory()).isEqualTo(1L << 30);
        assertThat(SchedulingAlgorithm.filter(pod("q").hostPort(80).info(), s.node("b"), s)).hasSize(1);
        assertThat(s.forget(p)).isTrue();
        assertThat(s.node("b").requestedMilliCpu()).isZero();
        assertThat(SchedulingAlgorithm.filter(pod("q").hostPort(80).info(), s.node("b"), s)).isEmpty();
        assertThat(s.forget(p)).isFalse();
    }

    @Test
    void nodesComeAndGo() {
        Snapshot s = Snapshot.of(List.of(node("b").info()), null, null);
        PodInfo p = pod("p").cpu("1").info();
        s.assume(p, "b");
        s.putNode(node("a").info());
        s.putNode(node("b").alloc("cpu", "8").info()); // an update keeps the node's pods
        assertThat(s.nodes()).extracting(NodeInfo::name).containsExactly("a", "b");
        assertThat(s.node("b").allocatableMilliCpu()).isEqualTo(8000);
        assertThat(s.node("b").requestedMilliCpu()).isEqualTo(1000);
        s.removeNode("b");
        assertThat(s.nodeOf(p)).isNull();
        assertThat(s.nodes()).extracting(NodeInfo::name).containsExactly("a");
    }

    @Test
    void nominatedNodeIsTriedFirst() {
        Snapshot s = Snapshot.of(List.of(node("a").info(), node("b").info(), node("c").info()), null, null);
        var json = pod("p").json();
        Json.obj(json, "status").put("nominatedNodeName", "c");
        ScheduleResult r = new SchedulingAlgorithm().schedule(PodInfo.of(json), s);
        assertThat(r.node()).isEqualTo("c");
        assertThat(r.evaluatedNodes()).isEqualTo(1);
    }
}
