package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.common.Owners;
import io.k3j.controllers.common.PodTemplates;
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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one pod of each DaemonSet on every eligible node (kube's {@code pkg/controller/daemon}).
 *
 * <p>A node is eligible when the template's nodeSelector and required node affinity match it and the pod
 * (with the tolerations every daemon pod gets) tolerates its NoSchedule and NoExecute taints. Pods are not
 * bound here: each gets the required affinity {@code metadata.name In [node]} and the scheduler places it, as in
 * kube ≥ 1.12. Template changes roll out node by node (RollingUpdate with maxUnavailable or maxSurge) or wait
 * for the user to delete pods (OnDelete); each template is recorded as a ControllerRevision whose hash labels
 * the pods.
 */
public final class DaemonSetController implements ManagedController {
    static final String NAME = "daemonset-controller";
    private static final String KIND = "DaemonSet";
    private static final String API_VERSION = "apps/v1";
    /** How long a sync waits for the informer to show pods it created or deleted before acting again regardless. */
    private static final long EXPECTATION_TTL_NANOS = Duration.ofMinutes(5).toNanos();

    private final ApiClient api;
    private final Clock clock;
    private final SharedInformer daemonSets;
    private final SharedInformer pods;
    private final SharedInformer nodes;
    private final ControllerRevisions history;
    private final EventRecorder events;
    private final ResourceType podType;
    private final ResourceType dsType;
    private final Controller controller;
    private final Map<String, Expectations> expectations = new ConcurrentHashMap<>();

    public DaemonSetController(ControllerContext ctx) {
        this.api = ctx.api(NAME);
        this.clock = ctx.clock();
        this.daemonSets = ctx.informer("apps", "v1", "daemonsets");
        this.pods = ctx.informer("", "v1", "pods");
        this.nodes = ctx.informer("", "v1", "nodes");
        this.history = new ControllerRevisions(api, ctx.informer("apps", "v1", "controllerrevisions"));
        this.events = ctx.events(NAME);
        this.podType = pods.type();
        this.dsType = daemonSets.type();
        this.controller = new Controller(NAME, clock, 2, this::sync);
        pods.addIndexer(Indexers.CONTROLLER_UID, Indexers.BY_CONTROLLER_UID);
        daemonSets.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                controller.enqueue(Keys.of(obj));
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                controller.enqueue(Keys.of(newObj));
            }

            @Override
            public void onDelete(ObjectNode obj) {
                expectations.remove(Keys.of(obj));
                failedBackoff.keySet().removeIf(k -> k.startsWith(Meta.uid(obj) + "/"));
                controller.enqueue(Keys.of(obj));
            }
        });
        pods.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                String owner = owner(obj);
                if (owner == null) return;
                Expectations e = expectations.get(owner);
                if (e != null) e.created();
                controller.enqueue(owner);
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                String owner = owner(newObj);
                if (owner == null) return;
                // a graceful deletion has begun: that is the deletion the sync was waiting to see
                Expectations e = expectations.get(owner);
                if (e != null && Meta.deleting(newObj)) e.deleted(Meta.uid(newObj));
                controller.enqueue(owner);
            }

            @Override
            public void onDelete(ObjectNode obj) {
                String owner = owner(obj);
                if (owner == null) return;
                Expectations e = expectations.get(owner);
                if (e != null) e.deleted(Meta.uid(obj));
                controller.enqueue(owner);
            }
        });
        nodes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                enqueueAll();
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                // heartbeats change only status timestamps; placement depends on labels, taints and existence
                if (!oldObj.path("metadata").path("labels").equals(newObj.path("metadata").path("labels")) || !oldObj.path("spec").equals(newObj.path("spec"))) enqueueAll();
            }

            @Override
            public void onDelete(ObjectNode obj) {
                enqueueAll();
            }
        });
    }

    private static String owner(ObjectNode pod) {
        JsonNode ref = Owners.controllerRef(pod);
        if (ref == null || !ref.path("kind").asText().equals(KIND) || !ref.path("apiVersion").asText().startsWith("apps/")) return null;
        return Keys.of(Meta.namespace(pod), ref.path("name").asText());
    }

    private void enqueueAll() {
        for (ObjectNode ds : daemonSets.list()) controller.enqueue(Keys.of(ds));
    }

    @Override
    public void start() {
        controller.start();
    }

    @Override
    public void close() {
        controller.close();
    }

    /** What one sync found: the DaemonSet's pods grouped by the node they are for. */
    private record World(ObjectNode ds, String hash, Map<String, List<ObjectNode>> byNode, Map<String, ObjectNode> nodeObjects,
                         AtomicReference<Instant> retryAt) {
        void retryAt(Instant t) {
            retryAt.accumulateAndGet(t, (a, b) -> a == null || b.isBefore(a) ? b : a);
        }
    }

    /** When a failed daemon pod on a node may next be replaced, and the delay after that (kube's failedPodsBackoff). */
    private record Backoff(Instant next, Duration delay) {
    }

    private static final Duration FAILED_POD_BACKOFF = Duration.ofSeconds(1);
    private static final Duration FAILED_POD_BACKOFF_MAX = Duration.ofMinutes(15);
    private final Map<String, Backoff> failedBackoff = new ConcurrentHashMap<>();

    private Duration sync(String key) {
        ObjectNode ds = daemonSets.get(key);
        if (ds == null) {
            expectations.remove(key);
            return null;
        }
        if (Meta.deleting(ds)) return null;
        List<ObjectNode> revisions = history.owned(ds);
        int collisions = ds.path("status").path("collisionCount").asInt(0);
        ControllerRevisions.Update current = history.ensure(ds, API_VERSION, KIND, collisions, revisions);
        String hash = ControllerRevisions.hashOf(current.revision());

        Map<String, ObjectNode> nodeObjects = new LinkedHashMap<>();
        for (ObjectNode n : nodes.list()) nodeObjects.put(Meta.name(n), n);
        Map<String, List<ObjectNode>> byNode = new HashMap<>();
        List<ObjectNode> claimed = ControllerRefs.claim(api, podType, ds, API_VERSION, KIND, Owners.selector(ds),
                pods.list(Meta.namespace(ds)), () -> stillLive(api, dsType, ds));
        for (ObjectNode p : claimed) {
            // a terminal pod being deleted is already gone as far as placement is concerned
            if (Meta.deleting(p) && Pods.terminal(p)) continue;
            String target = DaemonPods.targetNode(p);
            if (target.isEmpty()) continue; // neither bound nor pinned (an adopted stray): kube leaves it alone too
            byNode.computeIfAbsent(target, n -> new ArrayList<>()).add(p);
        }
        for (List<ObjectNode> l : byNode.values()) l.sort(OLDEST_FIRST);
        World w = new World(ds, hash, byNode, nodeObjects, new AtomicReference<>());

        Expectations exp = expectations.get(key);
        if (exp == null || exp.satisfied()) {
            expectations.remove(key);
            boolean acted = manage(w);
            // like kube, a rollout step waits until the informer has shown what manage() just did
            JsonNode strategy = ds.path("spec").path("updateStrategy");
            if (!acted && strategy.path("type").asText("RollingUpdate").equals("RollingUpdate")) rollingUpdate(w);
        }
        cleanupHistory(ds, history.owned(ds), hash);
        Duration again = updateStatus(w, current.collisionCount());
        Instant retry = w.retryAt().get();
        if (retry == null) return again;
        Duration untilRetry = Duration.between(clock.instant(), retry).plusMillis(10);
        return again == null || untilRetry.compareTo(again) < 0 ? untilRetry : again;
    }

    /** canAdopt: a fresh read that the owner still exists, is the same object, and is not being deleted. */
    static boolean stillLive(ApiClient api, ResourceType type, ObjectNode owner) {
        ObjectNode fresh = api.find(type, Meta.namespace(owner), Meta.name(owner)).orElse(null);
        return fresh != null && Meta.uid(fresh).equals(Meta.uid(owner)) && !Meta.deleting(fresh);
    }

    /** podByCreationTimestampAndPhase: bound pods first, then oldest first, then by name. */
    private static final Comparator<ObjectNode> OLDEST_FIRST = Comparator
            .comparing((ObjectNode p) -> Json.text(p.get("spec"), "nodeName").isEmpty())
            .thenComparing(p -> Pods.created(p))
            .thenComparing(p -> Meta.name(p));

    /** podsShouldBeOnNode over every node, plus pods whose node is gone. */
    private boolean manage(World w) {
        List<String> create = new ArrayList<>();
        List<ObjectNode> delete = new ArrayList<>();
        boolean surge = maxSurge(w.ds, 1) > 0;
        ObjectNode podSpec = daemonPodSpec(w.ds);
        for (ObjectNode node : w.nodeObjects.values()) {
            String name = Meta.name(node);
            DaemonPods.Placement where = DaemonPods.placement(podSpec, node);
            List<ObjectNode> here = w.byNode.getOrDefault(name, List.of());
            if (where.shouldRun() && here.isEmpty()) {
                create.add(name);
            } else if (where.shouldContinueRunning()) {
                List<ObjectNode> running = new ArrayList<>();
                for (ObjectNode p : here) {
                    if (Meta.deleting(p)) continue;
                    if (Pods.phase(p).equals("Failed")) {
                        if (replaceFailed(w, name, p)) delete.add(p);
                    } else if (Pods.terminal(p)) {
                        delete.add(p); // completed: replace it
                    } else {
                        running.add(p);
                    }
                }
                if (!surge) {
                    for (int i = 1; i < running.size(); i++) delete.add(running.get(i));
                } else {
                    // during a surge a node may hold the oldest old pod and the oldest new pod, the old one until the new is available
                    ObjectNode oldestNew = null;
                    ObjectNode oldestOld = null;
                    for (ObjectNode p : running) {
                        if (updated(p, w.hash)) {
                            if (oldestNew == null) oldestNew = p;
                            else delete.add(p);
                        } else if (oldestOld == null) {
                            oldestOld = p;
                        } else {
                            delete.add(p);
                        }
                    }
                    if (oldestNew != null && oldestOld != null && available(w.ds, oldestNew)) delete.add(oldestOld);
                }
            } else {
                for (ObjectNode p : here) if (!Meta.deleting(p)) delete.add(p);
            }
        }
        // Pods meant for nodes that no longer exist: kube deletes unbound ones here and leaves bound ones to the
        // pod garbage collector; removing both here keeps a DaemonSet correct where no pod GC runs (and sooner).
        for (Map.Entry<String, List<ObjectNode>> e : w.byNode.entrySet()) {
            if (w.nodeObjects.containsKey(e.getKey())) continue;
            for (ObjectNode p : e.getValue()) if (!Meta.deleting(p)) delete.add(p);
        }
        return syncNodes(w, delete, create);
    }

    /**
     * A daemon pod that failed is replaced, but with a per-node backoff from 1 s doubling to 15 min: a kubelet that
     * rejects the pod at once (a host port taken, say) would otherwise make the controller create and delete in a
     * hot loop.
     */
    private boolean replaceFailed(World w, String node, ObjectNode pod) {
        String key = Meta.uid(w.ds) + "/" + node;
        Instant now = clock.instant();
        Backoff b = failedBackoff.get(key);
        if (b != null && now.isBefore(b.next())) {
            w.retryAt(b.next());
            return false;
        }
        Duration delay = b == null ? FAILED_POD_BACKOFF : b.delay().multipliedBy(2);
        if (delay.compareTo(FAILED_POD_BACKOFF_MAX) > 0) delay = FAILED_POD_BACKOFF_MAX;
        failedBackoff.put(key, new Backoff(now.plus(delay), delay));
        events.event(w.ds, API_VERSION, KIND, "Warning", "FailedDaemonPod",
                "Found failed daemon pod " + Meta.namespace(pod) + "/" + Meta.name(pod) + " on node " + node + ", will try to kill it");
        return true;
    }

    /** rollingUpdate: replace old pods node by node within maxUnavailable, or surge new ones within maxSurge. */
    private void rollingUpdate(World w) {
        int desired = 0;
        ObjectNode podSpec = daemonPodSpec(w.ds);
        for (ObjectNode node : w.nodeObjects.values()) if (DaemonPods.placement(podSpec, node).shouldRun()) desired++;
        int maxSurge = maxSurge(w.ds, desired);
        int maxUnavailable = maxUnavailable(w.ds, desired);
        if (maxSurge == 0 && maxUnavailable == 0) maxUnavailable = 1;
        List<ObjectNode> delete = new ArrayList<>();
        List<String> create = new ArrayList<>();
        if (maxSurge == 0) {
            int unavailable = 0;
            List<ObjectNode> candidates = new ArrayList<>();
            for (Map.Entry<String, List<ObjectNode>> e : w.byNode.entrySet()) {
                ObjectNode[] np = newAndOld(e.getValue(), w.hash);
                if (np == null) {
                    unavailable++;
                    continue;
                }
                ObjectNode newPod = np[0];
                ObjectNode oldPod = np[1];
                if ((newPod == null) == (oldPod == null)) {
                    unavailable++; // manage() creates or prunes here
                } else if (newPod != null) {
                    if (!available(w.ds, newPod)) unavailable++;
                } else if (!available(w.ds, oldPod)) {
                    delete.add(oldPod); // replacing an unavailable pod costs no availability
                } else {
                    candidates.add(oldPod);
                }
            }
            candidates.sort(Comparator.comparing(DaemonPods::targetNode));
            int room = Math.max(0, Math.min(maxUnavailable - unavailable, candidates.size()));
            delete.addAll(candidates.subList(0, room));
        } else {
            int surging = 0;
            List<String> candidates = new ArrayList<>();
            for (Map.Entry<String, List<ObjectNode>> e : w.byNode.entrySet()) {
                ObjectNode[] np = newAndOld(e.getValue(), w.hash);
                if (np == null) {
                    surging++;
                    continue;
                }
                ObjectNode newPod = np[0];
                ObjectNode oldPod = np[1];
                ObjectNode node = w.nodeObjects.get(e.getKey());
                if (oldPod == null || node == null) continue;
                if (newPod == null) {
                    if (!DaemonPods.placement(podSpec, node).shouldRun()) continue;
                    if (!available(w.ds, oldPod)) create.add(e.getKey());
                    else candidates.add(e.getKey());
                } else if (!available(w.ds, newPod)) {
                    surging++;
                } else {
                    delete.add(oldPod);
                }
            }
            candidates.sort(null);
            int room = Math.max(0, Math.min(maxSurge - surging, candidates.size()));
            create.addAll(candidates.subList(0, room));
        }
        syncNodes(w, delete, create);
    }

    /** findUpdatedPodsOnNode: {new, old} among the live pods, or null when there is more than one of either. */
    private static ObjectNode[] newAndOld(List<ObjectNode> podsOnNode, String hash) {
        ObjectNode newPod = null;
        ObjectNode oldPod = null;
        for (ObjectNode p : podsOnNode) {
            if (Meta.deleting(p)) continue;
            if (updated(p, hash)) {
                if (newPod != null) return null;
                newPod = p;
            } else {
                if (oldPod != null) return null;
                oldPod = p;
            }
        }
        return new ObjectNode[] {newPod, oldPod};
    }

    private static boolean updated(JsonNode pod, String hash) {
        return !hash.isEmpty() && hash.equals(pod.path("metadata").path("labels").path(ControllerRevisions.HASH_LABEL).asText(""));
    }

    private boolean available(ObjectNode ds, ObjectNode pod) {
        return Pods.available(pod, ds.path("spec").path("minReadySeconds").asInt(0), clock.instant());
    }

    private boolean syncNodes(World w, List<ObjectNode> delete, List<String> createOn) {
        if (delete.isEmpty() && createOn.isEmpty()) return false;
        String key = Keys.of(w.ds);
        Set<String> deleteUids = new HashSet<>();
        for (ObjectNode p : delete) deleteUids.add(Meta.uid(p));
        Expectations exp = new Expectations(createOn.size(), deleteUids);
        expectations.put(key, exp);
        for (String node : createOn) {
            ObjectNode pod = newPod(w.ds, w.hash, node);
            try {
                ObjectNode made = api.create(podType, Meta.namespace(w.ds), pod);
                events.event(w.ds, API_VERSION, KIND, "Normal", "SuccessfulCreate", "Created pod: " + Meta.name(made));
            } catch (RuntimeException e) {
                exp.created(); // this one will never be observed
                events.event(w.ds, API_VERSION, KIND, "Warning", "FailedCreate", "Error creating: " + e.getMessage());
                throw e;
            }
        }
        for (ObjectNode p : delete) {
            try {
                if (api.deleteIfExists(podType, Meta.namespace(p), Meta.name(p), Meta.uid(p), null)) {
                    events.event(w.ds, API_VERSION, KIND, "Normal", "SuccessfulDelete", "Deleted pod: " + Meta.name(p));
                } else {
                    exp.deleted(Meta.uid(p));
                }
            } catch (RuntimeException e) {
                exp.deleted(Meta.uid(p));
                events.event(w.ds, API_VERSION, KIND, "Warning", "FailedDelete", "Error deleting: " + e.getMessage());
                throw e;
            }
        }
        return true;
    }

    /** The template's pod spec with the daemon tolerations: what placement is judged on. */
    private static ObjectNode daemonPodSpec(ObjectNode ds) {
        JsonNode spec = ds.path("spec").path("template").path("spec");
        ObjectNode podSpec = spec.isObject() ? ((ObjectNode) spec).deepCopy() : Json.object();
        DaemonPods.addTolerations(podSpec);
        return podSpec;
    }

    private static ObjectNode newPod(ObjectNode ds, String hash, String node) {
        ObjectNode pod = PodTemplates.newPod(ds.path("spec").path("template"), Owners.reference(ds, API_VERSION, KIND),
                Meta.namespace(ds), null, Meta.name(ds) + "-");
        ObjectNode labels = Json.obj(Meta.metadata(pod), "labels");
        labels.put(ControllerRevisions.HASH_LABEL, hash);
        labels.put("pod-template-generation", Long.toString(ds.path("metadata").path("generation").asLong(1)));
        ObjectNode spec = (ObjectNode) pod.get("spec");
        DaemonPods.addTolerations(spec);
        DaemonPods.pinToNode(spec, node);
        return pod;
    }

    private void cleanupHistory(ObjectNode ds, List<ObjectNode> revisions, String currentHash) {
        int limit = ds.path("spec").path("revisionHistoryLimit").asInt(10);
        Map<String, String> byHash = ControllerRevisions.namesByHash(revisions);
        Set<String> live = new HashSet<>();
        live.add(byHash.getOrDefault(currentHash, ""));
        for (ObjectNode p : pods.byIndex(Indexers.CONTROLLER_UID, Meta.uid(ds))) {
            String n = byHash.get(p.path("metadata").path("labels").path(ControllerRevisions.HASH_LABEL).asText(""));
            if (n != null) live.add(n);
        }
        history.truncate(revisions, live, limit);
    }

    /** updateDaemonSetStatus; returns when to look again for pods that become available after minReadySeconds. */
    private Duration updateStatus(World w, int collisionCount) {
        int desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
        int minReady = w.ds.path("spec").path("minReadySeconds").asInt(0);
        Instant now = clock.instant();
        Instant nextAvailable = null;
        ObjectNode podSpec = daemonPodSpec(w.ds);
        for (ObjectNode node : w.nodeObjects.values()) {
            boolean shouldRun = DaemonPods.placement(podSpec, node).shouldRun();
            List<ObjectNode> here = w.byNode.getOrDefault(Meta.name(node), List.of());
            if (shouldRun) {
                desired++;
                if (here.isEmpty()) continue;
                current++;
                ObjectNode pod = here.get(0);
                if (Pods.ready(pod)) {
                    ready++;
                    if (Pods.available(pod, minReady, now)) {
                        available++;
                    } else {
                        Instant at = Pods.availableAt(pod, minReady);
                        if (at != null && (nextAvailable == null || at.isBefore(nextAvailable))) nextAvailable = at;
                    }
                }
                if (updated(pod, w.hash)) updated++;
            } else if (!here.isEmpty()) {
                misscheduled++;
            }
        }
        ObjectNode status = Json.object();
        status.put("currentNumberScheduled", current).put("numberMisscheduled", misscheduled).put("desiredNumberScheduled", desired)
                .put("numberReady", ready).put("observedGeneration", w.ds.path("metadata").path("generation").asLong(0))
                .put("updatedNumberScheduled", updated).put("numberAvailable", available);
        if (desired - available > 0) status.put("numberUnavailable", desired - available);
        if (collisionCount > 0) status.put("collisionCount", collisionCount);
        JsonNode conditions = w.ds.path("status").path("conditions");
        if (conditions.isArray() && !conditions.isEmpty()) status.set("conditions", conditions.deepCopy());
        if (!ControllerRevisions.sameJson(status, w.ds.path("status"))) {
            api.modify(dsType, Meta.namespace(w.ds), Meta.name(w.ds), "status", d -> {
                if (!Meta.uid(d).equals(Meta.uid(w.ds))) return d;
                d.set("status", status);
                return d;
            });
        }
        if (nextAvailable == null) return null;
        Duration wait = Duration.between(now, nextAvailable);
        return wait.isNegative() ? Duration.ofMillis(100) : wait.plusMillis(50);
    }

    private static int maxSurge(ObjectNode ds, int desired) {
        JsonNode ru = ds.path("spec").path("updateStrategy").path("rollingUpdate");
        if (!ds.path("spec").path("updateStrategy").path("type").asText("RollingUpdate").equals("RollingUpdate")) return 0;
        return scaled(ru.get("maxSurge"), desired, 0);
    }

    private static int maxUnavailable(ObjectNode ds, int desired) {
        return scaled(ds.path("spec").path("updateStrategy").path("rollingUpdate").get("maxUnavailable"), desired, 1);
    }

    /** GetScaledValueFromIntOrPercent rounding up, as the DaemonSet controller asks for both knobs. */
    static int scaled(JsonNode v, int total, int absent) {
        if (v == null || v.isNull() || v.isMissingNode()) return absent;
        if (v.isNumber()) return v.asInt();
        String s = v.asText().trim();
        if (s.endsWith("%")) {
            try {
                int pct = Integer.parseInt(s.substring(0, s.length() - 1));
                return (int) Math.ceil(pct * (double) total / 100.0);
            } catch (NumberFormatException e) {
                return absent;
            }
        }
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return absent;
        }
    }

    /**
     * Creations and deletions a sync issued and the informer has not shown yet (kube's ControllerExpectations):
     * until they are seen, another sync would count stale pods and create or delete twice.
     */
    private static final class Expectations {
        private int adds;
        private final Set<String> deletes;
        private final long deadline = System.nanoTime() + EXPECTATION_TTL_NANOS;

        Expectations(int adds, Set<String> deletes) {
            this.adds = adds;
            this.deletes = ConcurrentHashMap.newKeySet();
            this.deletes.addAll(deletes);
        }

        synchronized void created() {
            adds--;
        }

        void deleted(String uid) {
            deletes.remove(uid);
        }

        synchronized boolean satisfied() {
            return (adds <= 0 && deletes.isEmpty()) || System.nanoTime() - deadline > 0;
        }
    }
}
