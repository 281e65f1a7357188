package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.http.ApiRequest;
import io.k3j.apiserver.http.HttpExchange;
import io.k3j.apiserver.registry.ListOptions;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.ResourceStrategy;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.watch.CacheEvent;
import io.k3j.apiserver.watch.CacheWatcher;
import io.k3j.apiserver.watch.ResourceCache;
import io.k3j.apiserver.watch.WatchCache;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Streams watch events from the cache: newline-delimited {@code {"type":…,"object":…}} JSON (or Tables for
 * {@code kubectl get -w}), with label/field selector transitions turned into ADDED/DELETED as Kubernetes does,
 * bookmarks, {@code sendInitialEvents}, and timeouts.
 */
final class WatchServer {
    private static final long BOOKMARK_INTERVAL_MS = 60_000;
    private static final int QUEUE_SIZE = 10_000;
    /** Wakes watches for their bookmarks and deadlines; cancelled alarms leave the queue at once. */
    private static final ScheduledThreadPoolExecutor ALARMS = alarms();

    private final ObjectStore objects;
    private final TableConverter tables;

    WatchServer(ObjectStore objects, TableConverter tables) {
        this.objects = objects;
        this.tables = tables;
    }

    void serve(ApiRequest req, HttpExchange ex, ResourceType type, String namespace, ListOptions opts) throws IOException {
        ResourceStrategy strategy = objects.strategy(type);
        objects.checkFieldSelector(type, strategy, opts);
        Negotiation.Output out = Negotiation.forObjects(req.header("Accept"));
        boolean bookmarks = ResourceHandler.isTrue(req.param("allowWatchBookmarks"));
        String sendInitial = req.param("sendInitialEvents");
        boolean initialEvents = ResourceHandler.isTrue(sendInitial);
        String rv = opts.resourceVersion();
        if (sendInitial != null && !sendInitial.isEmpty()) {
            if (!"NotOlderThan".equals(opts.resourceVersionMatch())) {
                throw ApiException.invalid("", "ListOptions", "", List.of(ApiException.Cause.forbidden("resourceVersionMatch",
                        "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")));
            }
            if (initialEvents && !bookmarks) {
                throw ApiException.invalid("", "ListOptions", "", List.of(ApiException.Cause.forbidden("allowWatchBookmarks",
                        "allowWatchBookmarks must be true if sendInitialEvents = true")));
            }
        } else if (!opts.resourceVersionMatch().isEmpty()) {
            throw ApiException.invalid("", "ListOptions", "", List.of(ApiException.Cause.forbidden("resourceVersionMatch",
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")));
        }
        long timeoutMs = timeout(req);
        String keyPrefix = type.namespaced() && namespace != null ? type.storagePrefix() + namespace + "/" : type.storagePrefix();
        WatchCache wc = objects.cache();
        ResourceCache cache = wc.cache(type.storagePrefix());
        CacheWatcher watcher;
        boolean withInitial = initialEvents || (sendInitial == null && (rv.isEmpty() || rv.equals("0")));
        try {
            if (withInitial) {
                if (rv.isEmpty()) wc.sync();
                else if (!rv.equals("0")) wc.waitFor(ObjectStore.parseResourceVersion(rv), 3000);
                watcher = cache.watch(0, keyPrefix, QUEUE_SIZE);
            } else {
                long from = ObjectStore.parseResourceVersion(rv);
                wc.waitFor(from, 3000);
                watcher = cache.watch(from, null, QUEUE_SIZE);
            }
        } catch (ApiException e) {
            if (e.code() != 410) throw e;
            // kube-apiserver reports a too old resourceVersion as an ERROR event in a 200 stream
            HttpExchange.Stream s = ex.stream(200, "application/json", Map.of());
            s.write(line("ERROR", e.toStatus()));
            s.close();
            return;
        }
        HttpExchange.Stream stream = ex.stream(200, "application/json", Map.of());
        stream.onClose(watcher::close);
        boolean table = out == Negotiation.Output.TABLE;
        String include = req.param("includeObject");
        boolean first = true;
        long deadline = System.currentTimeMillis() + timeoutMs;
        long nextBookmark = System.currentTimeMillis() + BOOKMARK_INTERVAL_MS;
        boolean initialEndSent = !initialEvents;
        ScheduledFuture<?> alarm = null;
        try {
            while (stream.isOpen()) {
                if (!initialEndSent && !watcher.hasInitial()) {
                    stream.write(line("BOOKMARK", bookmark(type, watcher.initialRevision(), true)));
                    initialEndSent = true;
                }
                long now = System.currentTimeMillis();
                if (now >= deadline) break;
                if (alarm == null || alarm.isDone()) {
                    // one timer per bookmark interval, not one per event (see CacheWatcher.next())
                    alarm = ALARMS.schedule(watcher::wake, pollMillis(now, deadline, nextBookmark, bookmarks), TimeUnit.MILLISECONDS);
                }
                CacheEvent e = watcher.next();
                if (e == null) {
                    if (bookmarks && System.currentTimeMillis() >= nextBookmark) {
                        stream.write(line("BOOKMARK", bookmark(type, cache.revision(), false)));
                        nextBookmark = System.currentTimeMillis() + BOOKMARK_INTERVAL_MS;
                    }
                    continue;
                }
                if (!e.key().startsWith(keyPrefix)) continue;
                String eventType = visibleType(strategy, e, opts);
                if (eventType == null) continue;
                ObjectNode read = strategy.onRead(type, e.object());
                if (!table && read == e.object() && e.json() != null && type.apiVersion().equals(Json.text(read, "apiVersion"))) {
                    // the object as cached: its JSON is made once and shared by every watcher
                    stream.write(e.json().watchLine(eventType));
                    continue;
                }
                ObjectNode obj = ObjectStore.withTypeMeta(type, read == e.object() ? read.deepCopy() : read);
                if (table) {
                    ObjectNode t = tables.toTable(type, List.of(obj), include, null, first, objects.clock().instant());
                    first = false;
                    stream.write(line(eventType, t));
                } else {
                    stream.write(line(eventType, obj));
                }
            }
        } catch (CacheWatcher.WatchEndedException | InterruptedException | IOException e) {
            // the client re-watches from its last resourceVersion
        } finally {
            if (alarm != null) alarm.cancel(false);
            watcher.close();
            stream.close();
        }
    }

    /**
     * How long to wait for the next event: until the watch's deadline, or until the next bookmark is due when the
     * client takes bookmarks. A watch without bookmarks must not wait for the bookmark time: once it passed, the
     * wait was negative for the rest of the watch and the loop spun, holding a virtual thread's carrier (the
     * scheduler does not preempt), so two such watches (kubectl get -w; the objects benchmark) starved the
     * whole server on 2 CPUs.
     */
    static long pollMillis(long now, long deadline, long nextBookmark, boolean bookmarks) {
        return Math.max(0, (bookmarks ? Math.min(deadline, nextBookmark) : deadline) - now);
    }

    /** The event type the client sees given its selectors, or null when the change is invisible to it. */
    private String visibleType(ResourceStrategy strategy, CacheEvent e, ListOptions opts) {
        boolean filtered = !opts.labels().isEmpty() || !opts.fields().isEmpty();
        if (!filtered) return e.type().name();
        boolean now = objects.matches(strategy, e.object(), opts);
        boolean before = e.previous() != null && objects.matches(strategy, e.previous(), opts);
        return switch (e.type()) {
            case ADDED -> now ? "ADDED" : null;
            case MODIFIED -> now && before ? "MODIFIED" : now ? "ADDED" : before ? "DELETED" : null;
            case DELETED -> before || now ? "DELETED" : null;
            case BOOKMARK -> null;
        };
    }

    private static ObjectNode bookmark(ResourceType type, long revision, boolean initialEnd) {
        ObjectNode b = Json.object();
        b.put("kind", type.kind());
        b.put("apiVersion", type.apiVersion());
        ObjectNode meta = b.putObject("metadata");
        meta.put("resourceVersion", Long.toString(revision));
        if (initialEnd) meta.putObject("annotations").put("k8s.io/initial-events-end", "true");
        return b;
    }

    private static byte[] line(String type, ObjectNode obj) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (var g = Json.MAPPER.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("type", type);
            g.writeFieldName("object");
            Json.MAPPER.writeTree(g, obj);
            g.writeEndObject();
        }
        out.write('\n');
        return out.toByteArray();
    }

    private static ScheduledThreadPoolExecutor alarms() {
        var timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "k3j-watch-alarms");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /** timeoutSeconds, or kube-apiserver's default: a random time between 30 and 60 minutes. */
    private static long timeout(ApiRequest req) {
        String t = req.param("timeoutSeconds");
        if (t != null && !t.isEmpty()) {
            try {
                return Math.max(0, Long.parseLong(t)) * 1000;
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("invalid timeoutSeconds \"" + t + "\"");
            }
        }
        return TimeUnit.MINUTES.toMillis(30) + ThreadLocalRandom.current().nextLong(TimeUnit.MINUTES.toMillis(30));
    }
}
