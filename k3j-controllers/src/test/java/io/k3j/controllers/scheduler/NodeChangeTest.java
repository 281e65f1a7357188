package io.k3j.controllers.scheduler;

import static io.k3j.controllers.scheduler.Fixtures.node;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which node updates send parked (unschedulable) pods back for another attempt. */
class NodeChangeTest {

    private static boolean retries(Fixtures.NodeBuilder before, Fixtures.NodeBuilder after) {
        return SchedulerController.mayAdmitMore(before.info(), after.info());
    }

    @Test
    @DisplayName("a heartbeat (new condition timestamps, addresses, images) retries nothing")
    void heartbeatRetriesNothing() {
        Fixtures.NodeBuilder after = node("a");
        ObjectNode status = (ObjectNode) after.json().get("status");
        ((ObjectNode) status.withArray("conditions").get(0)).put("lastHeartbeatTime", "2026-11-26T10:00:00Z");
        status.withArray("addresses").addObject().put("type", "InternalIP").put("address", "10.0.0.1");
        Json.obj(after.json(), "metadata").put("resourceVersion", "42");
        assertThat(retries(node("a"), after)).isFalse();
    }

    @Test
    @DisplayName("a node that only got stricter (cordoned, tainted, NotReady, less allocatable) retries nothing")
    void stricterRetriesNothing() {
        assertThat(retries(node("a"), node("a").unschedulable())).isFalse();
        assertThat(retries(node("a").unschedulable(), node("a").unschedulable().taint("node.kubernetes.io/unschedulable", null, "NoSchedule"))).isFalse();
        assertThat(retries(node("a"), node("a").condition("Ready", "Unknown"))).isFalse();
        assertThat(retries(node("a"), node("a").alloc("cpu", "2"))).isFalse();
    }

    @Test
    @DisplayName("an uncordon, a lost taint, readiness, more allocatable or new labels retry the parked pods")
    void looserRetries() {
        assertThat(retries(node("a").unschedulable(), node("a"))).isTrue();
        assertThat(retries(node("a").taint("dedicated", "db", "NoSchedule"), node("a"))).isTrue();
        assertThat(retries(node("a").condition("Ready", "False"), node("a"))).isTrue();
        assertThat(retries(node("a"), node("a").alloc("cpu", "8"))).isTrue();
        assertThat(retries(node("a"), node("a").alloc("example.com/gpu", "1"))).isTrue();
        assertThat(retries(node("a"), node("a").label("disk", "ssd"))).isTrue();
    }
}
