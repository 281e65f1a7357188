package io.k3j.controllers.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * kube's pod garbage collector (pkg/controller/podgc), run every 20 s: force-deletes pods bound to nodes that
 * no longer exist (after a 40 s quarantine and a consistent read, so a node the informer has not seen yet is not
 * mistaken for a deleted one), terminating pods that were never scheduled, terminating pods on not-ready nodes
 * tainted {@code node.kubernetes.io/out-of-service}, and the oldest terminated pods beyond 12,500.
 */
final class PodGcController implements ManagedController {
    private static final String KEY = "podgc";
    private static final Duration PERIOD = Duration.ofSeconds(20);
    private static final Duration QUARANTINE = Duration.ofSeconds(40);
    private static final int TERMINATED_THRESHOLD = 12_500;

    private final ApiClient api;
    private final ResourceType podType;
    private final ResourceType nodeType;
    private final SharedInformer pods;
    private final SharedInformer nodes;
    private final Clock clock;
    private final Controller controller;
    /** Since when each pod's node has been missing (by pod uid). */
    private final Map<String, Instant> orphanedSince = new ConcurrentHashMap<>();

    PodGcController(ControllerContext ctx) {
        this.api = ctx.api("pod-garbage-collector");
        this.podType = api.type("", "v1", "pods");
        this.nodeType = api.type("", "v1", "nodes");
        this.pods = ctx.informer("", "v1", "pods");
        this.nodes = ctx.informer("", "v1", "nodes");
        this.clock = ctx.clock();
        this.controller = new Controller("pod-garbage-collector", clock, 1, k -> gc());
        nodes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onDelete(ObjectNode obj) {
                controller.enqueue(KEY);
            }
        });
    }

    @Override
    public void start() {
        controller.start();
        controller.enqueue(KEY);
    }

    @Override
    public void close() {
        controller.close();
    }

    private Duration gc() {
        Instant now = clock.instant();
        Duration next = PERIOD;
        List<ObjectNode> terminated = new ArrayList<>();
        java.util.Set<String> live = new java.util.HashSet<>();
        for (ObjectNode pod : pods.list()) {
            live.add(Meta.uid(pod));
            if (Pods.terminal(pod)) terminated.add(pod);
            String nodeName = Json.text(pod.get("spec"), "nodeName");
            if (nodeName.isEmpty()) {
                if (Meta.deleting(pod)) forceDelete(pod, null);
                continue;
            }
            ObjectNode node = nodes.get("", nodeName);
            if (node != null) {
                orphanedSince.remove(Meta.uid(pod));
                if (Meta.deleting(pod) && Taints.has(node, Taints.OUT_OF_SERVICE, Taints.NO_EXECUTE) && !readyTrue(node)) {
                    forceDelete(pod, "PodGC: node is out of service");
                }
                continue;
            }
            Instant since = orphanedSince.computeIfAbsent(Meta.uid(pod), u -> now);
            Duration left = Duration.between(now, since.plus(QUARANTINE));
            if (!left.isNegative() && !left.isZero()) {
                if (left.compareTo(next) < 0) next = left.plusMillis(10);
                continue;
            }
            // the informer may lag: only a consistent read proves the node is gone
            if (api.find(nodeType, "", nodeName).isPresent()) continue;
            orphanedSince.remove(Meta.uid(pod));
            forceDelete(pod, "PodGC: node no longer exists");
        }
        orphanedSince.keySet().retainAll(live);
        if (terminated.size() > TERMINATED_THRESHOLD) {
            terminated.sort(Comparator.comparing(Pods::created));
            for (ObjectNode p : terminated.subList(0, terminated.size() - TERMINATED_THRESHOLD)) forceDelete(p, null);
        }
        return next;
    }

    private static boolean readyTrue(JsonNode node) {
        for (JsonNode c : node.path("status").path("conditions")) {
            if ("Ready".equals(Json.text(c, "type"))) return "True".equals(Json.text(c, "status"));
        }
        return false;
    }

    /**
     * Deletes with grace period 0; with a {@code reason}, first marks the pod Failed with a DisruptionTarget
     * condition (kube's addConditionAndDeletePod), since no kubelet will report how it ended.
     */
    private void forceDelete(ObjectNode pod, String reason) {
        try {
            if (reason != null) {
                String ts = Meta.timestamp(clock.instant());
                api.modify(podType, Meta.namespace(pod), Meta.name(pod), "status", p -> {
                    if (!Meta.uid(p).equals(Meta.uid(pod))) throw ApiException.conflict("", "pods", Meta.name(pod), "replaced");
                    ObjectNode status = Json.obj(p, "status");
                    if (!Pods.terminal(p)) status.put("phase", "Failed");
                    ArrayNode conds = status.has("conditions") && status.get("conditions").isArray()
                            ? (ArrayNode) status.get("conditions") : status.putArray("conditions");
                    for (int i = conds.size() - 1; i >= 0; i--) {
                        if ("DisruptionTarget".equals(Json.text(conds.get(i), "type"))) conds.remove(i);
                    }
                    conds.addObject().put("type", "DisruptionTarget").put("status", "True").put("reason", "DeletionByPodGC")
                            .put("message", reason).put("lastTransitionTime", ts);
                    return p;
                });
            }
            api.delete(podType, Meta.namespace(pod), Meta.name(pod), new DeleteOptions(0L, null, Meta.uid(pod), null, false));
        } catch (ApiException e) {
            if (e.code() != 404 && e.code() != 409) throw e;
        }
    }
}
