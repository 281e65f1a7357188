package io.k3j.apiserver.metrics;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One scrape of one kubelet's {@code /metrics/resource} (Prometheus text format), reduced to what the metrics API
 * reports: the node's and each container's cumulative CPU seconds and working set, each with its reading's time.
 *
 * @param containers by pod ({@code namespace/name}), then container name
 */
record NodeScrape(long scrapedAtMillis, Point nodeCpu, Point nodeMemory, Map<String, Map<String, Container>> containers) {

    /** A sample: its value and the time (ms since the epoch) the kubelet read it. */
    record Point(long timeMillis, double value) {
    }

    /** A container's samples; startTime tells a restarted container (whose counter began again) apart. */
    record Container(Point cpu, Point memory, Point startTime) {
    }

    /**
     * Parses the text format: {@code name{label="value",...} value [timestamp]} lines, comments skipped; samples
     * without a timestamp take {@code scrapedAtMillis}.
     *
     * @throws IllegalArgumentException naming the line that isn't a sample
     */
    static NodeScrape parse(byte[] body, long scrapedAtMillis) {
        Point nodeCpu = null;
        Point nodeMemory = null;
        Map<String, Map<String, Point[]>> acc = new LinkedHashMap<>();
        for (String line : new String(body, StandardCharsets.UTF_8).split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            String name;
            Map<String, String> labels = Map.of();
            String rest;
            if (brace >= 0 && (space < 0 || brace < space)) {
                name = line.substring(0, brace);
                int end = labelsEnd(line, brace + 1);
                labels = labels(line.substring(brace + 1, end));
                rest = line.substring(end + 1).strip();
            } else {
                if (space < 0) throw new IllegalArgumentException("not a sample: " + line);
                name = line.substring(0, space);
                rest = line.substring(space + 1).strip();
            }
            String[] f = rest.split("\\s+");
            double value;
            long time;
            try {
                value = Double.parseDouble(f[0]);
                time = f.length > 1 ? Long.parseLong(f[1]) : scrapedAtMillis;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a sample: " + line);
            }
            Point p = new Point(time, value);
            switch (name) {
                case "node_cpu_usage_seconds_total" -> nodeCpu = p;
                case "node_memory_working_set_bytes" -> nodeMemory = p;
                case "container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "container_start_time_seconds" -> {
                    String pod = labels.get("namespace") + "/" + labels.get("pod");
                    String container = labels.get("container");
                    if (container == null || labels.get("pod") == null) continue;
                    Point[] slots = acc.computeIfAbsent(pod, k -> new LinkedHashMap<>()).computeIfAbsent(container, k -> new Point[3]);
                    slots[name.startsWith("container_cpu") ? 0 : name.startsWith("container_memory") ? 1 : 2] = p;
                }
                default -> { }
            }
        }
        Map<String, Map<String, Container>> containers = new HashMap<>();
        acc.forEach((pod, byName) -> {
            Map<String, Container> cs = new LinkedHashMap<>();
            byName.forEach((c, s) -> cs.put(c, new Container(s[0], s[1], s[2])));
            containers.put(pod, cs);
        });
        return new NodeScrape(scrapedAtMillis, nodeCpu, nodeMemory, containers);
    }

    private static int labelsEnd(String line, int from) {
        boolean quoted = false;
        for (int i = from; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted && ch == '\\') {
                i++;
            } else if (ch == '"') {
                quoted = !quoted;
            } else if (ch == '}' && !quoted) {
                return i;
            }
        }
        throw new IllegalArgumentException("unterminated labels: " + line);
    }

    private static Map<String, String> labels(String s) {
        Map<String, String> out = new HashMap<>();
        int i = 0;
        while (i < s.length()) {
            int eq = s.indexOf('=', i);
            if (eq < 0) break;
            String key = s.substring(i, eq).strip();
            if (key.startsWith(",")) key = key.substring(1).strip();
            int q = s.indexOf('"', eq);
            StringBuilder v = new StringBuilder();
            int j = q + 1;
            for (; j < s.length() && s.charAt(j) != '"'; j++) {
                char ch = s.charAt(j);
                if (ch == '\\' && j + 1 < s.length()) {
                    char n = s.charAt(++j);
                    v.append(n == 'n' ? '\n' : n);
                } else {
                    v.append(ch);
                }
            }
            out.put(key, v.toString());
            i = j + 1;
        }
        return out;
    }
}
