package io.k3j.apiserver.endpoints;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Prometheus metrics of the API server, in the text exposition format: request counts and latencies by verb,
 * resource and code (named as kube-apiserver names them), plus gauges registered by other parts.
 */
public final class Metrics {
    private static final double[] BUCKETS = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 5, 10, 30, 60};

    private record Key(String verb, String resource, int code) {}

    private static final class Histogram {
        final LongAdder[] counts = new LongAdder[BUCKETS.length];
        final LongAdder total = new LongAdder();
        final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        Histogram() {
            for (int i = 0; i < counts.length; i++) counts[i] = new LongAdder();
        }
    }

    private final Map<Key, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
    private final Map<String, Supplier<Number>> gauges = new ConcurrentHashMap<>();

    public void observe(String verb, String resource, int code, long nanos) {
        String v = verb.toUpperCase();
        requests.computeIfAbsent(new Key(v, resource, code), k -> new LongAdder()).increment();
        Histogram h = latency.computeIfAbsent(v + "\0" + resource, k -> new Histogram());
        double seconds = nanos / 1e9;
        for (int i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.counts[i].increment();
        h.total.increment();
        h.sum.add(seconds);
    }

    /** A gauge, e.g. {@code apiserver_storage_objects{resource="pods"}}. */
    public void gauge(String nameWithLabels, Supplier<Number> value) {
        gauges.put(nameWithLabels, value);
    }

    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, API resource and HTTP response code.\n");
        sb.append("# TYPE apiserver_request_total counter\n");
        requests.forEach((k, v) -> sb.append("apiserver_request_total{code=\"").append(k.code).append("\",resource=\"").append(k.resource)
                .append("\",verb=\"").append(k.verb).append("\"} ").append(v.sum()).append('\n'));
        sb.append("# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each verb and resource.\n");
        sb.append("# TYPE apiserver_request_duration_seconds histogram\n");
        latency.forEach((k, h) -> {
            String[] vr = k.split("\0", 2);
            String labels = "resource=\"" + vr[1] + "\",verb=\"" + vr[0] + "\"";
            for (int i = 0; i < BUCKETS.length; i++) {
                sb.append("apiserver_request_duration_seconds_bucket{").append(labels).append(",le=\"").append(BUCKETS[i]).append("\"} ")
                        .append(h.counts[i].sum()).append('\n');
            }
            sb.append("apiserver_request_duration_seconds_bucket{").append(labels).append(",le=\"+Inf\"} ").append(h.total.sum()).append('\n');
            sb.append("apiserver_request_duration_seconds_sum{").append(labels).append("} ").append(h.sum.sum()).append('\n');
            sb.append("apiserver_request_duration_seconds_count{").append(labels).append("} ").append(h.total.sum()).append('\n');
        });
        Runtime rt = Runtime.getRuntime();
        sb.append("# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ").append(residentBytes()).append('\n');
        sb.append("# TYPE jvm_heap_used_bytes gauge\njvm_heap_used_bytes ").append(rt.totalMemory() - rt.freeMemory()).append('\n');
        gauges.forEach((name, v) -> sb.append(name).append(' ').append(v.get()).append('\n'));
        return sb.toString();
    }

    private static long residentBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (Exception e) {
            // not on Linux
        }
        return 0;
    }
}
