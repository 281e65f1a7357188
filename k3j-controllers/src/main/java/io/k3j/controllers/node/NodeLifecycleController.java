package io.k3j.controllers.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.Indexers;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * kube's node lifecycle controller (pkg/controller/nodelifecycle). It watches each node's heartbeats — its Lease
 * in kube-node-lease and its Ready condition — and when neither moved for {@code nodeMonitorGracePeriod} it
 * reports for the silent kubelet: every condition Unknown ("Kubelet stopped posting node status."), the pods on
 * it not Ready. It keeps the taints that follow from the conditions: NoSchedule ones at once (TaintNodesByCondition)
 * and the NoExecute {@code not-ready}/{@code unreachable} taints that make the taint-eviction controller move
 * pods, at most one node per 10 s per zone and none while every zone is fully disrupted (then the control plane,
 * not the nodes, is the likely culprit).
 */
final class NodeLifecycleController implements ManagedController {
    private static final String LEASE_NS = "kube-node-lease";
    /** How often every node is looked at even without changes (kube's --node-monitor-period). */
    private static final Duration MONITOR_PERIOD = Duration.ofSeconds(5);
    private static final Duration STARTUP_GRACE = Duration.ofSeconds(60);
    private static final double EVICTION_QPS = 0.1;
    private static final double SECONDARY_EVICTION_QPS = 0.01;
    private static final int LARGE_CLUSTER = 50;
    private static final double UNHEALTHY_ZONE = 0.55;
    private static final String[] MONITORED = {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"};
    /** NoSchedule taints per condition and status (kube's nodeConditionToTaintKeyStatusMap). */
    private static final Map<String, Map<String, String>> CONDITION_TAINTS = Map.of(
            "Ready", Map.of("False", Taints.NOT_READY, "Unknown", Taints.UNREACHABLE),
            "MemoryPressure", Map.of("True", Taints.MEMORY_PRESSURE),
            "DiskPressure", Map.of("True", Taints.DISK_PRESSURE),
            "NetworkUnavailable", Map.of("True", Taints.NETWORK_UNAVAILABLE),
            "PIDPressure", Map.of("True", Taints.PID_PRESSURE));
    private static final List<String> NO_SCHEDULE_KEYS = List.of(Taints.NOT_READY, Taints.UNREACHABLE, Taints.MEMORY_PRESSURE,
            Taints.DISK_PRESSURE, Taints.NETWORK_UNAVAILABLE, Taints.PID_PRESSURE, Taints.UNSCHEDULABLE);

    enum ZoneState { NORMAL, PARTIAL_DISRUPTION, FULL_DISRUPTION }

    private final ApiClient api;
    private final ResourceType nodeType;
    private final ResourceType podType;
    private final SharedInformer nodes;
    private final SharedInformer leases;
    private final SharedInformer pods;
    private final EventRecorder events;
    private final Clock clock;
    private final Duration grace;
    private final Controller controller;
    private final Map<String, Health> health = new ConcurrentHashMap<>();
    private final Map<String, TokenBucket> zoneLimiters = new ConcurrentHashMap<>();

    /** What was last seen of a node's heartbeats and when it was last seen to move (kube's nodeHealthData). */
    private record Health(Instant probe, String readyHeartbeat, String leaseRenew) {}

    NodeLifecycleController(ControllerContext ctx) {
        this.api = ctx.api("node-controller");
        this.nodeType = api.type("", "v1", "nodes");
        this.podType = api.type("", "v1", "pods");
        this.nodes = ctx.informer("", "v1", "nodes");
        this.leases = ctx.informer("coordination.k8s.io", "v1", "leases");
        this.pods = ctx.informer("", "v1", "pods");
        this.events = ctx.events("node-controller");
        this.clock = ctx.clock();
        this.grace = ctx.config().nodeMonitorGracePeriod();
        this.controller = new Controller("node-lifecycle-controller", clock, 2, this::sync);
        pods.addIndexer(Indexers.NODE_NAME, Indexers.BY_NODE_NAME);
        nodes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                controller.enqueue(Meta.name(obj));
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                controller.enqueue(Meta.name(newObj));
                // a node's readiness changes its zone's state, and so what may happen to the other nodes
                if (oldObj != newObj && !readyStatus(oldObj).equals(readyStatus(newObj))) {
                    for (ObjectNode n : nodes.list()) controller.enqueue(Meta.name(n));
                }
            }

            @Override
            public void onDelete(ObjectNode obj) {
                controller.enqueue(Meta.name(obj));
            }
        });
        leases.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                if (LEASE_NS.equals(Meta.namespace(obj))) controller.enqueue(Meta.name(obj));
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                if (LEASE_NS.equals(Meta.namespace(newObj))) controller.enqueue(Meta.name(newObj));
            }
        });
    }

    @Override
    public void start() {
        controller.start();
        for (ObjectNode n : nodes.list()) controller.enqueue(Meta.name(n));
    }

    @Override
    public void close() {
        controller.close();
    }

    private static JsonNode condition(JsonNode node, String type) {
        for (JsonNode c : node.path("status").path("conditions")) if (type.equals(Json.text(c, "type"))) return c;
        return null;
    }

    private static String readyStatus(JsonNode node) {
        JsonNode c = condition(node, "Ready");
        return c == null ? "" : Json.text(c, "status");
    }

    private Duration sync(String name) {
        ObjectNode node = nodes.get("", name);
        if (node == null) {
            health.remove(name);
            return null;
        }
        Instant now = clock.instant();
        JsonNode ready = condition(node, "Ready");
        String heartbeat = ready == null ? "" : Json.text(ready, "lastHeartbeatTime");
        ObjectNode lease = leases.get(LEASE_NS, name);
        String renew = lease == null ? "" : Json.text(lease.get("spec"), "renewTime");
        Health h = health.get(name);
        if (h == null || !h.readyHeartbeat.equals(heartbeat) || (!renew.isEmpty() && !renew.equals(h.leaseRenew))) {
            // the first sighting counts as a heartbeat, as kube's does: a restarted controller gives every node a full grace period
            h = new Health(now, heartbeat, renew);
            health.put(name, h);
        }
        Duration limit = ready == null ? (grace.compareTo(STARTUP_GRACE) > 0 ? grace : STARTUP_GRACE) : grace;
        Instant deadline = h.probe.plus(limit);
        String observed = ready == null ? "" : Json.text(ready, "status");
        if (now.isAfter(deadline) && needsUnknown(node)) {
            node = markUnknown(name, now);
            if (node == null) return null;
            if (observed.equals("True")) {
                events.event(node, "v1", "Node", "Normal", "NodeNotReady", "Node " + name + " status is now: NodeNotReady");
                markPodsNotReady(name, now);
            }
        }
        updateTaints(node, now);
        Duration untilDeadline = Duration.between(now, deadline).plusMillis(10);
        return untilDeadline.isNegative() || untilDeadline.compareTo(MONITOR_PERIOD) > 0 ? MONITOR_PERIOD : untilDeadline;
    }

    private static boolean needsUnknown(JsonNode node) {
        for (String type : MONITORED) {
            JsonNode c = condition(node, type);
            if (c == null || !"Unknown".equals(Json.text(c, "status"))) return true;
        }
        return false;
    }

    /** Writes every monitored condition as Unknown, keeping the last heartbeat the kubelet posted. */
    private ObjectNode markUnknown(String name, Instant now) {
        String ts = Meta.timestamp(now);
        try {
            return api.modify(nodeType, "", name, "status", n -> {
                ObjectNode status = Json.obj(n, "status");
                ArrayNode conds = status.has("conditions") && status.get("conditions").isArray()
                        ? (ArrayNode) status.get("conditions") : status.putArray("conditions");
                for (String type : MONITORED) {
                    ObjectNode c = (ObjectNode) condition(n, type);
                    if (c == null) {
                        conds.addObject().put("type", type).put("status", "Unknown").put("reason", "NodeStatusNeverUpdated")
                                .put("message", "Kubelet never posted node status.").put("lastHeartbeatTime", Json.text(n.get("metadata"), "creationTimestamp"))
                                .put("lastTransitionTime", ts);
                    } else if (!"Unknown".equals(Json.text(c, "status"))) {
                        c.put("status", "Unknown").put("reason", "NodeStatusUnknown").put("message", "Kubelet stopped posting node status.")
                                .put("lastTransitionTime", ts);
                    }
                }
                return n;
            });
        } catch (ApiException e) {
            if (e.code() == 404) return null;
            throw e;
        }
    }

    /** controllerutil.MarkPodsNotReady: the node cannot vouch for its pods any more. */
    private void markPodsNotReady(String nodeName, Instant now) {
        String ts = Meta.timestamp(now);
        for (ObjectNode pod : pods.byIndex(Indexers.NODE_NAME, nodeName)) {
            if (!Pods.ready(pod)) continue;
            try {
                api.modify(podType, Meta.namespace(pod), Meta.name(pod), "status", p -> {
                    if (!Meta.uid(p).equals(Meta.uid(pod))) return p;
                    for (JsonNode c : p.path("status").path("conditions")) {
                        if ("Ready".equals(Json.text(c, "type")) && "True".equals(Json.text(c, "status"))) {
                            ((ObjectNode) c).put("status", "False").put("lastTransitionTime", ts);
                        }
                    }
                    return p;
                });
                events.event(pod, "v1", "Pod", "Warning", "NodeNotReady", "Node is not ready");
            } catch (ApiException e) {
                if (e.code() != 404) throw e;
            }
        }
    }

    private void updateTaints(ObjectNode node, Instant now) {
        String name = Meta.name(node);
        // NoSchedule: exactly those the conditions and spec.unschedulable call for
        List<String> wantNoSchedule = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> e : CONDITION_TAINTS.entrySet()) {
            JsonNode c = condition(node, e.getKey());
            if (c == null) continue;
            String key = e.getValue().get(Json.text(c, "status"));
            if (key != null) wantNoSchedule.add(key);
        }
        if (node.path("spec").path("unschedulable").asBoolean(false)) wantNoSchedule.add(Taints.UNSCHEDULABLE);

        // NoExecute: not-ready or unreachable, as the Ready condition says, when the zone's state allows it
        String ready = readyStatus(node);
        boolean hasNotReady = Taints.has(node, Taints.NOT_READY, Taints.NO_EXECUTE);
        boolean hasUnreachable = Taints.has(node, Taints.UNREACHABLE, Taints.NO_EXECUTE);
        String wantNoExecute = hasNotReady ? Taints.NOT_READY : hasUnreachable ? Taints.UNREACHABLE : null;
        // zone states cost a pass over every node: only a node that is not ready needs them
        Map<String, ZoneState> zones = ready.equals("True") ? Map.of() : zoneStates();
        boolean allDisrupted = !zones.isEmpty() && zones.values().stream().allMatch(z -> z == ZoneState.FULL_DISRUPTION);
        if (allDisrupted || ready.equals("True")) {
            wantNoExecute = null;
        } else if (ready.equals("False") || ready.equals("Unknown")) {
            String key = ready.equals("False") ? Taints.NOT_READY : Taints.UNREACHABLE;
            if (wantNoExecute != null) {
                wantNoExecute = key; // swapping one for the other is not a new eviction: no rate limit
            } else if (limiter(zoneOf(node), zones.get(zoneOf(node))).tryAcquire(now)) {
                wantNoExecute = key;
            } else {
                controller.queue().addAfter(name, Duration.ofSeconds(1));
            }
        }

        List<JsonNode> current = new ArrayList<>();
        node.path("spec").path("taints").forEach(current::add);
        List<JsonNode> desired = new ArrayList<>();
        for (JsonNode t : current) {
            String key = Json.text(t, "key");
            String effect = Json.text(t, "effect");
            if (effect.equals(Taints.NO_SCHEDULE) && NO_SCHEDULE_KEYS.contains(key) && !wantNoSchedule.contains(key)) continue;
            if (effect.equals(Taints.NO_EXECUTE) && (key.equals(Taints.NOT_READY) || key.equals(Taints.UNREACHABLE)) && !key.equals(wantNoExecute)) continue;
            desired.add(t);
        }
        for (String key : wantNoSchedule) if (!Taints.has(node, key, Taints.NO_SCHEDULE)) desired.add(Taints.taint(key, Taints.NO_SCHEDULE, null));
        if (wantNoExecute != null && !Taints.has(node, wantNoExecute, Taints.NO_EXECUTE)) {
            desired.add(Taints.taint(wantNoExecute, Taints.NO_EXECUTE, Meta.timestamp(now)));
        }
        if (desired.equals(current)) return;
        ArrayNode arr = Json.array();
        desired.forEach(arr::add);
        String rv = Meta.resourceVersion(node);
        api.modify(nodeType, "", name, "", n -> {
            // decided on the informer's copy: if the node changed since, the next sync decides again
            if (!Objects.equals(Meta.resourceVersion(n), rv)) throw ApiException.conflict("", "nodes", name, "node changed");
            ObjectNode spec = Json.obj(n, "spec");
            if (arr.isEmpty()) spec.remove("taints");
            else spec.set("taints", arr);
            return n;
        });
    }

    static String zoneOf(JsonNode node) {
        JsonNode l = node.path("metadata").path("labels");
        String region = l.path("topology.kubernetes.io/region").asText("");
        String zone = l.path("topology.kubernetes.io/zone").asText("");
        return region.isEmpty() && zone.isEmpty() ? "" : region + ":\u0000:" + zone;
    }

    /** kube's ComputeZoneState over the nodes as the informer has them. */
    private Map<String, ZoneState> zoneStates() {
        Map<String, int[]> counts = new HashMap<>();
        for (ObjectNode n : nodes.list()) {
            int[] c = counts.computeIfAbsent(zoneOf(n), z -> new int[2]);
            if (readyStatus(n).equals("True")) c[0]++;
            else c[1]++;
        }
        Map<String, ZoneState> out = new LinkedHashMap<>();
        counts.forEach((zone, c) -> {
            int ready = c[0];
            int notReady = c[1];
            ZoneState s;
            if (ready == 0 && notReady > 0) s = ZoneState.FULL_DISRUPTION;
            else if (notReady > 2 && (double) notReady / (notReady + ready) >= UNHEALTHY_ZONE) s = ZoneState.PARTIAL_DISRUPTION;
            else s = ZoneState.NORMAL;
            out.put(zone, s);
        });
        return out;
    }

    private TokenBucket limiter(String zone, ZoneState state) {
        int size = (int) nodes.list().stream().filter(n -> zoneOf(n).equals(zone)).count();
        // a partially disrupted zone is tainted slowly in large clusters and not at all in small ones
        double qps = state == ZoneState.PARTIAL_DISRUPTION ? (size > LARGE_CLUSTER ? SECONDARY_EVICTION_QPS : 0) : EVICTION_QPS;
        TokenBucket b = zoneLimiters.computeIfAbsent(zone, z -> new TokenBucket(qps, clock.instant()));
        b.setQps(qps);
        return b;
    }

    /** A token bucket of burst 1 on the controller's clock (flowcontrol.NewTokenBucketRateLimiter(qps, 1)). */
    static final class TokenBucket {
        private double qps;
        private double tokens = 1;
        private Instant last;

        TokenBucket(double qps, Instant now) {
            this.qps = qps;
            this.last = now;
        }

        synchronized void setQps(double q) {
            qps = q;
        }

        synchronized boolean tryAcquire(Instant now) {
            if (qps <= 0) return false;
            double elapsed = Math.max(0, Duration.between(last, now).toMillis() / 1000.0);
            tokens = Math.min(1, tokens + elapsed * qps);
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }
    }
}
