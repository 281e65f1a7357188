package io.k3j.controllers.scheduler;

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
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * kube-scheduler's loop around {@link SchedulingAlgorithm}: pods that need a node (no {@code spec.nodeName},
 * {@code schedulerName: default-scheduler}) are taken from a {@link SchedulingQueue} one at a time, in priority
 * order; the chosen node is assumed in the cache at once and the binding ({@code pods/binding}) written
 * asynchronously, so the next pod is scheduled while earlier bindings are in flight. Pods nothing fits get
 * {@code PodScheduled=False} with kube's message, a {@code FailedScheduling} event, and wait until a node or
 * pod change may help; preemption deletes the chosen victims and nominates the node.
 */
public final class SchedulerController implements ManagedController {
    private static final System.Logger LOG = System.getLogger(SchedulerController.class.getName());
    public static final String NAME = "default-scheduler";
    private static final int MAX_BINDINGS_IN_FLIGHT = 64;
    private static final String SELECTED_NODE = "volume.kubernetes.io/selected-node";

    private final ApiClient api;
    private final ResourceType pods;
    private final ResourceType pvcs;
    private final SharedInformer podInformer;
    private final SharedInformer nodeInformer;
    private final SharedInformer pvcInformer;
    private final SharedInformer pvInformer;
    private final SharedInformer classInformer;
    private final SharedInformer nsInformer;
    private final EventRecorder events;
    private final SchedulingQueue queue;
    private final SchedulingAlgorithm algorithm = new SchedulingAlgorithm();
    private final Object lock = new Object();
    private final Snapshot snapshot;
    /** Bound pods whose node is not (yet) known, by node name. */
    private final Map<String, Map<String, PodInfo>> waitingForNode = new HashMap<>();
    /** What the cache holds for each bound or assumed pod, by key. */
    private final Map<String, PodInfo> accounted = new HashMap<>();
    private final ExecutorService binders = Executors.newVirtualThreadPerTaskExecutor();
    private final Semaphore inFlight = new Semaphore(MAX_BINDINGS_IN_FLIGHT);
    private Thread loop;

    public SchedulerController(ControllerContext ctx) {
        this.api = ctx.api(NAME);
        this.pods = api.type("", "v1", "pods");
        this.pvcs = api.type("", "v1", "persistentvolumeclaims");
        this.queue = new SchedulingQueue(ctx.clock());
        this.events = ctx.events(NAME);
        this.podInformer = ctx.informer("", "v1", "pods");
        this.nodeInformer = ctx.informer("", "v1", "nodes");
        this.pvcInformer = ctx.informer("", "v1", "persistentvolumeclaims");
        this.pvInformer = ctx.informer("", "v1", "persistentvolumes");
        this.classInformer = ctx.informer("storage.k8s.io", "v1", "storageclasses");
        this.nsInformer = ctx.informer("", "v1", "namespaces");
        this.snapshot = Snapshot.of(List.of(), this::namespaceLabels, new InformerVolumes());
        nodeInformer.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                nodeChanged(obj);
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                if (oldObj != newObj) nodeChanged(newObj);
            }

