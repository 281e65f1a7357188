package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Pods with stable identities (kube's {@code pkg/controller/statefulset}): {@code <set>-<ordinal>} for each
 * ordinal, each with its own PersistentVolumeClaims {@code <claim>-<set>-<ordinal>} from volumeClaimTemplates,
 * a hostname and the governing service as subdomain.
 *
 * <p>OrderedReady creates ordinals in order, each Running and Ready before the next, and removes them from the
 * highest down, one at a time; Parallel does both at once. RollingUpdate replaces pods from the highest ordinal
 * down to {@code partition}, one at a time, each Ready before the next; OnDelete leaves replacement to the user.
 * Templates are recorded as ControllerRevisions; {@code status.currentRevision} is the revision the set was at
 * before the rollout, {@code status.updateRevision} the one it moves to.
 */
public final class StatefulSetController implements ManagedController {
    static final String NAME = "statefulset-controller";
    private static final String KIND = "StatefulSet";
    private static final String API_VERSION = "apps/v1";
    static final String POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
    static final String POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

    private final ApiClient api;
    private final Clock clock;
    private final SharedInformer sets;
    private final SharedInformer pods;
    private final SharedInformer claims;
    private final ControllerRevisions history;
    private final EventRecorder events;
    private final ResourceType podType;
    private final ResourceType claimType;
    private final ResourceType setType;
    private final Controller controller;

    public StatefulSetController(ControllerContext ctx) {
        this.api = ctx.api(NAME);
        this.clock = ctx.clock();
        this.sets = ctx.informer("apps", "v1", "statefulsets");
        this.pods = ctx.informer("", "v1", "pods");
        this.claims = ctx.informer("", "v1", "persistentvolumeclaims");
        this.history = new ControllerRevisions(api, ctx.informer("apps", "v1", "controllerrevisions"));
        this.events = ctx.events(NAME);
        this.podType = pods.type();
        this.claimType = claims.type();
        this.setType = sets.type();
        this.controller = new Controller(NAME, clock, 2, this::sync);
        pods.addIndexer(Indexers.CONTROLLER_UID, Indexers.BY_CONTROLLER_UID);
        sets.addHandler(SharedInformer.Handler.onAddOrUpdate(o -> controller.enqueue(Keys.of(o))));
        pods.addHandler(SharedInformer.Handler.onEvery(this::enqueueOwner));
    }

    private void enqueueOwner(ObjectNode pod) {
        JsonNode ref = Owners.controllerRef(pod);
        if (ref == null || !ref.path("kind").asText().equals(KIND) || !ref.path("apiVersion").asText().startsWith("apps/")) return;
        controller.enqueue(Keys.of(Meta.namespace(pod), ref.path("name").asText()));
    }

    @Override
    public void start() {
        controller.start();
    }

    @Override
    public void close() {
        controller.close();
    }

    /** The ordinal in a pod name {@code <set>-<ordinal>}, or -1 when the name is not one of the set's. */
    static int ordinal(String set, String podName) {
        if (!podName.startsWith(set + "-")) return -1;
        String tail = podName.substring(set.length() + 1);
        if (tail.isEmpty() || tail.length() > 9 || !tail.chars().allMatch(Character::isDigit)) return -1;
        if (tail.length() > 1 && tail.charAt(0) == '0') return -1;
        return Integer.parseInt(tail);
    }

    private Duration sync(String key) {
        ObjectNode set = sets.get(key);
        if (set == null || Meta.deleting(set)) return null;
        String name = Meta.name(set);
        String ns = Meta.namespace(set);
        JsonNode spec = set.path("spec");

        List<ObjectNode> revisions = history.owned(set);
        int collisions = set.path("status").path("collisionCount").asInt(0);
        ControllerRevisions.Update update = history.ensure(set, API_VERSION, KIND, collisions, revisions);
        ObjectNode updateRevision = update.revision();
        revisions = new ArrayList<>(revisions);
        revisions.removeIf(r -> Meta.name(r).equals(Meta.name(updateRevision)));
        revisions.add(updateRevision);
        ObjectNode currentRevision = updateRevision;
        String statusCurrent = Json.text(set.get("status"), "currentRevision");
        for (ObjectNode r : revisions) if (Meta.name(r).equals(statusCurrent)) currentRevision = r;

        int replicas = spec.path("replicas").asInt(1);
        int start = spec.path("ordinals").path("start").asInt(0);
        ObjectNode[] slots = new ObjectNode[replicas];
        List<ObjectNode> condemned = new ArrayList<>();
        // only pods named like the set's own are claimed (isMemberOf)
        List<ObjectNode> members = new ArrayList<>();
        for (ObjectNode p : pods.list(ns)) if (ordinal(name, Meta.name(p)) >= 0) members.add(p);
        List<ObjectNode> owned = ControllerRefs.claim(api, podType, set, API_VERSION, KIND, Owners.selector(set), members,
                () -> DaemonSetController.stillLive(api, setType, set));
        for (ObjectNode p : owned) {
            int ord = ordinal(name, Meta.name(p));
            if (ord < 0) continue;
            if (ord >= start && ord < start + replicas) slots[ord - start] = p;
            else condemned.add(p);
        }
        condemned.sort(Comparator.comparingInt((ObjectNode p) -> ordinal(name, Meta.name(p))).reversed());

        boolean monotonic = !spec.path("podManagementPolicy").asText("OrderedReady").equals("Parallel");
        int minReady = spec.path("minReadySeconds").asInt(0);
        Instant now = clock.instant();
        Set<String> liveRevisions = new HashSet<>();
        liveRevisions.add(Meta.name(currentRevision));
        liveRevisions.add(Meta.name(updateRevision));
        for (ObjectNode p : owned) liveRevisions.add(revisionOf(p));

        // the first pod that is not Running and Ready, in the order pods are processed: it alone may be condemned while unhealthy
        ObjectNode firstUnhealthy = null;
        for (ObjectNode p : slots) {
            if (p != null && !healthy(p)) {
                firstUnhealthy = p;
                break;
            }
        }
        if (firstUnhealthy == null) {
            for (ObjectNode p : condemned) {
                if (!healthy(p)) {
                    firstUnhealthy = p;
                    break;
                }
            }
        }

        boolean wait = false;
        for (int i = 0; i < replicas && !wait; i++) {
            int ord = start + i;
            ObjectNode pod = slots[i];
            if (pod != null && Pods.terminal(pod) && !Meta.deleting(pod)) {
                // a pod that ran to completion or failed is replaced under the same name
                deletePod(set, pod);
                if (monotonic) wait = true;
                continue;
            }
            if (pod == null) {
                ObjectNode made = createPod(set, currentRevision, updateRevision, ord);
                slots[i] = made;
                if (monotonic) wait = true;
                continue;
            }
            if (Meta.deleting(pod)) {
                if (monotonic) wait = true;
                continue;
            }
            if (monotonic && !(runningAndReady(pod) && Pods.available(pod, minReady, now))) {
                wait = true;
                continue;
            }
            repairIdentity(set, pod, ord);
        }
        for (ObjectNode pod : wait ? List.<ObjectNode>of() : condemned) {
            if (Meta.deleting(pod)) {
                if (monotonic) {
                    wait = true;
                    break;
                }
                continue;
            }
            if (monotonic && !runningAndReady(pod) && pod != firstUnhealthy) {
                wait = true;
                break;
            }
            deletePod(set, pod);
            if (monotonic) {
                wait = true;
                break;
            }
        }
        if (!wait) {
            deleteScaledDownClaims(set, owned, start, replicas);
            if (spec.path("updateStrategy").path("type").asText("RollingUpdate").equals("RollingUpdate")) {
                int partition = Math.max(0, spec.path("updateStrategy").path("rollingUpdate").path("partition").asInt(0));
                for (int i = replicas - 1; i >= partition && i >= 0; i--) {
                    ObjectNode pod = slots[i];
                    if (pod == null) break;
                    if (!revisionOf(pod).equals(Meta.name(updateRevision)) && !Meta.deleting(pod)) {
                        deletePod(set, pod);
                        break;
                    }
                    if (!healthy(pod)) break;
                }
            }
        }
        history.truncate(history.owned(set), liveRevisions, spec.path("revisionHistoryLimit").asInt(10));
        return updateStatus(set, owned, currentRevision, updateRevision, update.collisionCount());
    }

    private static boolean runningAndReady(JsonNode pod) {
        return Pods.phase(pod).equals("Running") && Pods.ready(pod);
    }

    private static boolean healthy(JsonNode pod) {
        return runningAndReady(pod) && !Meta.deleting(pod);
    }

    private static String revisionOf(JsonNode pod) {
        return pod.path("metadata").path("labels").path(ControllerRevisions.HASH_LABEL).asText("");
    }

    /**
     * newVersionedStatefulSetPod: ordinals below the partition are (re)created at the current revision, the rest
     * at the update revision.
     */
    private ObjectNode createPod(ObjectNode set, ObjectNode currentRevision, ObjectNode updateRevision, int ord) {
        JsonNode strategy = set.path("spec").path("updateStrategy");
        int start = set.path("spec").path("ordinals").path("start").asInt(0);
        boolean atCurrent;
        if (!strategy.path("type").asText("RollingUpdate").equals("RollingUpdate")) {
            atCurrent = false;
        } else if (strategy.path("rollingUpdate").has("partition")) {
            atCurrent = ord < start + strategy.path("rollingUpdate").path("partition").asInt(0);
        } else {
            atCurrent = ord < start + set.path("status").path("currentReplicas").asInt(0);
        }
        ObjectNode revision = atCurrent ? currentRevision : updateRevision;
        String podName = Meta.name(set) + "-" + ord;
        ObjectNode pod = PodTemplates.newPod(ControllerRevisions.template(revision), Owners.reference(set, API_VERSION, KIND),
                Meta.namespace(set), podName, null);
        setIdentity(set, pod, ord);
        Json.obj(Meta.metadata(pod), "labels").put(ControllerRevisions.HASH_LABEL, Meta.name(revision));
        createClaims(set, pod, ord);
        try {
            ObjectNode made = api.create(podType, Meta.namespace(set), pod);
            events.event(set, API_VERSION, KIND, "Normal", "SuccessfulCreate",
                    "create Pod " + podName + " in StatefulSet " + Meta.name(set) + " successful");
            return made;
        } catch (ApiException e) {
            if (e.code() == 409) return null; // made by an earlier sync the informer has not shown yet
            events.event(set, API_VERSION, KIND, "Warning", "FailedCreate",
                    "create Pod " + podName + " in StatefulSet " + Meta.name(set) + " failed error: " + e.getMessage());
            throw e;
        }
    }

    /** updateIdentity + updateStorage: name labels, hostname, subdomain, and the claim volumes. */
    private static void setIdentity(ObjectNode set, ObjectNode pod, int ord) {
        ObjectNode labels = Json.obj(Meta.metadata(pod), "labels");
        labels.put(POD_NAME_LABEL, Meta.name(pod));
        labels.put(POD_INDEX_LABEL, Integer.toString(ord));
        ObjectNode spec = Json.obj(pod, "spec");
        spec.put("hostname", Meta.name(pod));
        String service = Json.text(set.get("spec"), "serviceName");
        if (!service.isEmpty()) spec.put("subdomain", service);
        else spec.remove("subdomain");
        JsonNode templates = set.path("spec").path("volumeClaimTemplates");
        if (!templates.isArray() || templates.isEmpty()) return;
        ArrayNode volumes = spec.path("volumes").isArray() ? (ArrayNode) spec.get("volumes") : spec.putArray("volumes");
        for (JsonNode t : templates) {
            String claim = Meta.name(t);
            ObjectNode volume = Json.object();
            volume.put("name", claim).putObject("persistentVolumeClaim").put("claimName", claimName(claim, set, ord));
            boolean replaced = false;
            for (int i = 0; i < volumes.size(); i++) {
                if (volumes.get(i).path("name").asText().equals(claim)) {
                    volumes.set(i, volume);
                    replaced = true;
                }
            }
            if (!replaced) volumes.add(volume);
        }
    }

    private static String claimName(String claim, JsonNode set, int ord) {
        return claim + "-" + Meta.name(set) + "-" + ord;
    }

    /** Creates the pod's claims that do not exist yet; existing ones are kept as they are (their data is the point). */
    private void createClaims(ObjectNode set, ObjectNode pod, int ord) {
        boolean deleteWithSet = set.path("spec").path("persistentVolumeClaimRetentionPolicy").path("whenDeleted").asText("Retain")
                .equals("Delete");
        for (JsonNode t : set.path("spec").path("volumeClaimTemplates")) {
            String claimName = claimName(Meta.name(t), set, ord);
            if (claims.get(Meta.namespace(set), claimName) != null) continue;
            ObjectNode claim = Json.object();
            claim.put("apiVersion", "v1").put("kind", "PersistentVolumeClaim");
            ObjectNode meta = claim.putObject("metadata");
            meta.put("name", claimName).put("namespace", Meta.namespace(set));
            ObjectNode labels = meta.putObject("labels");
            t.path("metadata").path("labels").properties().forEach(e -> labels.set(e.getKey(), e.getValue()));
            set.path("spec").path("selector").path("matchLabels").properties().forEach(e -> labels.set(e.getKey(), e.getValue()));
            JsonNode annotations = t.path("metadata").path("annotations");
            if (annotations.isObject() && !annotations.isEmpty()) meta.set("annotations", annotations.deepCopy());
            if (deleteWithSet) {
                // the garbage collector removes the claim with its set (persistentVolumeClaimRetentionPolicy.whenDeleted)
                // a plain (non-controller) reference, as kube's setOwnerRef makes
                meta.putArray("ownerReferences").addObject().put("apiVersion", API_VERSION).put("kind", KIND)
                        .put("name", Meta.name(set)).put("uid", Meta.uid(set));
            }
            claim.set("spec", t.path("spec").isObject() ? t.get("spec").deepCopy() : Json.object());
            try {
                api.create(claimType, Meta.namespace(set), claim);
                events.event(set, API_VERSION, KIND, "Normal", "SuccessfulCreate", "create Claim " + claimName + " Pod " + Meta.name(pod)
                        + " in StatefulSet " + Meta.name(set) + " success");
            } catch (ApiException e) {
                if (e.code() == 409) continue;
                events.event(set, API_VERSION, KIND, "Warning", "FailedCreate", "create Claim " + claimName + " for Pod "
                        + Meta.name(pod) + " in StatefulSet " + Meta.name(set) + " failed error: " + e.getMessage());
                throw e;
            }
        }
    }

    /** A pod whose labels, hostname or volumes drifted from its identity is put right; missing claims are recreated. */
    private void repairIdentity(ObjectNode set, ObjectNode pod, int ord) {
        ObjectNode wanted = pod.deepCopy();
        setIdentity(set, wanted, ord);
        // hostname, subdomain and volumes are immutable on a pod: only the identity labels can be put right in
        // place; a pod whose spec disagrees keeps running until it is replaced
        boolean labelsOk = wanted.path("metadata").path("labels").equals(pod.path("metadata").path("labels"));
        boolean deleteWithSet = set.path("spec").path("persistentVolumeClaimRetentionPolicy").path("whenDeleted").asText("Retain")
                .equals("Delete");
        boolean claimsMissing = false;
        for (JsonNode t : set.path("spec").path("volumeClaimTemplates")) {
            ObjectNode claim = claims.get(Meta.namespace(set), claimName(Meta.name(t), set, ord));
            if (claim == null) claimsMissing = true;
            else if (ownedBy(claim, set) != deleteWithSet && !Meta.deleting(claim)) setClaimOwner(claim, set, deleteWithSet);
        }
        if (claimsMissing) createClaims(set, pod, ord);
        if (labelsOk) return;
        api.modify(podType, Meta.namespace(pod), Meta.name(pod), "", p -> {
            if (!Meta.uid(p).equals(Meta.uid(pod))) throw ApiException.conflict("", "pods", Meta.name(pod), "replaced");
            ObjectNode labels = Json.obj(Meta.metadata(p), "labels");
            labels.put(POD_NAME_LABEL, Meta.name(pod));
            labels.put(POD_INDEX_LABEL, Integer.toString(ord));
            return p;
        });
    }

    private static boolean ownedBy(JsonNode obj, JsonNode owner) {
        for (JsonNode r : obj.path("metadata").path("ownerReferences")) if (r.path("uid").asText().equals(Meta.uid(owner))) return true;
        return false;
    }

    /** whenDeleted changed: the claim gets (Delete) or loses (Retain) the reference the garbage collector follows. */
    private void setClaimOwner(ObjectNode claim, ObjectNode set, boolean owned) {
        api.modify(claimType, Meta.namespace(claim), Meta.name(claim), "", c -> {
            ObjectNode meta = Meta.metadata(c);
            ArrayNode refs = meta.path("ownerReferences").isArray()
                    ? (ArrayNode) meta.get("ownerReferences") : meta.putArray("ownerReferences");
            for (int i = refs.size() - 1; i >= 0; i--) if (refs.get(i).path("uid").asText().equals(Meta.uid(set))) refs.remove(i);
            if (owned) {
                refs.addObject().put("apiVersion", API_VERSION).put("kind", KIND).put("name", Meta.name(set)).put("uid", Meta.uid(set));
            }
            if (refs.isEmpty()) meta.remove("ownerReferences");
            return c;
        });
    }

    private void deletePod(ObjectNode set, ObjectNode pod) {
        if (api.deleteIfExists(podType, Meta.namespace(pod), Meta.name(pod), Meta.uid(pod), null)) {
            events.event(set, API_VERSION, KIND, "Normal", "SuccessfulDelete",
                    "delete Pod " + Meta.name(pod) + " in StatefulSet " + Meta.name(set) + " successful");
        }
    }

    /**
     * persistentVolumeClaimRetentionPolicy.whenScaled=Delete: claims of ordinals scaled away go once their pod
     * has (kube hands them to the garbage collector through an owner reference to the condemned pod).
     */
    private void deleteScaledDownClaims(ObjectNode set, List<ObjectNode> owned, int start, int replicas) {
        if (!set.path("spec").path("persistentVolumeClaimRetentionPolicy").path("whenScaled").asText("Retain").equals("Delete")) return;
        Set<Integer> withPod = new HashSet<>();
        for (ObjectNode p : owned) withPod.add(ordinal(Meta.name(set), Meta.name(p)));
        for (JsonNode t : set.path("spec").path("volumeClaimTemplates")) {
            String prefix = Meta.name(t) + "-";
            for (ObjectNode c : claims.list(Meta.namespace(set))) {
                String n = Meta.name(c);
                if (!n.startsWith(prefix) || Meta.deleting(c)) continue;
                int ord = ordinal(Meta.name(set), n.substring(prefix.length()));
                if (ord < 0 || (ord >= start && ord < start + replicas) || withPod.contains(ord)) continue;
                if (!Owners.selector(set).matches(c.path("metadata").path("labels"))) continue; // not one this set made
                api.deleteIfExists(claimType, Meta.namespace(c), n, Meta.uid(c), null);
            }
        }
    }

    /** updateStatefulSetStatus with completeRollingUpdate; returns when a pod will have been ready for minReadySeconds. */
    private Duration updateStatus(ObjectNode set, List<ObjectNode> owned, ObjectNode currentRevision, ObjectNode updateRevision,
                                  int collisionCount) {
        int minReady = set.path("spec").path("minReadySeconds").asInt(0);
        Instant now = clock.instant();
        Instant nextAvailable = null;
        int replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
        for (ObjectNode p : owned) {
            if (ordinal(Meta.name(set), Meta.name(p)) < 0) continue;
            if (!Pods.phase(p).isEmpty()) replicas++;
            if (runningAndReady(p)) {
                ready++;
                if (Pods.available(p, minReady, now)) {
                    available++;
                } else {
                    Instant at = Pods.availableAt(p, minReady);
                    if (at != null && (nextAvailable == null || at.isBefore(nextAvailable))) nextAvailable = at;
                }
            }
            if (!Pods.phase(p).isEmpty() && !Meta.deleting(p)) {
                if (revisionOf(p).equals(Meta.name(currentRevision))) current++;
                if (revisionOf(p).equals(Meta.name(updateRevision))) updated++;
            }
        }
        String currentName = Meta.name(currentRevision);
        int desired = set.path("spec").path("replicas").asInt(1);
        boolean rolling = set.path("spec").path("updateStrategy").path("type").asText("RollingUpdate").equals("RollingUpdate");
        if (rolling && updated == desired && ready == desired && replicas == desired) {
            currentName = Meta.name(updateRevision);
            current = updated;
        }
        ObjectNode status = Json.object();
        status.put("observedGeneration", set.path("metadata").path("generation").asLong(0)).put("replicas", replicas)
                .put("readyReplicas", ready).put("currentReplicas", current).put("updatedReplicas", updated)
                .put("currentRevision", currentName).put("updateRevision", Meta.name(updateRevision))
                .put("collisionCount", collisionCount).put("availableReplicas", available);
        JsonNode conditions = set.path("status").path("conditions");
        if (conditions.isArray() && !conditions.isEmpty()) status.set("conditions", conditions.deepCopy());
        if (!ControllerRevisions.sameJson(status, set.path("status"))) {
            api.modify(setType, Meta.namespace(set), Meta.name(set), "status", s -> {
                if (!Meta.uid(s).equals(Meta.uid(set))) return s;
                s.set("status", status);
                return s;
            });
        }
        if (nextAvailable == null) return null;
        Duration d = Duration.between(now, nextAvailable);
        return d.isNegative() ? Duration.ofMillis(100) : d.plusMillis(50);
    }
}
