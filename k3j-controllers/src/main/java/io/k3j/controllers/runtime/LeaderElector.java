package io.k3j.controllers.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.resource.ResourceType;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * Leader election over a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: the holder renews
 * {@code renewTime} every {@code retryPeriod}; another candidate takes the Lease once it has not been renewed
 * for {@code leaseDuration} (measured on the candidate's clock from when it last saw a change, so clock skew
 * between servers does not matter); a holder that cannot renew within {@code renewDeadline} steps down.
 * A restarted process with the same identity takes its own Lease back at once.
 */
public final class LeaderElector implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LeaderElector.class.getName());
    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    /** What runs while leading: started on a new thread when elected, interrupted/closed when leadership ends. */
    public interface Callbacks {
        void startedLeading();

        void stoppedLeading();
    }

    private final ApiClient api;
    private final ResourceType leases;
    private final String namespace;
    private final String name;
    private final String identity;
    private final Duration leaseDuration;
    private final Duration renewDeadline;
    private final Duration retryPeriod;
    private final Callbacks callbacks;
    private volatile boolean leading;
    private volatile boolean closed;
    private Thread thread;
    private String observedRecord;
    private long observedAtNanos;

    public LeaderElector(ApiClient api, String namespace, String name, String identity, Duration leaseDuration, Duration renewDeadline,
                         Duration retryPeriod, Callbacks callbacks) {
        this.api = api;
        this.leases = api.type("coordination.k8s.io", "v1", "leases");
        this.namespace = namespace;
        this.name = name;
        this.identity = identity;
        this.leaseDuration = leaseDuration;
        this.renewDeadline = renewDeadline;
        this.retryPeriod = retryPeriod;
        this.callbacks = callbacks;
    }

    /** client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry. */
    public static LeaderElector withDefaults(ApiClient api, String name, String identity, Callbacks callbacks) {
        return new LeaderElector(api, "kube-system", name, identity, Duration.ofSeconds(15), Duration.ofSeconds(10),
                Duration.ofSeconds(2), callbacks);
    }

    public boolean isLeader() {
        return leading;
    }

    public String identity() {
        return identity;
    }

    public LeaderElector start() {
        thread = Thread.ofVirtual().name("leader-election-" + name).start(this::run);
        return this;
    }

    private void run() {
        long lastRenew = System.nanoTime();
        while (!closed) {
            boolean ok;
            try {
                ok = tryAcquireOrRenew();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "lease {0}/{1}: {2}", namespace, name, e.getMessage());
                ok = false;
            }
            if (ok) {
                lastRenew = System.nanoTime();
                if (!leading) {
                    leading = true;
                    LOG.log(System.Logger.Level.INFO, "{0} acquired lease {1}/{2}", identity, namespace, name);
                    callbacks.startedLeading();
                }
            } else if (leading && System.nanoTime() - lastRenew > renewDeadline.toNanos()) {
                leading = false;
                LOG.log(System.Logger.Level.WARNING, "{0} lost lease {1}/{2}", identity, namespace, name);
                callbacks.stoppedLeading();
            }
            try {
                Thread.sleep(retryPeriod);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private boolean tryAcquireOrRenew() {
        Instant now = api.clock().instant();
        String ts = MICRO.format(now);
        Optional<ObjectNode> found = api.find(leases, namespace, name);
        if (found.isEmpty()) {
            ObjectNode lease = Json.object();
            lease.putObject("metadata").put("name", name).put("namespace", namespace);
            ObjectNode spec = lease.putObject("spec");
            spec.put("holderIdentity", identity).put("leaseDurationSeconds", leaseDuration.toSeconds())
                    .put("acquireTime", ts).put("renewTime", ts).put("leaseTransitions", 0);
            try {
                api.create(leases, namespace, lease);
                return true;
            } catch (ApiException e) {
                if (e.code() == 409) return false;
                throw e;
            }
        }
        ObjectNode lease = found.get();
        JsonNode spec = lease.path("spec");
        String holder = spec.path("holderIdentity").asText("");
        String record = holder + "|" + spec.path("renewTime").asText("");
        if (!record.equals(observedRecord)) {
            observedRecord = record;
            observedAtNanos = System.nanoTime();
        }
        long duration = spec.path("leaseDurationSeconds").asLong(leaseDuration.toSeconds());
        boolean mine = holder.equals(identity);
        boolean expired = holder.isEmpty() || System.nanoTime() - observedAtNanos > Duration.ofSeconds(duration).toNanos();
        if (!mine && !expired) return false;
        ObjectNode s = Json.obj(lease, "spec");
        if (!mine) {
            s.put("acquireTime", ts);
            s.put("leaseTransitions", spec.path("leaseTransitions").asInt(0) + 1);
        } else if (!leading && !s.has("acquireTime")) {
            s.put("acquireTime", ts);
        }
        s.put("holderIdentity", identity).put("leaseDurationSeconds", leaseDuration.toSeconds()).put("renewTime", ts);
        try {
            api.update(leases, lease);
            observedRecord = identity + "|" + ts;
            observedAtNanos = System.nanoTime();
            return true;
        } catch (ApiException e) {
            if (e.code() == 409) return false;
            throw e;
        }
    }

    /** Gives the Lease up (clears the holder) so another server takes over at once, as client-go's ReleaseOnCancel. */
    @Override
    public void close() {
        closed = true;
        if (thread != null) thread.interrupt();
        if (leading) {
            leading = false;
            callbacks.stoppedLeading();
            try {
                api.modify(leases, namespace, name, "", l -> {
                    if (identity.equals(Json.text(l.get("spec"), "holderIdentity"))) {
                        Json.obj(l, "spec").put("holderIdentity", "").put("leaseDurationSeconds", 1);
                    }
                    return l;
                });
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "releasing lease: {0}", e.getMessage());
            }
        }
    }
}