            @Override
            public void onDelete(ObjectNode obj) {
                synchronized (lock) {
                    snapshot.removeNode(Meta.name(obj));
                }
            }
        });
        podInformer.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                podChanged(obj);
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                if (oldObj != newObj && !onlyStatusChanged(oldObj, newObj)) podChanged(newObj);
            }

            @Override
            public void onDelete(ObjectNode obj) {
                podGone(obj);
            }
        });
        SharedInformer.Handler storageChange = new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                queue.moveAllToActiveOrBackoff();
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                if (oldObj != newObj) queue.moveAllToActiveOrBackoff();
            }
        };
        pvcInformer.addHandler(storageChange);
        pvInformer.addHandler(storageChange);
    }

    private Map<String, String> namespaceLabels(String ns) {
        ObjectNode n = nsInformer.get("", ns);
        if (n == null) return null;
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode labels = Meta.labels(n);
        if (labels != null) labels.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private final class InformerVolumes implements VolumeLookup {
        @Override
        public ObjectNode claim(String namespace, String name) {
            return pvcInformer.get(namespace, name);
        }

        @Override
        public ObjectNode volume(String name) {
            return pvInformer.get("", name);
        }

        @Override
        public String bindingMode(String storageClassName) {
            ObjectNode sc = classInformer.get("", storageClassName);
            return sc == null ? null : Json.text(sc, "volumeBindingMode").isEmpty() ? "Immediate" : Json.text(sc, "volumeBindingMode");
        }
    }

    // ------------------------------------------------------------------ cache upkeep

    private void nodeChanged(ObjectNode node) {
        NodeInfo info = NodeInfo.of(node);
        boolean mayAdmitMore;
        synchronized (lock) {
            NodeInfo old = snapshot.node(info.name());
            snapshot.putNode(info);
            if (old == null) {
                Map<String, PodInfo> waiting = waitingForNode.remove(info.name());
                if (waiting != null) waiting.values().forEach(p -> snapshot.assume(p, info.name()));
            }
            mayAdmitMore = old == null || mayAdmitMore(old, info);
        }
        if (mayAdmitMore) queue.moveAllToActiveOrBackoff();
    }

    /**
     * Whether a node's update can let a pod fit that did not fit before, so that parked pods are worth another
     * attempt: it was uncordoned, lost a taint (its own or one its conditions imply, e.g. it became Ready), got
     * more allocatable, or its labels changed (affinity). Heartbeats, images, addresses and new taints can't
     * (kube-scheduler's nodeSchedulingPropertiesChange and the plugins' queueing hints): after 10,000 pods
     * parked on cordoned nodes, every status write of the node lifecycle controller sent all of them back.
     */
    static boolean mayAdmitMore(NodeInfo old, NodeInfo now) {
        if (old.unschedulable() && !now.unschedulable()) return true;
        if (!now.taints().containsAll(old.taints())) return true;
        if (!old.labels().equals(now.labels())) return true;
        if (now.allocMilliCpu > old.allocMilliCpu || now.allocMemory > old.allocMemory
                || now.allocEphemeral > old.allocEphemeral || now.allocPods > old.allocPods) return true;
        for (Map.Entry<String, Long> e : now.allocScalar.entrySet()) {
            if (e.getValue() > old.allocScalar.getOrDefault(e.getKey(), 0L)) return true;
        }
        return false;
    }

    private static boolean ours(JsonNode pod) {
        String scheduler = Json.text(pod.get("spec"), "schedulerName");
        return scheduler.isEmpty() || scheduler.equals(NAME);
    }

    private void podChanged(ObjectNode pod) {
        String key = Keys.of(pod);
        String node = Json.text(pod.get("spec"), "nodeName");
        if (!node.isEmpty()) {
            queue.remove(key);
            if (Pods.terminal(pod)) {
                release(key);
                queue.moveAllToActiveOrBackoff();
            } else {
                account(key, PodInfo.of(pod), node);
            }
            return;
        }
        if (Meta.deleting(pod) || Pods.terminal(pod) || !ours(pod)) {
            queue.remove(key);
            return;
        }
        queue.add(key, pod.path("spec").path("priority").asInt(0));
    }

    /**
     * An unbound pod whose change is only to its status (our own PodScheduled condition, say) is not worth
     * another attempt (kube's isPodUpdated).
     */
    private static boolean onlyStatusChanged(ObjectNode oldPod, ObjectNode newPod) {
        if (!Json.text(newPod.get("spec"), "nodeName").isEmpty() || Pods.terminal(newPod) || Meta.deleting(newPod)) return false;
        if (!oldPod.path("spec").equals(newPod.path("spec"))) return false;
        JsonNode om = oldPod.path("metadata");
        JsonNode nm = newPod.path("metadata");
        return om.path("labels").equals(nm.path("labels")) && om.path("annotations").equals(nm.path("annotations"));
    }

    private void podGone(ObjectNode pod) {
        String key = Keys.of(pod);
        queue.remove(key);
        if (release(key)) queue.moveAllToActiveOrBackoff();
    }

    private void account(String key, PodInfo info, String node) {
        synchronized (lock) {
            PodInfo old = accounted.put(key, info);
            if (old != null) {
                snapshot.forget(old);
                Map<String, PodInfo> w = waitingForNode.get(node);
                if (w != null) w.remove(key);
            }
            if (snapshot.node(node) != null) snapshot.assume(info, node);
            else waitingForNode.computeIfAbsent(node, n -> new HashMap<>()).put(key, info);
        }
    }

    private boolean release(String key) {
        synchronized (lock) {
            PodInfo old = accounted.remove(key);
            if (old == null) return false;
            snapshot.forget(old);
            waitingForNode.values().forEach(m -> m.remove(key));
            return true;
        }
    }

    // ------------------------------------------------------------------ scheduling cycle

    @Override
    public void start() {
        loop = Thread.ofVirtual().name("scheduler").start(this::run);
    }

    private void run() {
        while (true) {
            String key;
            try {
                key = queue.pop();
            } catch (InterruptedException e) {
                return;
            }
            if (key == null) return;
            try {
                scheduleOne(key);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "scheduling " + key + " failed", e);
                queue.retry(key);
            }
        }
    }

    private void scheduleOne(String key) throws InterruptedException {
        long cycle = queue.schedulingCycle();
        ObjectNode pod = podInformer.get(key);
        if (pod == null || !Json.text(pod.get("spec"), "nodeName").isEmpty() || Meta.deleting(pod) || Pods.terminal(pod)) return;
        PodInfo info = PodInfo.of(pod);
        ScheduleResult result;
        synchronized (lock) {
            result = algorithm.schedule(info, snapshot);
            if (result.scheduled()) {
                accounted.put(key, info);
                snapshot.assume(info, result.node());
            }
        }
        if (result.scheduled()) {
            inFlight.acquire();
            String node = result.node();
            binders.submit(() -> {
                try {
                    bind(pod, info, node);
                } catch (Throwable t) {
                    LOG.log(System.Logger.Level.ERROR, "binding " + key + " to " + node + " failed", t);
                } finally {
                    inFlight.release();
                }
            });
            return;
        }
        String message = result.fitError().message();
        if (result.preemption() != null) preempt(pod, result.preemption());
        markUnschedulable(pod, message);
        queue.unschedulable(key, cycle);
    }

    private void bind(ObjectNode pod, PodInfo info, String node) {
        String key = Keys.of(pod);
        try {
            for (String claim : info.claimNames()) selectNodeForClaim(Meta.namespace(pod), claim, node);
            api.bind(Meta.namespace(pod), Meta.name(pod), Meta.uid(pod), node);
            events.event(pod, "v1", "Pod", "Normal", "Scheduled", "Successfully assigned " + key + " to " + node);
        } catch (RuntimeException e) {
            synchronized (lock) {
                PodInfo mine = accounted.get(key);
                if (mine == info) {
                    accounted.remove(key);
                    snapshot.forget(info);
                }
            }
            LOG.log(System.Logger.Level.DEBUG, "binding {0} to {1}: {2}", key, node, e.getMessage());
            if (e instanceof ApiException ae && ae.code() == 404) return;
            if (e instanceof ApiException ae && ae.code() == 409 && ae.getMessage().contains("already assigned")) return;
            events.event(pod, "v1", "Pod", "Warning", "FailedScheduling", "Binding rejected: " + e.getMessage());
            queue.retry(key);
        }
    }

    /**
     * WaitForFirstConsumer: a claim that is not bound yet is told which node its pod goes to (the provisioner
     * creates a volume there); the pod is bound once the claim is, as kube's VolumeBinding PreBind waits.
     */
    private void selectNodeForClaim(String namespace, String claim, String node) {
        ObjectNode pvc = pvcInformer.get(namespace, claim);
        if (pvc == null || !Json.text(pvc.get("spec"), "volumeName").isEmpty()) return;
        String cls = Json.text(pvc.get("spec"), "storageClassName");
        ObjectNode sc = cls.isEmpty() ? null : classInformer.get("", cls);
        if (sc == null || !"WaitForFirstConsumer".equals(Json.text(sc, "volumeBindingMode"))) return;
        if (!node.equals(Meta.metadata(pvc).path("annotations").path(SELECTED_NODE).asText(""))) {
            api.modify(pvcs, namespace, claim, "", c -> {
                Json.obj(Meta.metadata(c), "annotations").put(SELECTED_NODE, node);
                return c;
            });
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            ObjectNode cur = pvcInformer.get(namespace, claim);
            if (cur == null) throw ApiException.notFound("", "persistentvolumeclaims", claim);
            if (!Json.text(cur.get("spec"), "volumeName").isEmpty()) return;
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for claim " + claim);
            }
        }
        throw new IllegalStateException("timed out waiting for PersistentVolumeClaim " + namespace + "/" + claim + " to be bound on " + node);
    }

    private void preempt(ObjectNode pod, Preemption.Result plan) {
        for (PodInfo victim : plan.victims()) {
            try {
                ObjectNode v = podInformer.get(victim.namespace(), victim.name());
                if (v != null) {
                    events.event(v, "v1", "Pod", "Normal", "Preempted", "Preempted by pod " + Meta.uid(pod) + " on node " + plan.node());
                }
                api.delete(pods, victim.namespace(), victim.name(), new DeleteOptions(null, null, victim.uid(), null, false));
            } catch (ApiException e) {
                if (e.code() != 404 && e.code() != 409) throw e;
            }
        }
        try {
            api.modify(pods, Meta.namespace(pod), Meta.name(pod), "status", p -> {
                Json.obj(p, "status").put("nominatedNodeName", plan.node());
                return p;
            });
        } catch (ApiException e) {
            if (e.code() != 404) throw e;
        }
    }

    /** PodScheduled=False (reason Unschedulable) and a FailedScheduling event, written only when the message changed. */
    private void markUnschedulable(ObjectNode pod, String message) {
        JsonNode cond = Pods.condition(pod, "PodScheduled");
        if (cond != null && cond.path("status").asText().equals("False") && cond.path("message").asText().equals(message)) return;
        events.event(pod, "v1", "Pod", "Warning", "FailedScheduling", message);
        String now = Meta.timestamp(api.clock().instant());
        try {
            api.modify(pods, Meta.namespace(pod), Meta.name(pod), "status", p -> {
                if (!Meta.uid(p).equals(Meta.uid(pod)) || !Json.text(p.get("spec"), "nodeName").isEmpty()) return p;
                ObjectNode status = Json.obj(p, "status");
                ArrayNode conds = status.has("conditions") && status.get("conditions").isArray()
                        ? (ArrayNode) status.get("conditions") : status.putArray("conditions");
                for (int i = conds.size() - 1; i >= 0; i--) {
                    if (conds.get(i).path("type").asText().equals("PodScheduled")) conds.remove(i);
                }
                ObjectNode c = conds.addObject();
                c.put("type", "PodScheduled").put("status", "False");
                c.putNull("lastProbeTime");
                c.put("lastTransitionTime", now).put("reason", "Unschedulable").put("message", message);
                return p;
            });
        } catch (ApiException e) {
            if (e.code() != 404 && e.code() != 409) throw e;
        }
    }

    @Override
    public void close() {
        queue.close();
        if (loop != null) loop.interrupt();
        binders.shutdownNow();
    }
}
