package io.k3j.agent.stats;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * A summary as kubelet's {@code /metrics/resource}: the Prometheus text format (0.0.4) with the [STABLE] resource
 * metrics metrics-server scrapes, each sample with its reading's timestamp in milliseconds. CPU counters are
 * cumulative core-seconds; metrics-server turns two scrapes into a rate.
 */
final class ResourceMetrics {
    /** The content type Prometheus' text format is served with. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private ResourceMetrics() {
    }

    static String render(StatsProvider.Scrape scrape) {
        Stats.Summary s = scrape.summary();
        StringBuilder out = new StringBuilder();
        help(out, "container_cpu_usage_seconds_total", "Cumulative cpu time consumed by the container in core-seconds", "counter");
        for (Stats.Pod p : s.pods()) {
            for (Stats.Container c : p.containers()) {
                if (c.cpu() != null) sample(out, "container_cpu_usage_seconds_total", containerLabels(p, c), seconds(c.cpu().usageCoreNanoSeconds()), c.cpu().time());
            }
        }
        help(out, "container_memory_working_set_bytes", "Current working set of the container in bytes", "gauge");
        for (Stats.Pod p : s.pods()) {
            for (Stats.Container c : p.containers()) {
                if (c.memory() != null) sample(out, "container_memory_working_set_bytes", containerLabels(p, c), Long.toString(c.memory().workingSetBytes()), c.memory().time());
            }
        }
        help(out, "container_start_time_seconds", "Start time of the container since unix epoch in seconds", "gauge");
        for (Stats.Pod p : s.pods()) {
            for (Stats.Container c : p.containers()) {
                if (c.startTime() != null) {
                    sample(out, "container_start_time_seconds", containerLabels(p, c),
                            seconds(c.startTime().getEpochSecond() * 1_000_000_000L + c.startTime().getNano()), c.startTime());
                }
            }
        }
        help(out, "node_cpu_usage_seconds_total", "Cumulative cpu time consumed by the node in core-seconds", "counter");
        sample(out, "node_cpu_usage_seconds_total", "", seconds(s.node().cpu().usageCoreNanoSeconds()), s.node().cpu().time());
        help(out, "node_memory_working_set_bytes", "Current working set of the node in bytes", "gauge");
        sample(out, "node_memory_working_set_bytes", "", Long.toString(s.node().memory().workingSetBytes()), s.node().memory().time());
        help(out, "pod_cpu_usage_seconds_total", "Cumulative cpu time consumed by the pod in core-seconds", "counter");
        for (Stats.Pod p : s.pods()) {
            if (p.cpu() != null) sample(out, "pod_cpu_usage_seconds_total", podLabels(p), seconds(p.cpu().usageCoreNanoSeconds()), p.cpu().time());
        }
        help(out, "pod_memory_working_set_bytes", "Current working set of the pod in bytes", "gauge");
        for (Stats.Pod p : s.pods()) {
            if (p.memory() != null) sample(out, "pod_memory_working_set_bytes", podLabels(p), Long.toString(p.memory().workingSetBytes()), p.memory().time());
        }
        String error = scrape.podError() == null ? "0" : "1";
        help(out, "resource_scrape_error", "1 if there was an error while getting container metrics, 0 otherwise", "gauge");
        out.append("resource_scrape_error ").append(error).append('\n');
        // the name kubelets before 1.23 used; older metrics-server releases read it
        out.append("# HELP scrape_error [ALPHA] (Deprecated since 1.29.0) 1 if there was an error while getting container metrics, 0 otherwise\n");
        out.append("# TYPE scrape_error gauge\n");
        out.append("scrape_error ").append(error).append('\n');
        return out.toString();
    }

    private static void help(StringBuilder out, String name, String help, String type) {
        out.append("# HELP ").append(name).append(" [STABLE] ").append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String labels, String value, Instant time) {
        out.append(name);
        if (!labels.isEmpty()) out.append('{').append(labels).append('}');
        out.append(' ').append(value).append(' ').append(time.toEpochMilli()).append('\n');
    }

    private static String containerLabels(Stats.Pod p, Stats.Container c) {
        return "container=\"" + escape(c.name()) + "\"," + podLabels(p);
    }

    private static String podLabels(Stats.Pod p) {
        return "namespace=\"" + escape(p.namespace()) + "\",pod=\"" + escape(p.name()) + "\"";
    }

    /** Label values escape backslash, double quote and line feed. */
    static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** Nanoseconds as exact decimal seconds ("12.5", "0.000000001"). */
    static String seconds(long nanos) {
        BigDecimal s = BigDecimal.valueOf(nanos, 9).stripTrailingZeros();
        return s.scale() < 0 ? s.setScale(0).toPlainString() : s.toPlainString();
    }
}
