package io.k3j.controllers.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Writes core/v1 Events as client-go's recorder does: asynchronously (a full queue drops events rather than
 * slowing the controller), named {@code <object>.<hex nanos>}, and a repeat of the same reason and message
 * for the same object within ten minutes raises {@code count} and {@code lastTimestamp} of the existing Event
 * instead of creating another (the EventCorrelator's aggregation, which {@code kubectl describe} shows as
 * "(x3 over 2m)").
 */
public final class EventRecorder implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EventRecorder.class.getName());
    private static final long DEDUP_MILLIS = 10 * 60 * 1000;
    private static final int MAX_REMEMBERED = 4096;
    private static final java.util.concurrent.atomic.AtomicLong SEQ = new java.util.concurrent.atomic.AtomicLong();

    private final ApiClient api;
    private final ResourceType events;
    private final String component;
    private final String host;
    private final BlockingQueue<ObjectNode> pending = new ArrayBlockingQueue<>(10_000);
    private final Map<String, Recent> recent = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Recent> eldest) {
            return size() > MAX_REMEMBERED;
        }
    };
    private final Thread writer;

    private record Recent(String namespace, String name, long firstMillis, int count) {}

    public EventRecorder(ApiClient api, String component, String host) {
        this.api = api;
        this.events = api.type("", "v1", "events");
        this.component = component;
        this.host = host;
        this.writer = Thread.ofVirtual().name("events-" + component).start(this::drain);
    }

    /** A Normal event about {@code obj}. */
    public void normal(ObjectNode obj, String reason, String message) {
        event(obj, "Normal", reason, message);
    }

    public void warning(ObjectNode obj, String reason, String message) {
        event(obj, "Warning", reason, message);
    }

    public void event(ObjectNode obj, String type, String reason, String message) {
        ObjectNode e = Json.object();
        e.put("type", type).put("reason", reason).put("message", message);
        ObjectNode ref = e.putObject("involvedObject");
        ref.put("kind", Json.text(obj, "kind"));
        String ns = Meta.namespace(obj);
        if (!ns.isEmpty()) ref.put("namespace", ns);
        ref.put("name", Meta.name(obj));
        ref.put("uid", Meta.uid(obj));
        ref.put("apiVersion", Json.text(obj, "apiVersion"));
        ref.put("resourceVersion", Meta.resourceVersion(obj));
        if (!pending.offer(e)) LOG.log(System.Logger.Level.DEBUG, "event queue full, dropping {0} {1}", reason, Meta.name(obj));
    }

    /** Events of objects whose kind is not set on the instance (informer objects often lack TypeMeta). */
    public void event(ObjectNode obj, String apiVersion, String kind, String type, String reason, String message) {
        ObjectNode withKind = obj;
        if (Json.text(obj, "kind").isEmpty()) {
            withKind = Json.object();
            withKind.put("apiVersion", apiVersion).put("kind", kind);
            withKind.set("metadata", obj.get("metadata"));
        }
        event(withKind, type, reason, message);
    }

    private void drain() {
        while (true) {
            ObjectNode e;
            try {
                e = pending.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException ex) {
                return;
            }
            if (e == null) continue;
            // as client-go's recorder: a failed write is retried a few times, then dropped (events are best effort)
            for (int attempt = 1; ; attempt++) {
                try {
                    write(e);
                    break;
                } catch (ApiException ex) {
                    if (ex.code() == 404 || ex.code() == 403 || attempt >= 4) {
                        // 404/403: the namespace is gone or terminating
                        LOG.log(System.Logger.Level.INFO, "dropping event {0} {1}: {2}", e.path("reason").asText(),
                                e.path("involvedObject").path("name").asText(), ex.getMessage());
                        break;
                    }
                } catch (RuntimeException ex) {
                    LOG.log(System.Logger.Level.WARNING, "writing event " + e.path("reason").asText() + " failed", ex);
                    break;
                }
                try {
                    Thread.sleep(100L << (2 * attempt));
                } catch (InterruptedException ie) {
                    return;
                }
                e.remove("metadata"); // a new name next time (a 409 may have been a name collision)
            }
        }
    }

    private void write(ObjectNode e) {
        JsonNode ref = e.get("involvedObject");
        String ns = ref.path("namespace").asText("default");
        Instant now = api.clock().instant();
        String ts = Meta.timestamp(now);
        String dedup = ns + "/" + ref.path("uid").asText() + "/" + e.path("type").asText() + "/" + e.path("reason").asText() + "/"
                + e.path("message").asText();
        Recent r;
        synchronized (recent) {
            r = recent.get(dedup);
        }
        if (r != null && now.toEpochMilli() - r.firstMillis < DEDUP_MILLIS) {
            try {
                int count = r.count + 1;
                api.modify(events, r.namespace, r.name, "", cur -> {
                    cur.put("count", count);
                    cur.put("lastTimestamp", ts);
                    return cur;
                });
                synchronized (recent) {
                    recent.put(dedup, new Recent(r.namespace, r.name, r.firstMillis, count));
                }
                return;
            } catch (ApiException ex) {
                if (ex.code() != 404) throw ex;
            }
        }
        // kube names events <object>.<unix nanos in hex>; the sequence keeps two events of one instant apart
        String name = ref.path("name").asText() + "." + Long.toHexString(now.toEpochMilli() * 1_000_000L + SEQ.incrementAndGet() % 1_000_000L);
        ObjectNode meta = e.putObject("metadata");
        meta.put("name", name);
        meta.put("namespace", ns);
        e.put("apiVersion", "v1").put("kind", "Event");
        e.putObject("source").put("component", component).put("host", host);
        e.put("firstTimestamp", ts).put("lastTimestamp", ts).put("count", 1);
        e.putNull("eventTime");
        e.put("reportingComponent", component).put("reportingInstance", host);
        api.create(events, ns, e);
        synchronized (recent) {
            recent.put(dedup, new Recent(ns, name, now.toEpochMilli(), 1));
        }
    }

    @Override
    public void close() {
        writer.interrupt();
    }
}
