package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector;
import io.k3j.apiserver.registry.DeleteOptions;
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
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Keeps {@code spec.replicas} pods running for each ReplicaSet (apps/v1) or ReplicationController (core/v1),
 * as kube's replicaset controller does for both: it adopts matching orphans and releases pods that stopped
 * matching, creates missing pods in slow-start batches (1, 2, 4, …, so a failing create such as a quota
 * rejection costs one call, not hundreds), deletes the cheapest surplus pods first ({@link PodRanking}), and
 * never acts twice on the same need: what it asked for is remembered ({@link Expectations}) until the pod
 * informer shows it. It reports replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (after
 * {@code minReadySeconds}), observedGeneration and a ReplicaFailure condition when creating or deleting fails.
 */
public final class ReplicaSetController implements ManagedController {
    /** kube's burstReplicas: the most pods created or deleted in one sync. */
    static final int BURST_REPLICAS = 500;

    /** What differs between the two kinds the controller serves. */
    private record Kind(String group, String version, String plural, String apiVersion, String kind, String component, boolean mapSelector) {}

    private static final Kind REPLICA_SET = new Kind("apps", "v1", "replicasets", "apps/v1", "ReplicaSet", "replicaset-controller", false);
    private static final Kind REPLICATION_CONTROLLER =
            new Kind("", "v1", "replicationcontrollers", "v1", "ReplicationController", "replication-controller", true);

    private final Kind kind;
    private final ApiClient api;
    private final Clock clock;
    private final ResourceType ownerType;
    private final ResourceType podType;
    private final SharedInformer owners;
    private final SharedInformer pods;
    private final EventRecorder events;
    private final Expectations expectations;
    private final Controller controller;
    private final ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor();

    /** The ReplicaSet controller (apps/v1 ReplicaSets). */
    public static ReplicaSetController replicaSets(ControllerContext ctx) {
        return new ReplicaSetController(ctx, REPLICA_SET);
    }

    /** The same logic for core/v1 ReplicationControllers, whose selector is a plain label map. */
    public static ReplicaSetController replicationControllers(ControllerContext ctx) {
        return new ReplicaSetController(ctx, REPLICATION_CONTROLLER);
    }

