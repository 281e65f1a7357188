package io.k3j.agent.eviction;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.stats.Stats;
import io.k3j.api.Quantity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * kubelet's eviction manager for hard thresholds: every housekeeping period it compares the node's available memory
 * and disk with {@link Thresholds}, and while one is met it evicts one pod at a time, chosen as kubelet does — pods
 * using more than they requested first, then lower priority, then the larger consumption above the request — so
 * BestEffort pods go before Burstable ones and Guaranteed pods last. System-critical pods are never evicted.
 */
public final class EvictionManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EvictionManager.class.getName());
    /** system-cluster-critical and system-node-critical priorities start here; kubelet never evicts them. */
    static final long CRITICAL_PRIORITY = 2_000_000_000L;

    /** Carries out an eviction: stop the pod and report phase Failed, reason Evicted, with the message. */
    public interface Evictor {
        void evict(String podUid, String reason, String message);
    }

    /** The pod to evict and why. */
    public record Decision(String podUid, String namespace, String name, String message) { }

    private final Thresholds thresholds;
    private final Supplier<Stats.Summary> stats;
    private final Supplier<List<ObjectNode>> activePods;
    private final Evictor evictor;
    private final Duration period;
    private volatile Thread loop;

    public EvictionManager(Thresholds thresholds, Supplier<Stats.Summary> stats, Supplier<List<ObjectNode>> activePods,
                           Evictor evictor, Duration period) {
        this.thresholds = thresholds;
        this.stats = stats;
        this.activePods = activePods;
        this.evictor = evictor;
        this.period = period;
    }

    public EvictionManager start() {
        loop = Thread.ofVirtual().name("eviction-manager").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(period);
                    synchronize();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "eviction manager: {0}", e.toString());
                }
            }
        });
        return this;
    }

    /** One housekeeping round: evicts at most one pod. */
    public Optional<Decision> synchronize() {
        Optional<Decision> d = decide(stats.get(), activePods.get());
        d.ifPresent(x -> {
            LOG.log(System.Logger.Level.WARNING, "evicting pod {0}/{1}: {2}", x.namespace(), x.name(), x.message());
            evictor.evict(x.podUid(), "Evicted", x.message());
        });
        return d;
    }

    /** Which pod to evict for the first threshold met, or empty when none is (or no pod may be evicted). */
    Optional<Decision> decide(Stats.Summary summary, List<ObjectNode> pods) {
        for (Thresholds.Threshold t : thresholds.hard()) {
            long[] availableAndCapacity = signal(summary.node(), t.signal());
            if (availableAndCapacity == null) continue;
            long available = availableAndCapacity[0];
            if (available >= t.limit(availableAndCapacity[1])) continue;
            Optional<Decision> d = pick(t, available, summary, pods);
            if (d.isPresent()) return d;
        }
        return Optional.empty();
    }

    private static long[] signal(Stats.Node node, Thresholds.Signal s) {
        return switch (s) {
            case MEMORY -> node.memory().availableBytes() == null ? null
                    : new long[]{node.memory().availableBytes(), node.memory().availableBytes() + node.memory().workingSetBytes()};
            case NODEFS -> fs(node.fs());
            case IMAGEFS -> fs(node.imageFs());
        };
    }

    private static long[] fs(Stats.Fs fs) {
        if (fs == null || fs.availableBytes() == null || fs.capacityBytes() == null) return null;
        return new long[]{fs.availableBytes(), fs.capacityBytes()};
    }

    private record Candidate(ObjectNode pod, long usage, long request, long priority, Map<String, long[]> containers) {
        boolean exceeds() {
            return usage > request;
        }
    }

    private Optional<Decision> pick(Thresholds.Threshold t, long available, Stats.Summary summary, List<ObjectNode> pods) {
        boolean memory = t.signal() == Thresholds.Signal.MEMORY;
        Map<String, Stats.Pod> byUid = new HashMap<>();
        summary.pods().forEach(p -> byUid.put(p.uid(), p));
        List<Candidate> candidates = new ArrayList<>();
        for (ObjectNode pod : pods) {
            String uid = pod.path("metadata").path("uid").asText();
            long priority = pod.path("spec").path("priority").asLong(0);
            if (priority >= CRITICAL_PRIORITY) continue;
            Stats.Pod st = byUid.get(uid);
            Map<String, long[]> containers = new HashMap<>();
            long usage = 0;
            long request = 0;
            for (JsonNode c : pod.path("spec").path("containers")) {
                long req = bytes(c.path("resources").path("requests").path(memory ? "memory" : "ephemeral-storage"));
                long used = 0;
                if (st != null) {
                    for (Stats.Container sc : st.containers()) {
                        if (!sc.name().equals(c.path("name").asText())) continue;
                        if (memory && sc.memory() != null) used = sc.memory().workingSetBytes();
                        if (!memory && sc.rootfs() != null && sc.rootfs().usedBytes() != null) used = sc.rootfs().usedBytes();
                    }
                }
                containers.put(c.path("name").asText(), new long[]{used, req});
                usage += used;
                request += req;
            }
            candidates.add(new Candidate(pod, usage, request, priority, containers));
        }
        // kubelet's rankMemoryPressure / rankDiskPressure: exceeds requests, then priority, then usage above requests
        candidates.sort(Comparator.comparing((Candidate c) -> !c.exceeds())
                .thenComparingLong(Candidate::priority)
                .thenComparing(Comparator.comparingLong((Candidate c) -> c.usage() - c.request()).reversed()));
        if (candidates.isEmpty()) return Optional.empty();
        Candidate victim = candidates.get(0);
        String resource = t.signal().resource;
        StringBuilder msg = new StringBuilder("The node was low on resource: ").append(resource).append(". Threshold quantity: ")
                .append(t.spelled()).append(", available: ").append(available / 1024).append("Ki. ");
        victim.containers().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            long used = e.getValue()[0];
            long req = e.getValue()[1];
            if (used > req) {
                msg.append("Container ").append(e.getKey()).append(" was using ").append(used / 1024).append("Ki, request is ")
                        .append(req == 0 ? "0" : (req / 1024) + "Ki").append(", has larger consumption of ").append(resource).append(". ");
            }
        });
        ObjectNode meta = (ObjectNode) victim.pod().path("metadata");
        return Optional.of(new Decision(meta.path("uid").asText(), meta.path("namespace").asText(), meta.path("name").asText(),
                msg.toString().strip()));
    }

    private static long bytes(JsonNode q) {
        if (q.isMissingNode() || q.isNull()) return 0;
        try {
            return Quantity.parse(q.asText()).value().longValue();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        Thread t = loop;
        if (t != null) t.interrupt();
    }
}
