package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.common.Owners;
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
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Rolls Deployments out through ReplicaSets, as kube's deployment controller does: the ReplicaSet whose
 * template equals the Deployment's (ignoring the pod-template-hash label) is the new one, created as
 * {@code <deployment>-<hash>} when missing; RollingUpdate moves replicas from old to new within maxSurge and
 * maxUnavailable, Recreate scales the old ones to zero and waits for their pods to be gone first. Revisions
 * live in the {@code deployment.kubernetes.io/revision} annotation, so a template that goes back to an old
 * ReplicaSet's (kubectl rollout undo) makes that ReplicaSet the new one under the next revision. Scaling
 * while a rollout is under way, or while paused, is proportional. Progress is reported in the Progressing
 * and Available conditions with kube's reasons and messages; old ReplicaSets beyond revisionHistoryLimit go.
 */
public final class DeploymentController implements ManagedController {
    static final String COMPONENT = "deployment-controller";

    private final ApiClient api;
    private final Clock clock;
    private final ResourceType deploymentType;
    private final ResourceType rsType;
    private final SharedInformer deployments;
    private final SharedInformer replicaSets;
    private final SharedInformer pods;
    private final EventRecorder events;
    private final Controller controller;

    /** A ReplicaSet as this sync sees it; writes replace {@link #o} with what the server returned. */
    private static final class Rs {
        ObjectNode o;

        Rs(ObjectNode o) {
            this.o = o;
        }

        String name() {
            return Meta.name(o);
        }

        int spec() {
            return o.path("spec").path("replicas").asInt(1);
        }

        int status(String field) {
            return o.path("status").path(field).asInt(0);
        }

        Instant created() {
            return Pods.created(o);
        }
    }

    public DeploymentController(ControllerContext ctx) {
        this.api = ctx.api(COMPONENT);
        this.clock = ctx.clock();
        this.deploymentType = api.type("apps", "v1", "deployments");
        this.rsType = api.type("apps", "v1", "replicasets");
        this.deployments = ctx.informer("apps", "v1", "deployments");
        this.replicaSets = ctx.informer("apps", "v1", "replicasets");
        this.pods = ctx.informer("", "v1", "pods");
        this.replicaSets.addIndexer(Indexers.CONTROLLER_UID, Indexers.BY_CONTROLLER_UID);
        this.pods.addIndexer(Indexers.CONTROLLER_UID, Indexers.BY_CONTROLLER_UID);
        this.events = ctx.events(COMPONENT);
        this.controller = new Controller(COMPONENT, clock, 5, this::sync);
        deployments.addHandler(SharedInformer.Handler.onEvery(o -> controller.enqueue(Keys.of(o))));
        replicaSets.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode rs) {
                rsChanged(rs, true);
            }

            @Override
            public void onUpdate(ObjectNode oldRs, ObjectNode newRs) {
                if (Meta.resourceVersion(oldRs).equals(Meta.resourceVersion(newRs))) return;
                String oldOwner = ownerKey(oldRs);
                if (oldOwner != null && !oldOwner.equals(ownerKey(newRs))) controller.enqueue(oldOwner);
                rsChanged(newRs, !Objects.equals(Meta.labels(oldRs), Meta.labels(newRs)) || oldOwner != null);
            }

