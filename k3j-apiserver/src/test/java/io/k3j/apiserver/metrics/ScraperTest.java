package io.k3j.apiserver.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ScraperTest {

    /** A clock the test moves. */
    private static final class MovingClock extends Clock {
        final AtomicLong millis = new AtomicLong(1_700_000_000_000L);

        @Override
        public ZoneId getZone() {
            return ZoneId.of("UTC");
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }
    }

    @Test
    @DisplayName("the first request scrapes twice; later ones within two resolutions reuse the scrapes; an unreachable kubelet's node is skipped")
    void scrapesOnDemandAndSkipsUnreachable() {
        MovingClock clock = new MovingClock();
        Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        AtomicLong cpuMillis = new AtomicLong(1000);
        Scraper.Kubelets kubelets = (node, path) -> {
            assertEquals("/metrics/resource", path);
            calls.computeIfAbsent(node, k -> new AtomicInteger()).incrementAndGet();
            if (node.equals("down")) throw new IOException("dialing kubelet at 127.0.0.1:1: connection refused");
            long t = clock.millis();
            // every scrape is a second later and the node used half a core meanwhile
            clock.millis.addAndGet(1000);
            long cpu = cpuMillis.getAndAdd(500);
            return ("node_cpu_usage_seconds_total " + cpu / 1000.0 + " " + t + "\nnode_memory_working_set_bytes 2048 " + t + "\n")
                    .getBytes(StandardCharsets.UTF_8);
        };
        try (Scraper s = new Scraper(() -> List.of("up", "down"), kubelets, clock, Duration.ofHours(1), Duration.ofHours(2),
                Duration.ofMillis(1), Duration.ofSeconds(5))) {
            Map<String, Scraper.History> h = s.current();
            assertEquals(2, calls.get("up").get(), "primed with two scrapes");
            assertFalse(h.containsKey("down"));
            Usage u = Usage.node(h.get("up").previous(), h.get("up").last());
            assertNotNull(u);
            assertEquals(500_000_000L, u.nanoCores());
            assertEquals(1000, u.windowMillis());
            assertEquals(2048, u.memoryBytes());

            s.current();
            assertEquals(2, calls.get("up").get(), "fresh enough: no new scrape");

            // after an idle spell longer than two resolutions the history starts over
            clock.millis.addAndGet(Duration.ofHours(3).toMillis());
            Map<String, Scraper.History> again = s.current();
            assertEquals(4, calls.get("up").get());
            assertEquals(1000, Usage.node(again.get("up").previous(), again.get("up").last()).windowMillis());
        }
    }

    @Test
    @DisplayName("while asked, scrapes repeat every resolution in the background")
    void backgroundScrapes() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Scraper.Kubelets kubelets = (node, path) -> {
            int n = calls.incrementAndGet();
            return ("node_cpu_usage_seconds_total " + n + "\nnode_memory_working_set_bytes 1\n").getBytes(StandardCharsets.UTF_8);
        };
        try (Scraper s = new Scraper(() -> List.of("n"), kubelets, Clock.systemUTC(), Duration.ofMillis(50), Duration.ofMinutes(1),
                Duration.ZERO, Duration.ofSeconds(5))) {
            Scraper.History first = s.current().get("n");
            assertNull(first.previous(), "no prime delay: one scrape");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (calls.get() < 4 && System.nanoTime() < deadline) Thread.sleep(10);
            assertTrue(calls.get() >= 4, "background scrapes: " + calls.get());
            assertNotNull(s.current().get("n").previous());
        }
        int after = calls.get();
        Thread.sleep(200);
        assertEquals(after, calls.get(), "closed: no more scrapes");
    }
}
