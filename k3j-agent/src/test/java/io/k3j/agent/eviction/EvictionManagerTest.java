package io.k3j.agent.eviction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.stats.Stats;
import io.k3j.api.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvictionManagerTest {
    private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");
    private static final long MI = 1024 * 1024;

    @Test
    void parsesKubeletsSpelling() {
        Thresholds t = Thresholds.parse("memory.available<200Mi, nodefs.available<10%");
        assertThat(t.hard()).hasSize(2);
        assertThat(t.hard().get(0).limit(0)).isEqualTo(200 * MI);
        assertThat(t.hard().get(1).limit(1000)).isEqualTo(100);
        assertThat(Thresholds.DEFAULTS.hard()).extracting(h -> h.signal().flagName)
                .containsExactly("memory.available", "nodefs.available", "imagefs.available");
        assertThatThrownBy(() -> Thresholds.parse("memory.free<1Gi")).hasMessageContaining("unknown signal memory.free");
        assertThatThrownBy(() -> Thresholds.parse("memory.available=1Gi")).hasMessageContaining("expected SIGNAL<QUANTITY");
        assertThatThrownBy(() -> Thresholds.parse("nodefs.available<150%")).hasMessageContaining("(0, 100]");
    }

    @Test
    void nothingIsEvictedAboveTheThresholds() {
        EvictionManager m = manager("memory.available<100Mi", List.of());
        assertThat(m.decide(summary(500 * MI, List.of(podStats("a", "c", 50 * MI))), List.of(pod("a", null, 0)))).isEmpty();
    }

    @Test
    void bestEffortGoesFirstThenBurstableAboveItsRequestThenByPriority() {
        EvictionManager m = manager("memory.available<100Mi", List.of());
        // guaranteed-like: uses less than it requested; burstable: above its request; best effort: no request
        List<ObjectNode> pods = List.of(pod("guaranteed", "400Mi", 0), pod("burstable", "10Mi", 0), pod("besteffort", null, 0));
        Stats.Summary s = summary(50 * MI, List.of(podStats("guaranteed", "c", 300 * MI), podStats("burstable", "c", 60 * MI),
                podStats("besteffort", "c", 20 * MI)));
        EvictionManager.Decision d = m.decide(s, pods).orElseThrow();
        // both burstable and besteffort exceed requests at priority 0: the larger excess (60-10=50Mi > 20Mi) goes first
        assertThat(d.name()).isEqualTo("burstable");
        assertThat(d.message()).isEqualTo("The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. "
                + "Container c was using 61440Ki, request is 10240Ki, has larger consumption of memory.");

        List<ObjectNode> prioritized = List.of(pod("guaranteed", "400Mi", 0), pod("burstable", "10Mi", 1000), pod("besteffort", null, 0));
        assertThat(m.decide(s, prioritized).orElseThrow().name()).isEqualTo("besteffort");

        List<ObjectNode> onlyGuaranteed = List.of(pod("guaranteed", "400Mi", 0));
        assertThat(m.decide(s, onlyGuaranteed).orElseThrow().name()).isEqualTo("guaranteed");
    }

    @Test
    void criticalPodsAreNeverEvicted() {
        EvictionManager m = manager("memory.available<100Mi", List.of());
        Stats.Summary s = summary(10 * MI, List.of(podStats("dns", "c", 60 * MI)));
        assertThat(m.decide(s, List.of(pod("dns", null, 2_000_001_000)))).isEmpty();
    }

    @Test
    void synchronizeHandsTheVictimToTheEvictor() {
        List<String> evicted = new ArrayList<>();
        List<ObjectNode> pods = List.of(pod("a", null, 0));
        EvictionManager m = new EvictionManager(Thresholds.parse("memory.available<100Mi"),
                () -> summary(10 * MI, List.of(podStats("a", "c", 5 * MI))), () -> pods,
                (uid, reason, message) -> evicted.add(uid + " " + reason), Duration.ofSeconds(10));
        m.synchronize();
        assertThat(evicted).containsExactly("uid-a Evicted");
    }

    private static EvictionManager manager(String spec, List<ObjectNode> pods) {
        return new EvictionManager(Thresholds.parse(spec), () -> null, () -> pods, (u, r, msg) -> { }, Duration.ofSeconds(10));
    }

    private static Stats.Summary summary(long availableMemory, List<Stats.Pod> pods) {
        Stats.Memory mem = new Stats.Memory(NOW, 1024 * MI - availableMemory, availableMemory, null, null, null, null);
        Stats.Node node = new Stats.Node(new Stats.Cpu(NOW, 0, 0L), mem, null, null);
        return new Stats.Summary("n1", NOW, node, pods);
    }

    private static Stats.Pod podStats(String name, String container, long workingSet) {
        Stats.Memory mem = new Stats.Memory(NOW, workingSet, null, null, null, null, null);
        return new Stats.Pod("default", name, "uid-" + name, NOW, null, mem,
                List.of(new Stats.Container(container, NOW, null, mem, null)));
    }

    private static ObjectNode pod(String name, String memoryRequest, long priority) {
        ObjectNode p = Json.object();
        p.putObject("metadata").put("name", name).put("namespace", "default").put("uid", "uid-" + name);
        ObjectNode spec = p.putObject("spec");
        spec.put("priority", priority);
        ObjectNode c = spec.putArray("containers").addObject().put("name", "c");
        if (memoryRequest != null) c.putObject("resources").putObject("requests").put("memory", memoryRequest);
        return p;
    }
}
