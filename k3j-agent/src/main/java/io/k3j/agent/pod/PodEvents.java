package io.k3j.agent.pod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * kubelet's event recorder for pods: core/v1 Events with source.component kubelet and source.host the node, written
 * on a thread of their own so a slow or absent server never holds a pod worker. A repeat of the same reason and
 * message for the same pod and container raises the existing Event's count (client-go's EventCorrelator).
 */
final class PodEvents implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PodEvents.class.getName());
    private static final AtomicLong SEQ = new AtomicLong();
    private static final int MAX_REMEMBERED = 4096;
    private static final int MAX_QUEUED = 10_000;

    private final KubeClient kube;
    private final String node;
    private final Clock clock;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>(MAX_QUEUED);
    private final Map<String, Recent> recent = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Recent> eldest) {
            return size() > MAX_REMEMBERED;
        }
    };
    private final Thread writer;
    private volatile boolean closed;

    private record Pending(JsonNode pod, String fieldPath, String type, String reason, String message, Instant at) {}

    private record Recent(String namespace, String name, String first, int count) {}

    PodEvents(KubeClient kube, String node, Clock clock) {
        this.kube = kube;
        this.node = node;
        this.clock = clock;
        this.writer = Thread.ofVirtual().name("pod-events").start(this::drain);
    }

    void normal(JsonNode pod, String container, String reason, String message) {
        record(pod, container, "Normal", reason, message);
    }

    void warning(JsonNode pod, String container, String reason, String message) {
        record(pod, container, "Warning", reason, message);
    }

    /** {@code container} is a fieldPath such as {@code spec.containers{c}}, or null for the pod itself. */
    void record(JsonNode pod, String fieldPath, String type, String reason, String message) {
        if (!queue.offer(new Pending(pod, fieldPath, type, reason, message, clock.instant()))) {
            LOG.log(System.Logger.Level.DEBUG, "event queue full, dropping {0}", reason);
        }
    }

    private void drain() {
        while (!closed) {
            Pending p;
            try {
                p = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (p == null) continue;
            for (int attempt = 0; attempt < 3 && !closed; attempt++) {
                try {
                    write(p);
                    break;
                } catch (KubeClient.Unreachable e) {
                    sleep(1000L << attempt);
                } catch (ApiException e) {
                    LOG.log(System.Logger.Level.DEBUG, "event {0} not written: {1}", p.reason, e.getMessage());
                    break;
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "event " + p.reason + " not written", e);
                    break;
                }
            }
        }
    }

    private void write(Pending p) {
        JsonNode meta = p.pod.path("metadata");
        String ns = meta.path("namespace").asText("default");
        String podName = meta.path("name").asText();
        String uid = meta.path("uid").asText();
        String key = uid + "\u0000" + p.fieldPath + "\u0000" + p.type + "\u0000" + p.reason + "\u0000" + p.message;
        String now = p.at.truncatedTo(ChronoUnit.SECONDS).toString();
        Recent r;
        synchronized (recent) {
            r = recent.get(key);
        }
        if (r != null) {
            ObjectNode patch = Json.object();
            patch.put("count", r.count + 1).put("lastTimestamp", now);
            try {
                kube.patch("/api/v1/namespaces/" + r.namespace + "/events/" + r.name, "application/merge-patch+json", Json.string(patch));
                synchronized (recent) {
                    recent.put(key, new Recent(r.namespace, r.name, r.first, r.count + 1));
                }
                return;
            } catch (ApiException e) {
                if (e.code() != 404) throw e;
                // the Event expired: write a new one
            }
        }
        ObjectNode e = Json.object();
        e.put("apiVersion", "v1").put("kind", "Event");
        String name = podName + "." + Long.toHexString(System.currentTimeMillis() * 1_000_000L + SEQ.incrementAndGet() % 1_000_000L);
        e.putObject("metadata").put("name", name).put("namespace", ns);
        ObjectNode ref = e.putObject("involvedObject");
        ref.put("apiVersion", "v1").put("kind", "Pod").put("namespace", ns).put("name", podName).put("uid", uid);
        if (p.fieldPath != null) ref.put("fieldPath", p.fieldPath);
        e.put("reason", p.reason).put("message", p.message).put("type", p.type);
        e.putObject("source").put("component", "kubelet").put("host", node);
        e.put("firstTimestamp", now).put("lastTimestamp", now).put("count", 1);
        e.put("reportingComponent", "kubelet").put("reportingInstance", node);
        kube.create("/api/v1/namespaces/" + ns + "/events", e);
        synchronized (recent) {
            recent.put(key, new Recent(ns, name, now, 1));
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        writer.interrupt();
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
