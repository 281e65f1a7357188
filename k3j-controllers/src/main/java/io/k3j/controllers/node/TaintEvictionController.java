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
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.Indexers;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * kube's taint-eviction controller (the NoExecute taint manager): a pod on a node with a NoExecute taint it does
 * not tolerate is deleted at once; one that tolerates every such taint for a limited time
 * ({@code tolerationSeconds}) is deleted when the shortest of them has passed since the controller first saw it
 * exposed — unless the taint goes first. Times are on the controllers' clock.
 */
final class TaintEvictionController implements ManagedController {
    private final ApiClient api;
    private final ResourceType podType;
    private final SharedInformer nodes;
    private final SharedInformer pods;
    private final EventRecorder events;
    private final Clock clock;
    private final Controller controller;
    private final Map<String, Scheduled> scheduled = new ConcurrentHashMap<>();

    /** A pending eviction: of which pod, counted from when, due when. */
    private record Scheduled(String uid, Instant createdAt, Instant fireAt) {}

    TaintEvictionController(ControllerContext ctx) {
        this.api = ctx.api("taint-eviction-controller");
        this.podType = api.type("", "v1", "pods");
        this.nodes = ctx.informer("", "v1", "nodes");
        this.pods = ctx.informer("", "v1", "pods");
        this.events = ctx.events("taint-eviction-controller");
        this.clock = ctx.clock();
        this.controller = new Controller("taint-eviction-controller", clock, 4, this::sync);
        pods.addIndexer(Indexers.NODE_NAME, Indexers.BY_NODE_NAME);
        pods.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                if (!Json.text(obj.get("spec"), "nodeName").isEmpty()) controller.enqueue(Keys.of(obj));
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                if (!Json.text(newObj.get("spec"), "nodeName").isEmpty()) controller.enqueue(Keys.of(newObj));
            }

            @Override
            public void onDelete(ObjectNode obj) {
                controller.enqueue(Keys.of(obj));
            }
        });
        nodes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                if (!Taints.withEffect(obj, Taints.NO_EXECUTE).isEmpty()) podsOn(obj);
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                if (oldObj == newObj || !Taints.withEffect(oldObj, Taints.NO_EXECUTE).equals(Taints.withEffect(newObj, Taints.NO_EXECUTE))) {
                    podsOn(newObj);
                }
            }

            @Override
            public void onDelete(ObjectNode obj) {
                podsOn(obj);
            }
        });
    }

    private void podsOn(ObjectNode node) {
        for (ObjectNode p : pods.byIndex(Indexers.NODE_NAME, Meta.name(node))) controller.enqueue(Keys.of(p));
    }

    @Override
    public void start() {
        controller.start();
        for (ObjectNode n : nodes.list()) if (!Taints.withEffect(n, Taints.NO_EXECUTE).isEmpty()) podsOn(n);
    }

    @Override
    public void close() {
        controller.close();
    }

    private Duration sync(String key) {
        ObjectNode pod = pods.get(key);
        if (pod == null || Meta.deleting(pod) || Pods.terminal(pod)) {
            scheduled.remove(key);
            return null;
        }
        String nodeName = Json.text(pod.get("spec"), "nodeName");
        ObjectNode node = nodeName.isEmpty() ? null : nodes.get("", nodeName);
        List<JsonNode> taints = node == null ? List.of() : Taints.withEffect(node, Taints.NO_EXECUTE);
        if (taints.isEmpty()) {
            cancel(key, pod);
            return null;
        }
        Instant now = clock.instant();
        List<JsonNode> used = Taints.matchingTolerations(taints, pod.path("spec").path("tolerations"));
        if (used == null) {
            scheduled.remove(key);
            evict(key, pod);
            return null;
        }
        long seconds = Taints.minTolerationSeconds(used);
        if (seconds < 0) {
            cancel(key, pod);
            return null;
        }
        Scheduled s = scheduled.get(key);
        Instant start = s != null && s.uid.equals(Meta.uid(pod)) ? s.createdAt : now;
        Instant fireAt = start.plusSeconds(seconds);
        scheduled.put(key, new Scheduled(Meta.uid(pod), start, fireAt));
        if (!fireAt.isAfter(now)) {
            scheduled.remove(key);
            evict(key, pod);
            return null;
        }
        return Duration.between(now, fireAt);
    }

    private void cancel(String key, ObjectNode pod) {
        if (scheduled.remove(key) != null) {
            events.event(pod, "v1", "Pod", "Normal", "TaintManagerEviction", "Cancelling deletion of Pod " + key);
        }
    }

    /** addConditionAndDeletePod: says why with a DisruptionTarget condition, then deletes the pod gracefully. */
    private void evict(String key, ObjectNode pod) {
        events.event(pod, "v1", "Pod", "Normal", "TaintManagerEviction", "Marking for deletion Pod " + key);
        String ts = Meta.timestamp(clock.instant());
        try {
            api.modify(podType, Meta.namespace(pod), Meta.name(pod), "status", p -> {
                if (!Meta.uid(p).equals(Meta.uid(pod))) throw ApiException.conflict("", "pods", Meta.name(pod), "replaced");
                ObjectNode status = Json.obj(p, "status");
                ArrayNode conds = status.has("conditions") && status.get("conditions").isArray()
                        ? (ArrayNode) status.get("conditions") : status.putArray("conditions");
                for (int i = conds.size() - 1; i >= 0; i--) {
                    if ("DisruptionTarget".equals(Json.text(conds.get(i), "type"))) conds.remove(i);
                }
                conds.addObject().put("type", "DisruptionTarget").put("status", "True").put("reason", "DeletionByTaintManager")
                        .put("message", "Taint manager: deleting due to NoExecute taint").put("lastTransitionTime", ts);
                return p;
            });
            api.delete(podType, Meta.namespace(pod), Meta.name(pod), new DeleteOptions(null, null, Meta.uid(pod), null, false));
        } catch (ApiException e) {
            if (e.code() != 404 && e.code() != 409) throw e;
        }
    }
}