            @Override
            public void onDelete(ObjectNode rs) {
                String owner = ownerKey(rs);
                if (owner != null) controller.enqueue(owner);
            }
        });
        pods.addHandler(new SharedInformer.Handler() {
            // Recreate waits for the old pods to be gone: their deletion is what lets it continue
            @Override
            public void onDelete(ObjectNode pod) {
                JsonNode ref = Owners.controllerRef(pod);
                if (ref == null || !ref.path("kind").asText().equals("ReplicaSet")) return;
                ObjectNode rs = replicaSets.get(Meta.namespace(pod), ref.path("name").asText());
                if (rs == null) return;
                String owner = ownerKey(rs);
                if (owner != null) controller.enqueue(owner);
            }
        });
    }

    private void rsChanged(ObjectNode rs, boolean lookForOrphanOwner) {
        String owner = ownerKey(rs);
        if (owner != null) {
            controller.enqueue(owner);
        } else if (Owners.controllerRef(rs) == null && lookForOrphanOwner) {
            for (ObjectNode d : deployments.list(Meta.namespace(rs))) {
                if (Owners.selector(d).matches(Meta.labels(rs))) controller.enqueue(Keys.of(d));
            }
        }
    }

    private String ownerKey(ObjectNode rs) {
        JsonNode ref = Owners.controllerRef(rs);
        if (ref == null || !ref.path("kind").asText().equals("Deployment")) return null;
        ObjectNode d = deployments.get(Meta.namespace(rs), ref.path("name").asText());
        if (d == null || !Meta.uid(d).equals(ref.path("uid").asText())) return null;
        return Keys.of(d);
    }

    @Override
    public void start() {
        controller.start();
    }

    @Override
    public void close() {
        controller.close();
    }

    // ---------------------------------------------------------------------------------------------------
    // syncDeployment

    private Duration sync(String key) {
        ObjectNode cached = deployments.get(key);
        if (cached == null) return null;
        ObjectNode d = cached.deepCopy();
        String ns = Meta.namespace(d);
        LabelSelector selector = Owners.selector(d);
        if (selector.isEmpty()) {
            events.event(d, "apps/v1", "Deployment", "Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
            if (d.path("status").path("observedGeneration").asLong(0) < generation(d)) {
                ObjectNode copy = d.deepCopy();
                Json.obj(copy, "status").put("observedGeneration", generation(d));
                api.updateStatus(deploymentType, copy);
            }
            return null;
        }
        List<ObjectNode> claimed = ControllerRefs.claim(api, rsType, d, "apps/v1", "Deployment", selector, replicaSets.list(ns), () -> {
            ObjectNode fresh = api.find(deploymentType, ns, Meta.name(d)).orElse(null);
            return fresh != null && Meta.uid(fresh).equals(Meta.uid(d)) && !Meta.deleting(fresh);
        });
        List<Rs> rsList = new ArrayList<>();
        for (ObjectNode o : claimed) rsList.add(new Rs(o.deepCopy()));
        State s = new State(d, rsList);
        if (Meta.deleting(d)) {
            return syncStatusOnly(s);
        }
        checkPausedConditions(s);
        if (d.path("spec").path("paused").asBoolean(false)) {
            return syncScaling(s);
        }
        if (isScalingEvent(s)) {
            return syncScaling(s);
        }
        return Rollouts.rolling(s.d) ? rolloutRolling(s) : rolloutRecreate(s);
    }

    /** One sync's view: the Deployment (replaced after each write) and its ReplicaSets. */
    private static final class State {
        ObjectNode d;
        final List<Rs> all;
        Rs newRs;
        List<Rs> old = new ArrayList<>();

        State(ObjectNode d, List<Rs> all) {
            this.d = d;
            this.all = all;
        }

        List<Rs> allRs() {
            List<Rs> out = new ArrayList<>(old);
            if (newRs != null) out.add(newRs);
            return out;
        }
    }

    private static long generation(JsonNode o) {
        return o.path("metadata").path("generation").asLong(1);
    }

    private static int sumSpec(List<Rs> l) {
        int n = 0;
        for (Rs r : l) n += r.spec();
        return n;
    }

    private static int sumStatus(List<Rs> l, String f) {
        int n = 0;
        for (Rs r : l) n += r.status(f);
        return n;
    }

    private static List<Rs> active(List<Rs> l) {
        List<Rs> out = new ArrayList<>();
        for (Rs r : l) if (r.spec() > 0) out.add(r);
        return out;
    }

    private static boolean hasProgressDeadline(JsonNode d) {
        JsonNode p = d.path("spec").path("progressDeadlineSeconds");
        return p.isNumber() && p.asLong() != Integer.MAX_VALUE;
    }

    private Duration syncStatusOnly(State s) {
        findNewAndOld(s);
        syncDeploymentStatus(s);
        return null;
    }

    // ---------------------------------------------------------------------------------------------------
    // ReplicaSets and revisions

    private void findNewAndOld(State s) {
        List<Rs> sorted = new ArrayList<>(s.all);
        sorted.sort(Comparator.comparing(Rs::created).thenComparing(Rs::name));
        JsonNode template = s.d.path("spec").path("template");
        s.newRs = null;
        s.old = new ArrayList<>();
        for (Rs r : sorted) {
            if (s.newRs == null && Rollouts.sameTemplate(r.o.path("spec").path("template"), template)) s.newRs = r;
            else s.old.add(r);
        }
    }

    /** kube's getAllReplicaSetsAndSyncRevision: finds (or creates) the new ReplicaSet and brings revisions up to date. */
    private void syncRevision(State s, boolean createIfMissing) {
        findNewAndOld(s);
        long maxOld = 0;
        for (Rs r : s.old) maxOld = Math.max(maxOld, Rollouts.revision(r.o));
        String newRevision = String.valueOf(maxOld + 1);
        ObjectNode d = s.d;
        if (s.newRs != null) {
            ObjectNode copy = s.newRs.o.deepCopy();
            boolean changed = setNewRsAnnotations(d, copy, newRevision, true);
            int minReady = d.path("spec").path("minReadySeconds").asInt(0);
            if (copy.path("spec").path("minReadySeconds").asInt(0) != minReady) {
                Json.obj(copy, "spec").put("minReadySeconds", minReady);
                changed = true;
            }
            if (changed) s.newRs.o = api.update(rsType, copy);
            String rev = Rollouts.annotation(s.newRs.o, Rollouts.REVISION);
            setDeploymentRevision(s, rev);
            if (hasProgressDeadline(s.d) && Rollouts.condition(s.d.path("status"), "Progressing") == null) {
                ObjectNode copyD = s.d.deepCopy();
                ObjectNode st = Json.obj(copyD, "status");
                Rollouts.setCondition(st, Rollouts.newCondition("Progressing", "True", "FoundNewReplicaSet",
                        "Found new replica set \"" + s.newRs.name() + "\"", clock.instant()));
                s.d = api.updateStatus(deploymentType, copyD);
            }
            return;
        }
        if (!createIfMissing) return;
        createNewRs(s, newRevision);
    }

    private void setDeploymentRevision(State s, String revision) {
        if (revision == null || revision.equals(Rollouts.annotation(s.d, Rollouts.REVISION))) return;
        ObjectNode copy = s.d.deepCopy();
        Rollouts.annotations(copy).put(Rollouts.REVISION, revision);
        s.d = api.update(deploymentType, copy);
    }

    /** kube's SetNewReplicaSetAnnotations. */
    private static boolean setNewRsAnnotations(ObjectNode d, ObjectNode rs, String newRevision, boolean exists) {
        boolean changed = false;
        ObjectNode ra = Rollouts.annotations(rs);
        for (var e : d.path("metadata").path("annotations").properties()) {
            if (Rollouts.SKIPPED_ANNOTATIONS.contains(e.getKey())) continue;
            if (!e.getValue().equals(ra.get(e.getKey()))) {
                ra.set(e.getKey(), e.getValue().deepCopy());
                changed = true;
            }
        }
        String oldRevision = ra.path(Rollouts.REVISION).asText("");
        long oldInt;
        try {
            oldInt = oldRevision.isEmpty() ? 0 : Long.parseLong(oldRevision);
        } catch (NumberFormatException e) {
            return false;
        }
        long newInt = Long.parseLong(newRevision);
        if (oldInt < newInt) {
            ra.put(Rollouts.REVISION, newRevision);
            changed = true;
            if (!oldRevision.isEmpty()) {
                String hist = ra.path(Rollouts.REVISION_HISTORY).asText("");
                ra.put(Rollouts.REVISION_HISTORY, hist.isEmpty() ? oldRevision : hist + "," + oldRevision);
            }
        }
        if (!exists && Rollouts.setReplicasAnnotations(rs, Rollouts.replicas(d), Rollouts.replicas(d) + Rollouts.maxSurge(d))) changed = true;
        return changed;
    }

    private void createNewRs(State s, String newRevision) {
        ObjectNode d = s.d;
        JsonNode cc = d.path("status").path("collisionCount");
        String hash = Rollouts.templateHash(d.path("spec").path("template"), cc.asInt(0), cc.isNumber());
        ObjectNode template = (ObjectNode) d.path("spec").path("template").deepCopy();
        Json.obj(Json.obj(template, "metadata"), "labels").put(Rollouts.HASH_LABEL, hash);
        ObjectNode rs = Json.object();
        rs.put("apiVersion", "apps/v1").put("kind", "ReplicaSet");
        ObjectNode meta = rs.putObject("metadata");
        meta.put("name", Meta.name(d) + "-" + hash).put("namespace", Meta.namespace(d));
        meta.set("labels", template.path("metadata").path("labels").deepCopy());
        meta.putArray("ownerReferences").add(Owners.reference(d, "apps/v1", "Deployment"));
        ObjectNode spec = rs.putObject("spec");
        spec.put("replicas", 0).put("minReadySeconds", d.path("spec").path("minReadySeconds").asInt(0));
        ObjectNode sel = d.path("spec").path("selector").deepCopy();
        Json.obj(sel, "matchLabels").put(Rollouts.HASH_LABEL, hash);
        spec.set("selector", sel);
        spec.set("template", template);
        // annotations (and the replica count that needs the other ReplicaSets) as kube sets them
        setNewRsAnnotations(d, rs, newRevision, false);
        List<Rs> all = new ArrayList<>(s.old);
        Rs candidate = new Rs(rs);
        int newReplicas = newRsReplicas(d, all, candidate);
        spec.put("replicas", newReplicas);
        Rs created;
        boolean alreadyExisted = false;
        try {
            created = new Rs(api.create(rsType, Meta.namespace(d), rs));
        } catch (ApiException e) {
            if (e.code() != 409) throw e;
            ObjectNode existing = api.find(rsType, Meta.namespace(d), Meta.name(rs)).orElse(null);
            if (existing != null && Owners.controlledBy(existing, d)
                    && Rollouts.sameTemplate(existing.path("spec").path("template"), d.path("spec").path("template"))) {
                created = new Rs(existing);
                alreadyExisted = true;
            } else {
                // a hash collision: another object holds the name; hash again with a higher collision count
                ObjectNode copy = d.deepCopy();
                Json.obj(copy, "status").put("collisionCount", cc.asInt(0) + 1);
                api.updateStatus(deploymentType, copy);
                throw ApiException.conflict("apps", "deployments", Meta.name(d), "hash collision for " + Meta.name(rs));
            }
        }
        if (!alreadyExisted && newReplicas > 0) {
            events.event(d, "apps/v1", "Deployment", "Normal", "ScalingReplicaSet",
                    "Scaled up replica set " + created.name() + " from 0 to " + newReplicas);
        }
        s.newRs = created;
        s.all.add(created);
        setDeploymentRevision(s, newRevision);
        if (!alreadyExisted && hasProgressDeadline(s.d)) {
            ObjectNode copy = s.d.deepCopy();
            Rollouts.setCondition(Json.obj(copy, "status"), Rollouts.newCondition("Progressing", "True", "NewReplicaSetCreated",
                    "Created new replica set \"" + created.name() + "\"", clock.instant()));
            s.d = api.updateStatus(deploymentType, copy);
        }
    }

    /** kube's NewRSNewReplicas: how big the new ReplicaSet may be now. */
    private static int newRsReplicas(ObjectNode d, List<Rs> all, Rs newRs) {
        int desired = Rollouts.replicas(d);
        if (!Rollouts.rolling(d)) return desired;
        int maxTotal = desired + Rollouts.maxSurge(d);
        int current = 0;
        for (Rs r : all) current += r == newRs ? r.spec() : Math.max(r.spec(), r.status("replicas"));
        if (!all.contains(newRs)) current += newRs.spec();
        if (current >= maxTotal) return newRs.spec();
        int up = Math.min(maxTotal - current, desired - newRs.spec());
        return newRs.spec() + up;
    }

    // ---------------------------------------------------------------------------------------------------
    // scaling

    private boolean scaleRs(State s, Rs rs, int newScale, String op) {
        ObjectNode d = s.d;
        int desired = Rollouts.replicas(d);
        int max = desired + Rollouts.maxSurge(d);
        boolean sizeChanged = rs.spec() != newScale;
        if (!sizeChanged && !Rollouts.replicasAnnotationsNeedUpdate(rs.o, desired, max)) return false;
        int oldScale = rs.spec();
        ObjectNode copy = rs.o.deepCopy();
        Json.obj(copy, "spec").put("replicas", newScale);
        Rollouts.setReplicasAnnotations(copy, desired, max);
        rs.o = api.update(rsType, copy);
        if (sizeChanged) {
            events.event(d, "apps/v1", "Deployment", "Normal", "ScalingReplicaSet",
                    "Scaled " + (newScale > oldScale ? "up" : "down") + " replica set " + rs.name() + " from " + oldScale + " to " + newScale);
        }
        return sizeChanged;
    }

    private boolean isScalingEvent(State s) {
        syncRevision(s, false);
        int desired = Rollouts.replicas(s.d);
        for (Rs r : active(s.allRs())) {
            String a = Rollouts.annotation(r.o, Rollouts.DESIRED_REPLICAS);
            if (a == null) continue;
            try {
                if (Integer.parseInt(a) != desired) return true;
            } catch (NumberFormatException e) {
                // not ours to interpret
            }
        }
        return false;
    }

    /** kube's sync(): scaling and cleanup without rolling out (paused, or only the replica count changed). */
    private Duration syncScaling(State s) {
        syncRevision(s, false);
        scale(s);
        if (s.d.path("spec").path("paused").asBoolean(false)) cleanup(s);
        syncDeploymentStatus(s);
        return null;
    }

    private void scale(State s) {
        ObjectNode d = s.d;
        int desired = Rollouts.replicas(d);
        Rs single = activeOrLatest(s);
        if (single != null) {
            if (single.spec() != desired) scaleRs(s, single, desired, "");
            return;
        }
        if (saturated(d, s.newRs)) {
            for (Rs r : active(s.old)) scaleRs(s, r, 0, "down");
            return;
        }
        if (!Rollouts.rolling(d)) return;
        List<Rs> all = active(s.allRs());
        int allowed = desired > 0 ? desired + Rollouts.maxSurge(d) : 0;
        int toAdd = allowed - sumSpec(all);
        if (toAdd > 0) {
            all.sort(Comparator.comparingInt(Rs::spec).reversed().thenComparing(Rs::created, Comparator.reverseOrder()));
        } else if (toAdd < 0) {
            all.sort(Comparator.comparingInt(Rs::spec).reversed().thenComparing(Rs::created));
        }
        Map<String, Integer> size = new HashMap<>();
        int added = 0;
        for (Rs r : all) {
            if (toAdd != 0) {
                int p = proportion(d, r, toAdd, added);
                size.put(r.name(), r.spec() + p);
                added += p;
            } else {
                size.put(r.name(), r.spec());
            }
        }
        if (toAdd != 0 && !all.isEmpty()) {
            int leftover = toAdd - added;
            size.put(all.get(0).name(), Math.max(0, size.get(all.get(0).name()) + leftover));
        }
        for (Rs r : all) scaleRs(s, r, size.get(r.name()), "proportional");
    }

    private static int proportion(ObjectNode d, Rs r, int toAdd, int added) {
        if (r.spec() == 0 || toAdd == 0 || toAdd == added) return 0;
        int fraction;
        int desired = Rollouts.replicas(d);
        if (desired == 0) {
            fraction = -r.spec();
        } else {
            int total = desired + Rollouts.maxSurge(d);
            int annotated;
            try {
                annotated = Integer.parseInt(Objects.requireNonNullElse(Rollouts.annotation(r.o, Rollouts.MAX_REPLICAS), ""));
            } catch (NumberFormatException e) {
                annotated = d.path("status").path("replicas").asInt(0);
            }
            if (annotated == 0) {
                fraction = 0;
            } else {
                fraction = (int) Math.round((double) r.spec() * total / annotated) - r.spec();
            }
        }
        int allowed = toAdd - added;
        return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
    }

    private static Rs activeOrLatest(State s) {
        List<Rs> act = active(s.allRs());
        if (act.size() == 1) return act.get(0);
        if (!act.isEmpty()) return null;
        if (s.newRs != null) return s.newRs;
        Rs newest = null;
        for (Rs r : s.old) if (newest == null || r.created().isAfter(newest.created())) newest = r;
        return newest;
    }

    private static boolean saturated(ObjectNode d, Rs rs) {
        if (rs == null) return false;
        String a = Rollouts.annotation(rs.o, Rollouts.DESIRED_REPLICAS);
        int desired = Rollouts.replicas(d);
        return String.valueOf(desired).equals(a) && rs.spec() == desired && rs.status("availableReplicas") == desired;
    }

    // ---------------------------------------------------------------------------------------------------
    // strategies

    private Duration rolloutRolling(State s) {
        syncRevision(s, true);
        ObjectNode d = s.d;
        if (reconcileNewRs(s)) return syncRolloutStatus(s);
        if (reconcileOldRs(s)) return syncRolloutStatus(s);
        if (complete(s.d, calculateStatus(s))) cleanup(s);
        return syncRolloutStatus(s);
    }

    private boolean reconcileNewRs(State s) {
        int desired = Rollouts.replicas(s.d);
        Rs n = s.newRs;
        if (n.spec() == desired) return false;
        if (n.spec() > desired) return scaleRs(s, n, desired, "down");
        return scaleRs(s, n, newRsReplicas(s.d, s.allRs(), n), "up");
    }

    private boolean reconcileOldRs(State s) {
        List<Rs> oldActive = active(s.old);
        if (sumSpec(oldActive) == 0) return false;
        ObjectNode d = s.d;
        int allPods = sumSpec(s.allRs());
        int minAvailable = Rollouts.replicas(d) - Rollouts.maxUnavailable(d);
        int newUnavailable = s.newRs.spec() - s.newRs.status("availableReplicas");
        int maxScaledDown = allPods - minAvailable - newUnavailable;
        if (maxScaledDown <= 0) return false;
        // first the old replicas that are not available anyway: scaling them down costs nothing
        oldActive.sort(Comparator.comparing(Rs::created).thenComparing(Rs::name));
        int cleaned = 0;
        for (Rs r : oldActive) {
            if (cleaned >= maxScaledDown) break;
            if (r.spec() == 0) continue;
            int unavailable = r.spec() - Math.min(r.spec(), r.status("availableReplicas"));
            if (unavailable <= 0) continue;
            int down = Math.min(maxScaledDown - cleaned, unavailable);
            scaleRs(s, r, r.spec() - down, "down");
            cleaned += down;
        }
        // then the available ones, as far as minAvailable allows; an old ReplicaSet's available count is taken
        // as at most its size, since its status may not yet show a scale-down we just made
        int available = Math.min(s.newRs.spec(), s.newRs.status("availableReplicas"));
        for (Rs r : s.old) available += Math.min(r.spec(), r.status("availableReplicas"));
        int scaledDown = 0;
        if (available > minAvailable) {
            int total = available - minAvailable;
            for (Rs r : oldActive) {
                if (scaledDown >= total) break;
                if (r.spec() == 0) continue;
                int down = Math.min(r.spec(), total - scaledDown);
                scaleRs(s, r, r.spec() - down, "down");
                scaledDown += down;
            }
        }
        return cleaned + scaledDown > 0;
    }

    private Duration rolloutRecreate(State s) {
        syncRevision(s, false);
        boolean scaledDown = false;
        for (Rs r : active(s.old)) scaledDown |= scaleRs(s, r, 0, "down");
        if (scaledDown) return syncRolloutStatus(s);
        if (oldPodsRunning(s)) return syncRolloutStatus(s);
        if (s.newRs == null) syncRevision(s, true);
        scaleRs(s, s.newRs, Rollouts.replicas(s.d), "up");
        if (complete(s.d, calculateStatus(s))) cleanup(s);
        return syncRolloutStatus(s);
    }

    private boolean oldPodsRunning(State s) {
        if (sumStatus(s.old, "replicas") > 0) return true;
        for (Rs r : s.old) {
            for (ObjectNode p : pods.byIndex(Indexers.CONTROLLER_UID, Meta.uid(r.o))) {
                if (!Pods.terminal(p)) return true;
            }
        }
        return false;
    }

    /** Old ReplicaSets beyond revisionHistoryLimit that have nothing left go, lowest revision first. */
    private void cleanup(State s) {
        JsonNode limitNode = s.d.path("spec").path("revisionHistoryLimit");
        int limit = limitNode.isNumber() ? limitNode.asInt() : 10;
        List<Rs> cleanable = new ArrayList<>();
        for (Rs r : s.old) if (!Meta.deleting(r.o)) cleanable.add(r);
        int diff = cleanable.size() - limit;
        if (diff <= 0) return;
        cleanable.sort(Comparator.comparingLong((Rs r) -> Rollouts.revision(r.o)).thenComparing(Rs::created));
        for (int i = 0; i < diff; i++) {
            Rs r = cleanable.get(i);
            if (r.status("replicas") != 0 || r.spec() != 0 || generation(r.o) > r.o.path("status").path("observedGeneration").asLong(0)) continue;
            api.deleteIfExists(rsType, Meta.namespace(r.o), r.name(), Meta.uid(r.o), null);
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // status

    private ObjectNode calculateStatus(State s) {
        ObjectNode d = s.d;
        List<Rs> all = s.allRs();
        int available = sumStatus(all, "availableReplicas");
        int unavailable = Math.max(0, sumSpec(all) - available);
        ObjectNode st = d.path("status").isObject() ? ((ObjectNode) d.get("status")).deepCopy() : Json.object();
        st.put("observedGeneration", generation(d));
        st.put("replicas", sumStatus(all, "replicas"));
        st.put("updatedReplicas", s.newRs == null ? 0 : s.newRs.status("replicas"));
        st.put("readyReplicas", sumStatus(all, "readyReplicas"));
        st.put("availableReplicas", available);
        st.put("unavailableReplicas", unavailable);
        int desired = Rollouts.replicas(d);
        if (available >= desired - Rollouts.maxUnavailable(d)) {
            Rollouts.setCondition(st, Rollouts.newCondition("Available", "True", "MinimumReplicasAvailable",
                    "Deployment has minimum availability.", clock.instant()));
        } else {
            Rollouts.setCondition(st, Rollouts.newCondition("Available", "False", "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.", clock.instant()));
        }
        return st;
    }

    private static boolean complete(ObjectNode d, JsonNode st) {
        int desired = Rollouts.replicas(d);
        return st.path("updatedReplicas").asInt() == desired && st.path("replicas").asInt() == desired
                && st.path("availableReplicas").asInt() == desired && st.path("observedGeneration").asLong() >= generation(d);
    }

    private static boolean progressing(JsonNode oldSt, JsonNode newSt) {
        int oldOld = oldSt.path("replicas").asInt() - oldSt.path("updatedReplicas").asInt();
        int newOld = newSt.path("replicas").asInt() - newSt.path("updatedReplicas").asInt();
        return newSt.path("updatedReplicas").asInt() > oldSt.path("updatedReplicas").asInt()
                || newOld < oldOld
                || newSt.path("readyReplicas").asInt() > oldSt.path("readyReplicas").asInt()
                || newSt.path("availableReplicas").asInt() > oldSt.path("availableReplicas").asInt();
    }

    private boolean timedOut(ObjectNode d, Instant now) {
        if (!hasProgressDeadline(d)) return false;
        JsonNode c = Rollouts.condition(d.path("status"), "Progressing");
        if (c == null) return false;
        String reason = c.path("reason").asText();
        if (reason.equals("NewReplicaSetAvailable")) return false;
        if (reason.equals("ProgressDeadlineExceeded")) return true;
        Instant from = Pods.time(c.path("lastUpdateTime").asText(""));
        if (from == null) return false;
        return from.plusSeconds(d.path("spec").path("progressDeadlineSeconds").asLong()).isBefore(now);
    }

    private Duration syncRolloutStatus(State s) {
        ObjectNode d = s.d;
        ObjectNode st = calculateStatus(s);
        Instant now = clock.instant();
        if (!hasProgressDeadline(d)) Rollouts.removeCondition(st, "Progressing");
        JsonNode cur = Rollouts.condition(d.path("status"), "Progressing");
        boolean isComplete = st.path("replicas").asInt() == st.path("updatedReplicas").asInt() && cur != null
                && cur.path("reason").asText().equals("NewReplicaSetAvailable");
        if (hasProgressDeadline(d) && !isComplete) {
            String rsName = s.newRs == null ? null : s.newRs.name();
            if (complete(d, st)) {
                String msg = rsName != null ? "ReplicaSet \"" + rsName + "\" has successfully progressed."
                        : "Deployment \"" + Meta.name(d) + "\" has successfully progressed.";
                Rollouts.setCondition(st, Rollouts.newCondition("Progressing", "True", "NewReplicaSetAvailable", msg, now));
            } else if (progressing(d.path("status"), st)) {
                String msg = rsName != null ? "ReplicaSet \"" + rsName + "\" is progressing." : "Deployment \"" + Meta.name(d) + "\" is progressing.";
                ObjectNode c = Rollouts.newCondition("Progressing", "True", "ReplicaSetUpdated", msg, now);
                if (cur != null && cur.path("status").asText().equals("True")) c.set("lastTransitionTime", cur.get("lastTransitionTime"));
                Rollouts.removeCondition(st, "Progressing");
                Rollouts.setCondition(st, c);
            } else if (timedOut(d, now)) {
                String msg = rsName != null ? "ReplicaSet \"" + rsName + "\" has timed out progressing."
                        : "Deployment \"" + Meta.name(d) + "\" has timed out progressing.";
                Rollouts.setCondition(st, Rollouts.newCondition("Progressing", "False", "ProgressDeadlineExceeded", msg, now));
            }
        }
        replicaFailure(s, st);
        if (!Rollouts.sameJson(st, d.path("status"))) {
            ObjectNode copy = d.deepCopy();
            copy.set("status", st);
            s.d = api.updateStatus(deploymentType, copy);
        }
        return requeueStuck(s.d, st, now);
    }

    /** When the Progressing condition will time out if nothing happens, so the controller looks again then. */
    private Duration requeueStuck(ObjectNode d, JsonNode st, Instant now) {
        JsonNode c = Rollouts.condition(st, "Progressing");
        if (!hasProgressDeadline(d) || c == null) return null;
        if (complete(d, st) || c.path("reason").asText().equals("ProgressDeadlineExceeded")) return null;
        Instant from = Pods.time(c.path("lastUpdateTime").asText(""));
        if (from == null) return null;
        Duration after = Duration.between(now, from.plusSeconds(d.path("spec").path("progressDeadlineSeconds").asLong()));
        if (after.compareTo(Duration.ofSeconds(1)) < 0) return Duration.ofMillis(200);
        return after.plusSeconds(1);
    }

    /** The new ReplicaSet's ReplicaFailure condition (else an old one's) shows on the Deployment. */
    private static void replicaFailure(State s, ObjectNode st) {
        JsonNode failure = null;
        List<Rs> order = new ArrayList<>();
        if (s.newRs != null) order.add(s.newRs);
        order.addAll(s.old);
        for (Rs r : order) {
            JsonNode c = Rollouts.condition(r.o.path("status"), "ReplicaFailure");
            if (c != null) {
                failure = c;
                break;
            }
        }
        if (failure == null) {
            Rollouts.removeCondition(st, "ReplicaFailure");
            return;
        }
        ObjectNode c = Rollouts.newCondition("ReplicaFailure", failure.path("status").asText(), failure.path("reason").asText(),
                failure.path("message").asText(), Instant.now());
        if (failure.has("lastTransitionTime")) {
            c.set("lastTransitionTime", failure.get("lastTransitionTime"));
            c.set("lastUpdateTime", failure.get("lastTransitionTime"));
        }
        Rollouts.setCondition(st, c);
    }

    /** kube's syncDeploymentStatus: the computed status without rollout conditions. */
    private void syncDeploymentStatus(State s) {
        ObjectNode st = calculateStatus(s);
        if (Rollouts.sameJson(st, s.d.path("status"))) return;
        ObjectNode copy = s.d.deepCopy();
        copy.set("status", st);
        s.d = api.updateStatus(deploymentType, copy);
    }

    private void checkPausedConditions(State s) {
        ObjectNode d = s.d;
        if (!hasProgressDeadline(d)) return;
        JsonNode c = Rollouts.condition(d.path("status"), "Progressing");
        if (c != null && c.path("reason").asText().equals("ProgressDeadlineExceeded")) return;
        boolean pausedCond = c != null && c.path("reason").asText().equals("DeploymentPaused");
        boolean paused = d.path("spec").path("paused").asBoolean(false);
        ObjectNode cond;
        if (paused && !pausedCond) {
            cond = Rollouts.newCondition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", clock.instant());
        } else if (!paused && pausedCond) {
            cond = Rollouts.newCondition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", clock.instant());
        } else {
            return;
        }
        ObjectNode copy = d.deepCopy();
        Rollouts.setCondition(Json.obj(copy, "status"), cond);
        s.d = api.updateStatus(deploymentType, copy);
    }
}
