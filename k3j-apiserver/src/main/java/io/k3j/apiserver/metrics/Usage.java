package io.k3j.apiserver.metrics;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Usage computed from two scrapes, as metrics-server computes it: CPU is the counter's increase over the time
 * between its two readings (in nanocores), memory the latest working set.
 *
 * @param timeMillis   the latest reading's time (the object's {@code timestamp})
 * @param windowMillis the time between the two readings (the object's {@code window})
 */
record Usage(long timeMillis, long windowMillis, long nanoCores, long memoryBytes) {

    /** A pod's containers' usage; time and window are the latest container reading's. */
    record Pod(long timeMillis, long windowMillis, Map<String, Usage> containers) {
    }

    /** The node's usage, or null when either scrape lacks it or the counter went backwards (a reboot). */
    static Usage node(NodeScrape previous, NodeScrape last) {
        if (previous == null || last == null) return null;
        return of(previous.nodeCpu(), last.nodeCpu(), last.nodeMemory());
    }

    /**
     * Each pod's usage; a pod is left out when any of its containers has no earlier reading, was restarted in between
     * or has no memory figure (metrics-server drops such pods rather than under-report them).
     */
    static Map<String, Pod> pods(NodeScrape previous, NodeScrape last) {
        Map<String, Pod> out = new LinkedHashMap<>();
        if (previous == null || last == null) return out;
        pods:
        for (var pod : last.containers().entrySet()) {
            Map<String, NodeScrape.Container> before = previous.containers().get(pod.getKey());
            if (before == null) continue;
            Map<String, Usage> containers = new LinkedHashMap<>();
            long time = 0;
            long window = 0;
            for (var c : pod.getValue().entrySet()) {
                NodeScrape.Container now = c.getValue();
                NodeScrape.Container then = before.get(c.getKey());
                if (then == null) continue pods;
                if (now.startTime() != null && then.startTime() != null && now.startTime().value() != then.startTime().value()) continue pods;
                Usage u = of(then.cpu(), now.cpu(), now.memory());
                if (u == null) continue pods;
                containers.put(c.getKey(), u);
                if (u.timeMillis() > time) {
                    time = u.timeMillis();
                    window = u.windowMillis();
                }
            }
            if (!containers.isEmpty()) out.put(pod.getKey(), new Pod(time, window, containers));
        }
        return out;
    }

    private static Usage of(NodeScrape.Point cpu1, NodeScrape.Point cpu2, NodeScrape.Point memory) {
        if (cpu1 == null || cpu2 == null || memory == null) return null;
        long window = cpu2.timeMillis() - cpu1.timeMillis();
        if (window <= 0 || cpu2.value() < cpu1.value()) return null;
        long nanoCores = Math.round((cpu2.value() - cpu1.value()) * 1e9 * 1000 / window);
        return new Usage(cpu2.timeMillis(), window, nanoCores, Math.round(memory.value()));
    }

    /** CPU as a quantity in nanocores ({@code 123456n}), as metrics-server writes it. */
    static String cpuQuantity(long nanoCores) {
        return nanoCores == 0 ? "0" : nanoCores + "n";
    }

    /** Memory as a binary-SI quantity in its canonical form: the largest of Ki, Mi, Gi, Ti that divides it, else bytes. */
    static String memoryQuantity(long bytes) {
        if (bytes == 0) return "0";
        String[] suffixes = {"", "Ki", "Mi", "Gi", "Ti", "Pi"};
        int i = 0;
        while (i < suffixes.length - 1 && bytes % 1024 == 0) {
            bytes /= 1024;
            i++;
        }
        return bytes + suffixes[i];
    }

    /** A window as Go prints a Duration ({@code 15.012s}, {@code 500ms}). */
    static String window(long millis) {
        if (millis < 1000) return millis + "ms";
        java.math.BigDecimal s = java.math.BigDecimal.valueOf(millis, 3).stripTrailingZeros();
        return (s.scale() < 0 ? s.setScale(0) : s).toPlainString() + "s";
    }
}
