package io.k3j.apiserver.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class UsageTest {

    /** What a kubelet 1.32 answers, exponents and escapes included. */
    private static String scrape(double nodeCpu, double webCpu, double sideCpu, long t, long startB) {
        return """
                # HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
                # TYPE container_cpu_usage_seconds_total counter
                container_cpu_usage_seconds_total{container="web",namespace="default",pod="web-1"} %s %d
                container_cpu_usage_seconds_total{container="si\\"de",namespace="default",pod="web-1"} %s %d
                container_cpu_usage_seconds_total{container="b",namespace="kube-system",pod="other"} 3 %d
                # TYPE container_memory_working_set_bytes gauge
                container_memory_working_set_bytes{container="web",namespace="default",pod="web-1"} 2.097152e+07 %d
                container_memory_working_set_bytes{container="si\\"de",namespace="default",pod="web-1"} 1024 %d
                container_memory_working_set_bytes{container="b",namespace="kube-system",pod="other"} 4096 %d
                container_start_time_seconds{container="b",namespace="kube-system",pod="other"} %d %d
                node_cpu_usage_seconds_total %s %d
                node_memory_working_set_bytes 1.073741824e+09 %d
                pod_cpu_usage_seconds_total{namespace="default",pod="web-1"} 99 %d
                resource_scrape_error 0
                """.formatted(webCpu, t, sideCpu, t, t, t, t, t, startB, t, nodeCpu, t, t, t);
    }

    @Test
    @DisplayName("kubelet's /metrics/resource text parses into node and container samples with their timestamps")
    void parses() {
        NodeScrape s = NodeScrape.parse(scrape(100.5, 2, 1, 1_000_000, 50).getBytes(StandardCharsets.UTF_8), 7);
        assertEquals(new NodeScrape.Point(1_000_000, 100.5), s.nodeCpu());
        assertEquals(new NodeScrape.Point(1_000_000, 1073741824d), s.nodeMemory());
        assertEquals(Map.of("web", true, "si\"de", true), Map.of("web", s.containers().get("default/web-1").containsKey("web"),
                "si\"de", s.containers().get("default/web-1").containsKey("si\"de")));
        assertEquals(20971520d, s.containers().get("default/web-1").get("web").memory().value());
        assertEquals(50d, s.containers().get("kube-system/other").get("b").startTime().value());
        NodeScrape untimed = NodeScrape.parse("node_cpu_usage_seconds_total 1\n".getBytes(StandardCharsets.UTF_8), 7);
        assertEquals(7, untimed.nodeCpu().timeMillis());
        assertThrows(IllegalArgumentException.class, () -> NodeScrape.parse("garbage\n".getBytes(StandardCharsets.UTF_8), 0));
    }

    @Test
    @DisplayName("usage is the counters' increase over the window between two scrapes; memory the latest working set")
    void usageFromTwoScrapes() {
        NodeScrape a = NodeScrape.parse(scrape(100, 2, 1, 1_000_000, 50).getBytes(StandardCharsets.UTF_8), 0);
        NodeScrape b = NodeScrape.parse(scrape(115, 2.3, 1, 1_015_000, 50).getBytes(StandardCharsets.UTF_8), 0);
        Usage node = Usage.node(a, b);
        assertEquals(1_000_000_000L, node.nanoCores(), "15 core-seconds over 15 s");
        assertEquals(15_000, node.windowMillis());
        assertEquals(1_015_000, node.timeMillis());
        assertEquals(1073741824L, node.memoryBytes());
        Map<String, Usage.Pod> pods = Usage.pods(a, b);
        Usage.Pod web = pods.get("default/web-1");
        assertEquals(20_000_000L, web.containers().get("web").nanoCores());
        assertEquals(0L, web.containers().get("si\"de").nanoCores());
        assertEquals(20971520L, web.containers().get("web").memoryBytes());
        assertEquals(15_000, web.windowMillis());
        assertTrue(pods.containsKey("kube-system/other"));

        assertNull(Usage.node(null, b), "one scrape has no rate");
        assertNull(Usage.node(b, a), "a counter that went backwards (or time) has no rate");
        NodeScrape restarted = NodeScrape.parse(scrape(130, 2.6, 1.1, 1_030_000, 51).getBytes(StandardCharsets.UTF_8), 0);
        Map<String, Usage.Pod> after = Usage.pods(b, restarted);
        assertTrue(after.containsKey("default/web-1"));
        assertTrue(!after.containsKey("kube-system/other"), "a container restarted between scrapes drops its pod");
    }

    @Test
    @DisplayName("quantities as metrics-server writes them: nanocores, canonical binary-SI memory, Go durations")
    void quantities() {
        assertEquals("123456n", Usage.cpuQuantity(123456));
        assertEquals("0", Usage.cpuQuantity(0));
        assertEquals("12345Ki", Usage.memoryQuantity(12345L * 1024));
        assertEquals("1Gi", Usage.memoryQuantity(1L << 30));
        assertEquals("1000", Usage.memoryQuantity(1000));
        assertEquals("15s", Usage.window(15_000));
        assertEquals("15.012s", Usage.window(15_012));
        assertEquals("500ms", Usage.window(500));
    }
}