    private ReplicaSetController(ControllerContext ctx, Kind kind) {
        this.kind = kind;
        this.api = ctx.api(kind.component());
        this.clock = ctx.clock();
        this.ownerType = api.type(kind.group(), kind.version(), kind.plural());
        this.podType = api.type("", "v1", "pods");
        this.owners = ctx.informer(kind.group(), kind.version(), kind.plural());
        this.pods = ctx.informer("", "v1", "pods");
        this.pods.addIndexer(Indexers.CONTROLLER_UID, Indexers.BY_CONTROLLER_UID);
        this.events = ctx.events(kind.component());
        this.expectations = new Expectations(clock);
        this.controller = new Controller(kind.component(), clock, 5, this::sync);
        owners.addHandler(new SharedInformer.Handler() {
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
                expectations.forget(Keys.of(obj));
                controller.enqueue(Keys.of(obj));
            }
        });
        pods.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode pod) {
                if (Meta.deleting(pod)) {
                    podGone(pod);
                    return;
                }
                String owner = ownerKey(pod);
                if (owner != null) {
                    expectations.creationObserved(owner);
                    controller.enqueue(owner);
                } else if (Owners.controllerRef(pod) == null) {
                    enqueueMatching(pod);
                }
            }

            @Override
            public void onUpdate(ObjectNode oldPod, ObjectNode newPod) {
                if (Meta.resourceVersion(oldPod).equals(Meta.resourceVersion(newPod))) return;
                boolean labelsChanged = !Objects.equals(Meta.labels(oldPod), Meta.labels(newPod));
                if (Meta.deleting(newPod)) {
                    podGone(newPod);
                    if (labelsChanged) podGone(oldPod);
                    return;
                }
                String oldOwner = ownerKey(oldPod);
                String newOwner = ownerKey(newPod);
                if (oldOwner != null && !oldOwner.equals(newOwner)) controller.enqueue(oldOwner);
                if (newOwner != null) {
                    controller.enqueue(newOwner);
                } else if (Owners.controllerRef(newPod) == null && (labelsChanged || oldOwner != null)) {
                    enqueueMatching(newPod);
                }
            }

            @Override
            public void onDelete(ObjectNode pod) {
                podGone(pod);
            }
        });
    }

    private void podGone(ObjectNode pod) {
        String owner = ownerKey(pod);
        if (owner == null) return;
        expectations.deletionObserved(owner, Keys.of(pod));
        controller.enqueue(owner);
    }

    /** The key of the owner of our kind that controls {@code pod}, or null. */
    private String ownerKey(ObjectNode pod) {
        JsonNode ref = Owners.controllerRef(pod);
        if (ref == null || !ref.path("kind").asText().equals(kind.kind())) return null;
        ObjectNode owner = owners.get(Meta.namespace(pod), ref.path("name").asText());
        if (owner == null || !Meta.uid(owner).equals(ref.path("uid").asText())) return null;
        return Keys.of(owner);
    }

    private void enqueueMatching(ObjectNode pod) {
        for (ObjectNode o : owners.list(Meta.namespace(pod))) {
            if (selector(o).matches(Meta.labels(pod))) controller.enqueue(Keys.of(o));
        }
    }

    private LabelSelector selector(JsonNode owner) {
        if (!kind.mapSelector()) return Owners.selector(owner);
        JsonNode sel = owner.path("spec").path("selector");
        if (!sel.isObject() || sel.isEmpty()) return LabelSelector.NOTHING;
        Map<String, String> m = new HashMap<>();
        sel.properties().forEach(e -> m.put(e.getKey(), e.getValue().asText()));
        return LabelSelector.fromMap(m);
    }

    @Override
    public void start() {
        controller.start();
    }

    @Override
    public void close() {
        controller.close();
        writers.shutdownNow();
    }

    private Duration sync(String key) throws Exception {
        ObjectNode owner = owners.get(key);
        if (owner == null) {
            expectations.forget(key);
            return null;
        }
        // before listing pods, as kube does: a creation observed after the listing must not make a stale listing look complete
        boolean needsSync = expectations.satisfied(key) && !Meta.deleting(owner);
        String ns = Meta.namespace(owner);
        LabelSelector selector = selector(owner);
        List<ObjectNode> active = new ArrayList<>();
        for (ObjectNode p : pods.list(ns)) {
            if (Pods.active(p)) active.add(p);
        }
        List<ObjectNode> claimed = ControllerRefs.claim(api, podType, owner, kind.apiVersion(), kind.kind(), selector, active, () -> {
            ObjectNode fresh = api.find(ownerType, ns, Meta.name(owner)).orElse(null);
            return fresh != null && Meta.uid(fresh).equals(Meta.uid(owner)) && !Meta.deleting(fresh);
        });
        int want = owner.path("spec").path("replicas").asInt(1);
        Exception manageError = null;
        int diff = claimed.size() - want;
        if (needsSync) {
            try {
                manage(key, owner, claimed, diff);
            } catch (ApiException e) {
                manageError = e;
            }
        }
        Instant now = clock.instant();
        int minReady = owner.path("spec").path("minReadySeconds").asInt(0);
        updateStatus(owner, claimed, manageError, diff, minReady, now);
        if (manageError != null) throw manageError;
        // a pod that is ready but not yet available becomes available without any event to tell us
        Instant next = null;
        for (ObjectNode p : claimed) {
            Instant at = Pods.availableAt(p, minReady);
            if (at != null && at.isAfter(now) && (next == null || at.isBefore(next))) next = at;
        }
        return next == null ? null : Duration.between(now, next).plusMillis(100);
    }

    private void manage(String key, ObjectNode owner, List<ObjectNode> claimed, int diff) throws InterruptedException {
        if (diff < 0) {
            int n = Math.min(-diff, BURST_REPLICAS);
            expectations.expectCreations(key, n);
            ObjectNode template = (ObjectNode) owner.path("spec").path("template");
            ObjectNode ref = Owners.reference(owner, kind.apiVersion(), kind.kind());
            ApiException failure = null;
            // slow start: a batch only goes out when the previous one fully succeeded
            int remaining = n;
            int batch = Math.min(n, 1);
            while (remaining > 0) {
                int size = batch;
                List<Future<?>> inflight = new ArrayList<>();
                ApiException[] errors = new ApiException[size];
                for (int i = 0; i < size; i++) {
                    int slot = i;
                    inflight.add(writers.submit(() -> {
                        try {
                            createPod(owner, template, ref);
                        } catch (ApiException e) {
                            errors[slot] = e;
                        }
                    }));
                }
                for (Future<?> f : inflight) await(f);
                for (ApiException e : errors) {
                    if (e != null) {
                        expectations.lowerCreations(key, 1);
                        if (failure == null) failure = e;
                    }
                }
                remaining -= size;
                if (failure != null) {
                    // the pods of batches never sent will never be observed
                    expectations.lowerCreations(key, remaining);
                    break;
                }
                batch = Math.min(2 * batch, remaining);
            }
            if (failure != null) throw failure;
        } else if (diff > 0) {
            int n = Math.min(diff, BURST_REPLICAS);
            Map<String, Integer> perNode = new HashMap<>();
            for (ObjectNode p : pods.byIndex(Indexers.CONTROLLER_UID, Meta.uid(owner))) {
                if (Pods.active(p)) perNode.merge(Json.text(p.get("spec"), "nodeName"), 1, Integer::sum);
            }
            List<ObjectNode> victims = PodRanking.sorted(claimed, perNode).subList(0, n);
            Set<String> victimKeys = new LinkedHashSet<>();
            for (ObjectNode p : victims) victimKeys.add(Keys.of(p));
            expectations.expectDeletions(key, victimKeys);
            List<Future<?>> inflight = new ArrayList<>();
            ApiException[] errors = new ApiException[victims.size()];
            for (int i = 0; i < victims.size(); i++) {
                int slot = i;
                ObjectNode p = victims.get(i);
                inflight.add(writers.submit(() -> {
                    try {
                        api.delete(podType, Meta.namespace(p), Meta.name(p), new DeleteOptions(null, null, Meta.uid(p), null, false));
                        events.event(owner, kind.apiVersion(), kind.kind(), "Normal", "SuccessfulDelete", "Deleted pod: " + Meta.name(p));
                    } catch (ApiException e) {
                        expectations.deletionObserved(key, Keys.of(p));
                        if (e.code() != 404 && e.code() != 409) {
                            errors[slot] = e;
                            events.event(owner, kind.apiVersion(), kind.kind(), "Warning", "FailedDelete", "Error deleting: " + e.getMessage());
                        }
                    }
                }));
            }
            for (Future<?> f : inflight) await(f);
            for (ApiException e : errors) {
                if (e != null) throw e;
            }
        }
    }

    private void createPod(ObjectNode owner, ObjectNode template, ObjectNode ref) {
        ObjectNode pod = PodTemplates.newPod(template, ref, Meta.namespace(owner), null, Meta.name(owner) + "-");
        try {
            ObjectNode created = api.create(podType, Meta.namespace(owner), pod);
            events.event(owner, kind.apiVersion(), kind.kind(), "Normal", "SuccessfulCreate", "Created pod: " + Meta.name(created));
        } catch (ApiException e) {
            events.event(owner, kind.apiVersion(), kind.kind(), "Warning", "FailedCreate", "Error creating: " + e.getMessage());
            throw e;
        }
    }

    private static void await(Future<?> f) throws InterruptedException {
        try {
            f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private void updateStatus(ObjectNode owner, List<ObjectNode> claimed, Exception manageError, int diff, int minReady, Instant now) {
        JsonNode templateLabels = owner.path("spec").path("template").path("metadata").path("labels");
        int fullyLabeled = 0;
        int ready = 0;
        int available = 0;
        for (ObjectNode p : claimed) {
            if (LabelSelector.fromMap(toMap(templateLabels)).matches(Meta.labels(p))) fullyLabeled++;
            if (Pods.ready(p)) {
                ready++;
                if (Pods.available(p, minReady, now)) available++;
            }
        }
        ObjectNode old = owner.path("status").isObject() ? (ObjectNode) owner.get("status") : Json.object();
        ObjectNode status = old.deepCopy();
        status.put("replicas", claimed.size());
        status.put("fullyLabeledReplicas", fullyLabeled);
        status.put("readyReplicas", ready);
        status.put("availableReplicas", available);
        status.put("observedGeneration", owner.path("metadata").path("generation").asLong(1));
        ArrayNode conds = status.has("conditions") && status.get("conditions").isArray() ? (ArrayNode) status.get("conditions") : null;
        int failureAt = -1;
        if (conds != null) {
            for (int i = 0; i < conds.size(); i++) if (conds.get(i).path("type").asText().equals("ReplicaFailure")) failureAt = i;
        }
        if (manageError != null && failureAt < 0) {
            if (conds == null) conds = status.putArray("conditions");
            conds.addObject().put("type", "ReplicaFailure").put("status", "True")
                    .put("lastTransitionTime", Meta.timestamp(now)).put("reason", diff < 0 ? "FailedCreate" : "FailedDelete")
                    .put("message", manageError.getMessage());
        } else if (manageError == null && failureAt >= 0) {
            conds.remove(failureAt);
            if (conds.isEmpty()) status.remove("conditions");
        }
        if (Rollouts.sameJson(old, status)) return;
        ObjectNode copy = owner.deepCopy();
        copy.set("status", status);
        try {
            api.updateStatus(ownerType, copy);
        } catch (ApiException e) {
            if (e.code() != 404 && e.code() != 409) throw e;
            if (e.code() == 409) controller.enqueue(Keys.of(owner));
        }
    }

    private static Map<String, String> toMap(JsonNode labels) {
        Map<String, String> m = new HashMap<>();
        if (labels != null && labels.isObject()) labels.properties().forEach(e -> m.put(e.getKey(), e.getValue().asText()));
        return m;
    }
}
