package io.k3j.agent.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StatsTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private Path dir;

    @BeforeEach
    void temp() throws IOException {
        dir = Files.createTempDirectory("k3j-stats");
    }

    @AfterEach
    void clean() throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    // ------------------------------------------------------------------ rates

    @Test
    @DisplayName("nanocores are the counter's increase over the time between the last two samples")
    void nanoCoresFromTwoSamples() {
        RateSampler r = new RateSampler();
        assertNull(r.add("c", 1_000_000_000L, 5_000_000_000L), "one sample has no rate");
        // 0.25 core-seconds over 2 seconds: 125 millicores
        assertEquals(125_000_000L, r.add("c", 3_000_000_000L, 5_250_000_000L));
        // the same reading again (a cached stat) is not a new sample: same rate
        assertEquals(125_000_000L, r.add("c", 3_000_000_000L, 5_250_000_000L));
        // 2 full cores over the next second, measured against the previous sample only
        assertEquals(2_000_000_000L, r.add("c", 4_000_000_000L, 7_250_000_000L));
        assertEquals(1_500_000_000L, RateSampler.nanoCores(0, 0, 2_000_000_000L, 3_000_000_000L));
        assertThrows(IllegalArgumentException.class, () -> RateSampler.nanoCores(5, 0, 5, 1));
    }

    @Test
    @DisplayName("a counter that went backwards (a restarted container) starts over; one not seen in a round is forgotten")
    void resetsAndForgets() {
        RateSampler r = new RateSampler();
        r.add("c", 1_000_000_000L, 9_000_000_000L);
        r.add("c", 2_000_000_000L, 9_500_000_000L);
        assertTrue(r.hasRate("c"));
        assertNull(r.add("c", 3_000_000_000L, 100L));
        assertEquals(400_000_000L, r.add("c", 4_000_000_000L, 400_000_100L));
        r.endRound();
        r.endRound();
        assertFalse(r.hasRate("c"));
        assertNull(r.add("c", 5_000_000_000L, 500_000_000L));
    }

    // ------------------------------------------------------------------ host

    @Test
    @DisplayName("node CPU is the busy jiffies of /proc/stat in nanoseconds; working set = cgroup usage - total_inactive_file")
    void hostFiguresFromKernelFiles() throws IOException {
        Path proc = Files.createDirectories(dir.resolve("proc"));
        Path cg = Files.createDirectories(dir.resolve("cgroup/memory"));
        Files.writeString(proc.resolve("stat"), """
                cpu  100 20 30 5000 40 5 6 7 0 0
                cpu0 50 10 15 2500 20 2 3 3 0 0
                intr 1 2 3
                """);
        Files.writeString(proc.resolve("meminfo"), """
                MemTotal:        1000000 kB
                MemFree:          200000 kB
                MemAvailable:     600000 kB
                Inactive(file):   100000 kB
                AnonPages:        250000 kB
                """);
        Files.writeString(proc.resolve("vmstat"), "pgfault 12345\npgmajfault 67\n");
        Files.writeString(cg.resolve("memory.usage_in_bytes"), "700000000\n");
        Files.writeString(cg.resolve("memory.stat"), "cache 1\nrss 2\ntotal_rss 300000000\ntotal_inactive_file 150000000\n");
        HostStats host = new HostStats(proc, dir.resolve("cgroup"), dir.resolve("data/not/yet"), Clock.fixed(T0, ZoneOffset.UTC));
        Stats.Node n = host.sample();
        // user + nice + system + irq + softirq + steal = 100+20+30+5+6+7 = 168 ticks of 10 ms
        assertEquals(1_680_000_000L, n.cpu().usageCoreNanoSeconds());
        assertNull(n.cpu().usageNanoCores());
        assertEquals(550_000_000L, n.memory().workingSetBytes());
        assertEquals(1_024_000_000L - 550_000_000L, n.memory().availableBytes());
        assertEquals(700_000_000L, n.memory().usageBytes());
        assertEquals(300_000_000L, n.memory().rssBytes());
        assertEquals(12345L, n.memory().pageFaults());
        assertEquals(67L, n.memory().majorPageFaults());
        assertNotNull(n.fs(), "the data dir's nearest existing ancestor's file system");
        assertTrue(n.fs().capacityBytes() > 0 && n.fs().usedBytes() >= 0);

        // without a v1 memory cgroup: the whole machine's figures
        Files.delete(cg.resolve("memory.usage_in_bytes"));
        Stats.Memory m = host.sample().memory();
        assertEquals((1_000_000L - 200_000L - 100_000L) * 1024, m.workingSetBytes());
        assertEquals(250_000L * 1024, m.rssBytes());
    }

    @Test
    @DisplayName("this machine's /proc and memory cgroup give non-zero CPU time and working set")
    void realHost() {
        Stats.Node n = NodeStatsSource.host(dir).sample();
        assertTrue(n.cpu().usageCoreNanoSeconds() > 0);
        assertTrue(n.memory().workingSetBytes() > 0);
        assertTrue(n.memory().availableBytes() > 0);
    }

    // ------------------------------------------------------------------ provider and formats

    /** A node using 1.5 cores and a pod whose container uses 0.2 cores, on a clock the test moves. */
    private static final class Fixture {
        final AtomicReference<Instant> now = new AtomicReference<>(T0);
        final AtomicLong nodeCpu = new AtomicLong(10_000_000_000L);
        final AtomicLong ctrCpu = new AtomicLong(1_000_000_000L);
        final AtomicReference<Long> runtimeNanoCores = new AtomicReference<>();
        boolean failPods;

        NodeStatsSource node() {
            return () -> {
                Instant t = now.get();
                Stats.Fs fs = new Stats.Fs(t, 600L, 1000L, 400L, null, null, null);
                return new Stats.Node(new Stats.Cpu(t, nodeCpu.get(), null),
                        new Stats.Memory(t, 300L << 20, 700L << 20, 400L << 20, 200L << 20, 10L, 1L), fs, fs);
            };
        }

        PodStatsSource pods() {
            return () -> {
                if (failPods) throw new IllegalStateException("runtime down");
                Instant t = now.get();
                List<Stats.Container> cs = new ArrayList<>();
                cs.add(new Stats.Container("web", T0.minusSeconds(60), new Stats.Cpu(t, ctrCpu.get(), runtimeNanoCores.get()),
                        new Stats.Memory(t, 20L << 20, null, 25L << 20, 18L << 20, null, null),
                        new Stats.Fs(t, null, null, 4096L, null, null, 12L)));
                cs.add(new Stats.Container("side\"car", T0.minusSeconds(30), new Stats.Cpu(t, 500_000_000L, 0L),
                        new Stats.Memory(t, 5L << 20, null, null, null, null, null), null));
                return List.of(new Stats.Pod("default", "web-1", "uid-1", T0.minusSeconds(61), null, null, cs));
            };
        }

        void advance(Duration d, double nodeCores, double ctrCores) {
            now.set(now.get().plus(d));
            nodeCpu.addAndGet(Math.round(d.toNanos() * nodeCores));
            ctrCpu.addAndGet(Math.round(d.toNanos() * ctrCores));
        }
    }

    @Test
    @DisplayName("the provider fills in rates from two readings and sums a pod's containers when the runtime gives no pod figures")
    void providerRates() {
        Fixture f = new Fixture();
        StatsProvider p = new StatsProvider("node-1", f.node(), f.pods(), Clock.fixed(T0, ZoneOffset.UTC), Duration.ZERO);
        Stats.Summary first = p.summary();
        assertNull(first.node().cpu().usageNanoCores(), "no rate from one reading");
        f.advance(Duration.ofSeconds(10), 1.5, 0.2);
        Stats.Summary s = p.summary();
        assertEquals(1_500_000_000L, s.node().cpu().usageNanoCores());
        Stats.Pod pod = s.pods().get(0);
        assertEquals(200_000_000L, pod.containers().get(0).cpu().usageNanoCores());
        assertEquals(0L, pod.containers().get(1).cpu().usageNanoCores(), "the runtime's own rate is kept");
        assertEquals(200_000_000L, pod.cpu().usageNanoCores());
        assertEquals(1_000_000_000L + 2_000_000_000L + 500_000_000L, pod.cpu().usageCoreNanoSeconds());
        assertEquals(25L << 20, pod.memory().workingSetBytes());

        f.runtimeNanoCores.set(7L);
        f.advance(Duration.ofSeconds(10), 1.5, 0.2);
        assertEquals(7L, p.summary().pods().get(0).containers().get(0).cpu().usageNanoCores(), "a runtime's rate wins");

        f.failPods = true;
        assertThrows(IllegalStateException.class, p::summary);
        StatsProvider.Scrape failed = p.scrape();
        assertNotNull(failed.podError());
        assertTrue(failed.summary().pods().isEmpty());
        assertTrue(ResourceMetrics.render(failed).contains("\nresource_scrape_error 1\n"));
    }

    @Test
    @DisplayName("the first request reads twice, primeDelay apart, so it already has rates")
    void firstRequestPrimes() {
        Fixture f = new Fixture();
        // each node reading moves the clock 1 s on and burns 0.5 core-seconds
        NodeStatsSource moving = () -> {
            f.advance(Duration.ofSeconds(1), 0.5, 0.1);
            return f.node().sample();
        };
        StatsProvider p = new StatsProvider("node-1", moving, f.pods(), Clock.fixed(T0, ZoneOffset.UTC), Duration.ofMillis(1));
        Stats.Summary s = p.summary();
        assertEquals(500_000_000L, s.node().cpu().usageNanoCores());
        assertEquals(100_000_000L, s.pods().get(0).containers().get(0).cpu().usageNanoCores());
    }

    @Test
    @DisplayName("/stats/summary JSON has kubelet's field names, times in whole seconds and leaves unknown figures out")
    void summaryJson() {
        Fixture f = new Fixture();
        StatsProvider p = new StatsProvider("node-1", f.node(), f.pods(), Clock.fixed(T0, ZoneOffset.UTC), Duration.ZERO);
        p.summary();
        f.now.set(T0.plusMillis(10_500));
        f.nodeCpu.addAndGet(5_250_000_000L);
        JsonNode j = SummaryJson.render(p.summary());
        JsonNode node = j.path("node");
        assertEquals("node-1", node.path("nodeName").asText());
        assertEquals("2026-01-01T00:00:00Z", node.path("startTime").asText());
        assertEquals("2026-01-01T00:00:10Z", node.path("cpu").path("time").asText());
        assertEquals(500_000_000L, node.path("cpu").path("usageNanoCores").asLong());
        assertEquals(15_250_000_000L, node.path("cpu").path("usageCoreNanoSeconds").asLong());
        JsonNode mem = node.path("memory");
        assertEquals(300L << 20, mem.path("workingSetBytes").asLong());
        assertEquals(700L << 20, mem.path("availableBytes").asLong());
        assertEquals(400L << 20, mem.path("usageBytes").asLong());
        assertEquals(200L << 20, mem.path("rssBytes").asLong());
        assertEquals(10, mem.path("pageFaults").asLong());
        assertEquals(1, mem.path("majorPageFaults").asLong());
        assertEquals(1000, node.path("fs").path("capacityBytes").asLong());
        assertEquals(600, node.path("runtime").path("imageFs").path("availableBytes").asLong());
        assertFalse(node.path("fs").has("inodes"), "unknown figures are left out");

        JsonNode pod = j.path("pods").get(0);
        assertEquals("web-1", pod.path("podRef").path("name").asText());
        assertEquals("default", pod.path("podRef").path("namespace").asText());
        assertEquals("uid-1", pod.path("podRef").path("uid").asText());
        assertEquals("2025-12-31T23:58:59Z", pod.path("startTime").asText());
        JsonNode web = pod.path("containers").get(0);
        assertEquals("web", web.path("name").asText());
        assertEquals(20L << 20, web.path("memory").path("workingSetBytes").asLong());
        assertFalse(web.path("memory").has("availableBytes"));
        assertEquals(4096, web.path("rootfs").path("usedBytes").asLong());
        assertEquals(1000, web.path("rootfs").path("capacityBytes").asLong(), "a writable layer is on the node's file system");
        assertEquals(12, web.path("rootfs").path("inodesUsed").asLong());
        assertEquals(25L << 20, pod.path("memory").path("workingSetBytes").asLong());
        assertEquals(4096, pod.path("ephemeral-storage").path("usedBytes").asLong());
        assertTrue(pod.path("cpu").has("usageCoreNanoSeconds"));
    }

    @Test
    @DisplayName("/metrics/resource is Prometheus text with kubelet's [STABLE] metric names, labels and millisecond timestamps")
    void resourceMetricsText() {
        Fixture f = new Fixture();
        StatsProvider p = new StatsProvider("node-1", f.node(), f.pods(), Clock.fixed(T0, ZoneOffset.UTC), Duration.ZERO);
        String text = ResourceMetrics.render(p.scrape());
        long ms = T0.toEpochMilli();
        String expected = """
                # HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
                # TYPE container_cpu_usage_seconds_total counter
                container_cpu_usage_seconds_total{container="web",namespace="default",pod="web-1"} 1 %1$d
                container_cpu_usage_seconds_total{container="side\\"car",namespace="default",pod="web-1"} 0.5 %1$d
                # HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
                # TYPE container_memory_working_set_bytes gauge
                container_memory_working_set_bytes{container="web",namespace="default",pod="web-1"} 20971520 %1$d
                container_memory_working_set_bytes{container="side\\"car",namespace="default",pod="web-1"} 5242880 %1$d
                # HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds
                # TYPE container_start_time_seconds gauge
                container_start_time_seconds{container="web",namespace="default",pod="web-1"} 1767225540 %2$d
                container_start_time_seconds{container="side\\"car",namespace="default",pod="web-1"} 1767225570 %3$d
                # HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
                # TYPE node_cpu_usage_seconds_total counter
                node_cpu_usage_seconds_total 10 %1$d
                # HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
                # TYPE node_memory_working_set_bytes gauge
                node_memory_working_set_bytes 314572800 %1$d
                # HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds
                # TYPE pod_cpu_usage_seconds_total counter
                pod_cpu_usage_seconds_total{namespace="default",pod="web-1"} 1.5 %1$d
                # HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes
                # TYPE pod_memory_working_set_bytes gauge
                pod_memory_working_set_bytes{namespace="default",pod="web-1"} 26214400 %1$d
                # HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise
                # TYPE resource_scrape_error gauge
                resource_scrape_error 0
                # HELP scrape_error [ALPHA] (Deprecated since 1.29.0) 1 if there was an error while getting container metrics, 0 otherwise
                # TYPE scrape_error gauge
                scrape_error 0
                """.formatted(ms, ms - 60_000, ms - 30_000);
        assertEquals(expected, text);
        assertEquals("0.000000001", ResourceMetrics.seconds(1));
        assertEquals("12", ResourceMetrics.seconds(12_000_000_000L));
        assertEquals("a\\\\b\\nc", ResourceMetrics.escape("a\\b\nc"));
    }
}
