package io.k3j.apiserver.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.watch.CachedObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;

/**
 * kube-apiserver's {@code --event-ttl} (default 1 h): an Event is deleted once that long has passed since it
 * was last recorded. kube-apiserver attaches an etcd lease to each Event; here a sweep every minute does the
 * same, so a server that runs for months does not pile up Events (the scheduler and controllers write
 * several per pod).
 */
public final class EventReaper implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EventReaper.class.getName());
    public static final Duration DEFAULT_TTL = Duration.ofHours(1);

    private final ObjectStore objects;
    private final ResourceType events;
    private final Clock clock;
    private final Duration ttl;
    private Thread thread;

    public EventReaper(ObjectStore objects, ResourceRegistry registry, Clock clock, Duration ttl) {
        this.objects = objects;
        this.events = registry.find("", "v1", "events").orElseThrow();
        this.clock = clock;
        this.ttl = ttl;
    }

    public EventReaper start(Duration every) {
        thread = Thread.ofVirtual().name("event-ttl").start(() -> {
            while (true) {
                try {
                    Thread.sleep(every);
                    reap();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "deleting expired events: " + e.getMessage());
                }
            }
        });
        return this;
    }

    /** Deletes every Event last recorded more than the TTL ago; returns how many. */
    public int reap() {
        Instant cutoff = clock.instant().minus(ttl);
        objects.cache().sync(); // every Event written so far
        int deleted = 0;
        for (CachedObject o : objects.cache().cache(events.storagePrefix()).list(events.storagePrefix()).objects()) {
            if (!lastRecorded(o.object()).isBefore(cutoff)) continue;
            try {
                objects.delete(events, Meta.namespace(o.object()), Meta.name(o.object()),
                        new DeleteOptions(0L, null, Meta.uid(o.object()), null, false));
                deleted++;
            } catch (ApiException e) {
                if (e.code() != 404 && e.code() != 409) throw e;
            }
        }
        return deleted;
    }

    /** The latest of the times an Event carries: its last occurrence, its series, its creation. */
    static Instant lastRecorded(JsonNode event) {
        Instant last = Instant.EPOCH;
        for (JsonNode t : new JsonNode[] {event.path("lastTimestamp"), event.path("eventTime"),
                event.path("series").path("lastObservedTime"), event.path("metadata").path("creationTimestamp")}) {
            if (!t.isTextual() || t.asText().isEmpty()) continue;
            try {
                Instant i = OffsetDateTime.parse(t.asText()).toInstant();
                if (i.isAfter(last)) last = i;
            } catch (java.time.format.DateTimeParseException e) {
                // an unparsable time doesn't count
            }
        }
        return last;
    }

    @Override
    public void close() {
        if (thread != null) thread.interrupt();
    }
}
