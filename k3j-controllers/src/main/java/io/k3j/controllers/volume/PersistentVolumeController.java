package io.k3j.controllers.volume;

import static io.k3j.controllers.volume.Volumes.annotation;
import static io.k3j.controllers.volume.Volumes.phase;

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
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * Binds PersistentVolumeClaims to PersistentVolumes and releases volumes whose claims are gone, as kube's
 * persistent volume controller does (pkg/controller/volume/persistentvolume/pv_controller.go).
 *
 * <p>A claim binds to the smallest Available volume of its class whose access modes include the claim's, whose
 * volume mode and label selector fit and whose capacity covers the request; a claim naming a volume
 * ({@code spec.volumeName}) and a volume naming a claim ({@code spec.claimRef}) bind only to each other. Both
 * sides are written: the volume's claimRef and phase, the claim's volumeName, its
 * {@code pv.kubernetes.io/bind-completed} annotation and its status (phase, capacity, access modes). Binding is
 * single-threaded and every write re-checks the newest object, so one volume never ends up with two claims.
 *
 * <p>Claims of a class with a provisioner are handed to that (external) provisioner by annotating them with
 * {@code volume.kubernetes.io/storage-provisioner}; with {@code WaitForFirstConsumer} only once the scheduler
 * has picked a node ({@code volume.kubernetes.io/selected-node}). Claims that name no class at all get the
 * default class, as kube's retroactive default StorageClass assignment does.
 *
 * <p>When a bound claim goes, its volume becomes Released; reclaim policy {@code Delete} then deletes it (volumes
 * of an external provisioner are left to that provisioner, which also removes their storage), {@code Retain}
 * keeps it Released for an administrator.
 */
public final class PersistentVolumeController implements ManagedController {
    private static final String CLAIM = "pvc:";
    private static final String VOLUME = "pv:";

    private final ApiClient api;
    private final ResourceType volumeType;
    private final ResourceType claimType;
    private final SharedInformer volumes;
    private final SharedInformer claims;
    private final SharedInformer classes;
    private final SharedInformer nodes;
    private final EventRecorder events;
    private final Controller controller;

    public PersistentVolumeController(ControllerContext ctx) {
        this.api = ctx.api("persistent-volume-binder");
        this.volumeType = api.type("", "v1", "persistentvolumes");
        this.claimType = api.type("", "v1", "persistentvolumeclaims");
        this.volumes = ctx.informer("", "v1", "persistentvolumes");
        this.claims = ctx.informer("", "v1", "persistentvolumeclaims");
        this.classes = ctx.informer("storage.k8s.io", "v1", "storageclasses");
        this.nodes = ctx.informer("", "v1", "nodes");
        this.events = ctx.events("persistentvolume-controller");
        // one worker: binding decisions read the informers, and two workers could pick the same volume for two claims
        this.controller = new Controller("persistentvolume-binder", ctx.clock(), 1, this::sync);
        claims.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                controller.enqueue(CLAIM + Keys.of(obj));
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                controller.enqueue(CLAIM + Keys.of(newObj));
            }

            @Override
            public void onDelete(ObjectNode obj) {
                String volume = Json.text(obj.get("spec"), "volumeName");
                if (!volume.isEmpty()) controller.enqueue(VOLUME + volume);
                // a volume pre-bound by claimRef to this claim may be waiting for it
                for (ObjectNode v : volumes.list()) {
                    if (Volumes.boundTo(v, obj)) controller.enqueue(VOLUME + Meta.name(v));
                }
            }
        });
        volumes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                volumeChanged(obj);
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                volumeChanged(newObj);
            }

            @Override
            public void onDelete(ObjectNode obj) {
                JsonNode ref = Volumes.claimRef(obj);
                if (ref != null) controller.enqueue(CLAIM + Keys.of(Json.text(ref, "namespace"), Json.text(ref, "name")));
            }
        });
        classes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                enqueuePendingClaims();
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                if (!oldObj.path("metadata").path("annotations").equals(newObj.path("metadata").path("annotations"))) enqueuePendingClaims();
            }
        });
    }

    private void volumeChanged(ObjectNode volume) {
        controller.enqueue(VOLUME + Meta.name(volume));
        JsonNode ref = Volumes.claimRef(volume);
        if (ref != null) controller.enqueue(CLAIM + Keys.of(Json.text(ref, "namespace"), Json.text(ref, "name")));
        // kube finds new volumes for waiting claims on its 15 s resync; looking at once is cheaper than waiting
        if (ref == null && "Available".equals(phase(volume))) enqueuePendingClaims();
    }

    private void enqueuePendingClaims() {
        for (ObjectNode c : claims.list()) {
            if (Json.text(c.get("spec"), "volumeName").isEmpty()) controller.enqueue(CLAIM + Keys.of(c));
        }
    }

    @Override
    public void start() {
        controller.start();
    }

    @Override
    public void close() {
        controller.close();
    }

    private Duration sync(String key) {
        if (key.startsWith(CLAIM)) {
            String k = key.substring(CLAIM.length());
            syncClaim(Keys.namespace(k), Keys.name(k));
        } else if (key.startsWith(VOLUME)) {
            syncVolume(key.substring(VOLUME.length()));
        }
        return null;
    }

    // ---- claims ----

    private void syncClaim(String namespace, String name) {
        ObjectNode claim = claims.get(namespace, name);
        if (claim == null || Meta.deleting(claim)) return;
        if (annotation(claim, Volumes.BIND_COMPLETED).isEmpty()) syncUnboundClaim(claim);
        else syncBoundClaim(claim);
    }

    private void syncUnboundClaim(ObjectNode claim) {
        String volumeName = Json.text(claim.get("spec"), "volumeName");
        if (volumeName.isEmpty()) {
            if (Volumes.classUnset(claim) && assignDefaultClass(claim)) return;
            String cls = Volumes.storageClass(claim);
            ObjectNode sc = cls.isEmpty() ? null : classes.get("", cls);
            boolean delay = sc != null && Volumes.WAIT_FOR_FIRST_CONSUMER.equals(Json.text(sc, "volumeBindingMode"));
            String node = annotation(claim, Volumes.SELECTED_NODE);
            ObjectNode volume = bestMatch(claim, delay, node);
            if (volume != null) {
                bind(volume, claim);
                return;
            }
            if (cls.isEmpty()) {
                claimEvent(claim, "Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set");
            } else if (sc == null) {
                claimEvent(claim, "Warning", "ProvisioningFailed", "storageclass.storage.k8s.io \"" + cls + "\" not found");
            } else if (delay && node.isEmpty()) {
                claimEvent(claim, "Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding");
            } else {
                handToProvisioner(claim, Json.text(sc, "provisioner"));
            }
            claimPhase(claim, "Pending");
            return;
        }
        // the claim asks for one volume by name
        ObjectNode volume = volumes.get("", volumeName);
        if (volume == null) {
            claimPhase(claim, "Pending");
            return;
        }
        JsonNode ref = Volumes.claimRef(volume);
        if (ref == null) {
            String mismatch = mismatch(volume, claim);
            if (mismatch != null) {
                claimEvent(claim, "Warning", "VolumeMismatch", "Cannot bind to requested volume \"" + volumeName + "\": " + mismatch);
                claimPhase(claim, "Pending");
                return;
            }
            bind(volume, claim);
        } else if (Volumes.boundTo(volume, claim)) {
            bind(volume, claim);
        } else {
            claimEvent(claim, "Warning", "FailedBinding", "volume \"" + volumeName + "\" already bound to a different claim.");
            claimPhase(claim, "Pending");
        }
    }

    private void syncBoundClaim(ObjectNode claim) {
        String volumeName = Json.text(claim.get("spec"), "volumeName");
        if (volumeName.isEmpty()) {
            lost(claim, "ClaimLost", "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!");
            return;
        }
        ObjectNode volume = volumes.get("", volumeName);
        if (volume == null) volume = api.find(volumeType, "", volumeName).orElse(null); // don't call it lost on a stale cache
        if (volume == null) {
            lost(claim, "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!");
            return;
        }
        JsonNode ref = Volumes.claimRef(volume);
        if (ref == null || Json.text(ref, "uid").equals(Meta.uid(claim))) {
            bind(volume, claim);
        } else {
            lost(claim, "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly");
        }
    }

    private void lost(ObjectNode claim, String reason, String message) {
        if (!"Lost".equals(phase(claim))) claimEvent(claim, "Warning", reason, message);
        claimPhase(claim, "Lost");
    }

    /**
     * The volume for a claim (kube's findMatchingVolume): one pre-bound to it wins, otherwise the smallest
     * Available volume that satisfies it. With delayed binding and no node chosen yet, only pre-bound volumes
     * count; once a node is chosen, only volumes reachable from it.
     */
    private ObjectNode bestMatch(ObjectNode claim, boolean delay, String node) {
        BigDecimal requested = Volumes.requested(claim);
        String cls = Volumes.storageClass(claim);
        String mode = Volumes.volumeMode(claim);
        Set<String> modes = Volumes.accessModes(claim);
        JsonNode sel = claim.path("spec").get("selector");
        LabelSelector selector = sel == null || sel.isNull() ? LabelSelector.EVERYTHING : LabelSelector.fromJson(sel);
        Map<String, String> nodeLabels = node.isEmpty() ? Map.of() : nodeLabels(node);
        ObjectNode best = null;
        BigDecimal bestSize = null;
        for (ObjectNode v : volumes.list()) {
            if (Meta.deleting(v)) continue;
            BigDecimal size = Volumes.capacity(v);
            if (size.compareTo(requested) < 0) continue;
            if (!Volumes.volumeMode(v).equals(mode)) continue;
            JsonNode ref = Volumes.claimRef(v);
            if (ref != null) {
                if (Volumes.boundTo(v, claim)) return v;
                continue;
            }
            if (delay && node.isEmpty()) continue;
            if (!node.isEmpty() && !Volumes.fitsNode(v, node, nodeLabels)) continue;
            if (!"Available".equals(phase(v))) continue;
            if (!selector.matches(Meta.labels(v))) continue;
            if (!Volumes.storageClass(v).equals(cls)) continue;
            if (!Volumes.accessModes(v).containsAll(modes)) continue;
            if (best == null || size.compareTo(bestSize) < 0) {
                best = v;
                bestSize = size;
            }
        }
        return best;
    }

    private Map<String, String> nodeLabels(String node) {
        ObjectNode n = nodes.get("", node);
        if (n == null) return Map.of("kubernetes.io/hostname", node);
        return Owners.labels(n);
    }

    /** Why a volume a claim names can't serve it (kube's checkVolumeSatisfyClaim), or null. */
    private static String mismatch(JsonNode volume, JsonNode claim) {
        if (Volumes.capacity(volume).compareTo(Volumes.requested(claim)) < 0) return "requested PV is too small";
        if (!Volumes.storageClass(volume).equals(Volumes.storageClass(claim))) return "storageClassName does not match";
        if (!Volumes.volumeMode(volume).equals(Volumes.volumeMode(claim))) return "incompatible volumeMode";
        if (!Volumes.accessModes(volume).containsAll(Volumes.accessModes(claim))) return "incompatible accessMode";
        return null;
    }

    /** Gives a claim without any class the default one (the newest, if several are marked default). */
    private boolean assignDefaultClass(ObjectNode claim) {
        ObjectNode chosen = null;
        for (ObjectNode sc : classes.list()) {
            boolean isDefault = "true".equals(annotation(sc, Volumes.DEFAULT_CLASS)) || "true".equals(annotation(sc, Volumes.BETA_DEFAULT_CLASS));
            if (!isDefault) continue;
            if (chosen == null || Json.text(sc.get("metadata"), "creationTimestamp").compareTo(Json.text(chosen.get("metadata"), "creationTimestamp")) > 0) {
                chosen = sc;
            }
        }
        if (chosen == null) return false;
        String cls = Meta.name(chosen);
        api.modify(claimType, Meta.namespace(claim), Meta.name(claim), "", cur -> {
            if (!Meta.uid(cur).equals(Meta.uid(claim))) throw conflict("persistentvolumeclaims", claim, "the claim was replaced");
            if (Volumes.classUnset(cur)) Json.obj(cur, "spec").put("storageClassName", cls);
            return cur;
        });
        return true;
    }

    /** Marks a claim for its class's provisioner (kube's setClaimProvisioner) and says so. */
    private void handToProvisioner(ObjectNode claim, String provisioner) {
        if (!provisioner.equals(annotation(claim, Volumes.STORAGE_PROVISIONER))
                || !provisioner.equals(annotation(claim, Volumes.BETA_STORAGE_PROVISIONER))) {
            api.modify(claimType, Meta.namespace(claim), Meta.name(claim), "", cur -> {
                if (!Meta.uid(cur).equals(Meta.uid(claim))) throw conflict("persistentvolumeclaims", claim, "the claim was replaced");
                ObjectNode ann = Json.obj(Meta.metadata(cur), "annotations");
                ann.put(Volumes.STORAGE_PROVISIONER, provisioner);
                ann.put(Volumes.BETA_STORAGE_PROVISIONER, provisioner);
                return cur;
            });
        }
        claimEvent(claim, "Normal", "ExternalProvisioning", "Waiting for a volume to be created either by the external provisioner '"
                + provisioner + "' or manually by the system administrator. If volume creation is delayed, please verify that the "
                + "provisioner is running and correctly registered.");
    }

    /** Binds both sides, each written only where it differs (kube's bind: volume first, then the claim). */
    private void bind(ObjectNode volume, ObjectNode claim) {
        String volumeName = Meta.name(volume);
        String claimUid = Meta.uid(claim);
        JsonNode ref = Volumes.claimRef(volume);
        boolean refDone = ref != null && Json.text(ref, "uid").equals(claimUid);
        if (!refDone) {
            api.modify(volumeType, "", volumeName, "", cur -> {
                JsonNode r = Volumes.claimRef(cur);
                if (r != null && !Volumes.boundTo(cur, claim)) throw conflict("persistentvolumes", cur, "bound to another claim meanwhile");
                if (r == null) Json.obj(Meta.metadata(cur), "annotations").put(Volumes.BOUND_BY_CONTROLLER, "yes");
                ObjectNode newRef = Json.obj(Json.obj(cur, "spec"), "claimRef");
                newRef.put("kind", "PersistentVolumeClaim").put("namespace", Meta.namespace(claim)).put("name", Meta.name(claim))
                        .put("uid", claimUid).put("apiVersion", "v1").put("resourceVersion", Meta.resourceVersion(claim));
                return cur;
            });
        }
        if (!"Bound".equals(phase(volume)) || !refDone) {
            api.modify(volumeType, "", volumeName, "status", cur -> {
                Json.obj(cur, "status").put("phase", "Bound");
                ((ObjectNode) cur.get("status")).remove(java.util.List.of("message", "reason"));
                return cur;
            });
        }
        boolean claimDone = volumeName.equals(Json.text(claim.get("spec"), "volumeName"))
                && "yes".equals(annotation(claim, Volumes.BIND_COMPLETED));
        if (!claimDone) {
            api.modify(claimType, Meta.namespace(claim), Meta.name(claim), "", cur -> {
                if (!Meta.uid(cur).equals(claimUid)) throw conflict("persistentvolumeclaims", claim, "the claim was replaced");
                String current = Json.text(cur.get("spec"), "volumeName");
                if (!current.isEmpty() && !current.equals(volumeName)) throw conflict("persistentvolumeclaims", claim, "it names another volume");
                ObjectNode ann = Json.obj(Meta.metadata(cur), "annotations");
                if (current.isEmpty()) {
                    Json.obj(cur, "spec").put("volumeName", volumeName);
                    ann.put(Volumes.BOUND_BY_CONTROLLER, "yes");
                }
                ann.put(Volumes.BIND_COMPLETED, "yes");
                return cur;
            });
        }
        JsonNode status = claim.get("status");
        JsonNode capacity = volume.path("spec").path("capacity");
        JsonNode modes = volume.path("spec").path("accessModes");
        boolean statusDone = status != null && "Bound".equals(Json.text(status, "phase")) && capacity.equals(status.path("capacity"))
                && modes.equals(status.path("accessModes"));
        if (!statusDone) {
            api.modify(claimType, Meta.namespace(claim), Meta.name(claim), "status", cur -> {
                ObjectNode s = Json.obj(cur, "status");
                s.put("phase", "Bound");
                if (capacity.isObject()) s.set("capacity", capacity.deepCopy());
                if (modes.isArray()) s.set("accessModes", modes.deepCopy());
                return cur;
            });
        }
    }

    private void claimPhase(ObjectNode claim, String phase) {
        if (phase.equals(phase(claim))) return;
        api.modify(claimType, Meta.namespace(claim), Meta.name(claim), "status", cur -> {
            Json.obj(cur, "status").put("phase", phase);
            return cur;
        });
    }

    private void claimEvent(ObjectNode claim, String type, String reason, String message) {
        events.event(claim, "v1", "PersistentVolumeClaim", type, reason, message);
    }

    // ---- volumes ----

    private void syncVolume(String name) {
        ObjectNode volume = volumes.get("", name);
        if (volume == null || Meta.deleting(volume)) return;
        JsonNode ref = Volumes.claimRef(volume);
        if (ref == null || Json.text(ref, "uid").isEmpty()) {
            // free, or pre-bound by an administrator to a claim that may not exist yet
            volumePhase(volume, "Available", null);
            return;
        }
        String ns = Json.text(ref, "namespace");
        String claimName = Json.text(ref, "name");
        ObjectNode claim = claims.get(ns, claimName);
        if (claim == null) claim = api.find(claimType, ns, claimName).orElse(null); // the cache may not have a new claim yet
        if (claim != null && !Meta.uid(claim).equals(Json.text(ref, "uid"))) claim = null; // a new claim of the same name
        if (claim == null) {
            if (!"Released".equals(phase(volume)) && !"Failed".equals(phase(volume))) {
                volume = volumePhase(volume, "Released", null);
            }
            if ("Released".equals(phase(volume))) reclaim(volume);
            return;
        }
        String claimVolume = Json.text(claim.get("spec"), "volumeName");
        if (claimVolume.isEmpty()) {
            controller.enqueue(CLAIM + Keys.of(claim)); // the claim's sync finishes the binding
        } else if (claimVolume.equals(name)) {
            volumePhase(volume, "Bound", null);
        } else if ("yes".equals(annotation(volume, Volumes.BOUND_BY_CONTROLLER))) {
            // we bound it, but the claim took another volume: free this one
            api.modify(volumeType, "", name, "", cur -> {
                Json.obj(cur, "spec").remove("claimRef");
                Json.obj(Meta.metadata(cur), "annotations").remove(Volumes.BOUND_BY_CONTROLLER);
                return cur;
            });
        } else {
            // an administrator bound it to that claim by name: keep the name, forget the uid
            api.modify(volumeType, "", name, "", cur -> {
                Json.obj(Json.obj(cur, "spec"), "claimRef").remove(java.util.List.of("uid", "resourceVersion"));
                return cur;
            });
        }
    }

    /** What a Released volume's reclaim policy asks for. */
    private void reclaim(ObjectNode volume) {
        String policy = Json.text(volume.get("spec"), "persistentVolumeReclaimPolicy");
        switch (policy) {
            case "Delete" -> {
                String provisioner = annotation(volume, Volumes.PROVISIONED_BY);
                // an external provisioner deletes its own volumes (and their storage) once they are Released
                if (!provisioner.isEmpty() && !provisioner.startsWith("kubernetes.io/")) return;
                api.deleteIfExists(volumeType, "", Meta.name(volume), Meta.uid(volume), null);
            }
            case "Recycle" -> {
                events.event(volume, "v1", "PersistentVolume", "Warning", "VolumeFailedRecycle", "Recycle policy is not supported by k3j");
                volumePhase(volume, "Failed", "Recycle policy is not supported by k3j");
            }
            default -> { } // Retain: an administrator decides
        }
    }

    private ObjectNode volumePhase(ObjectNode volume, String phase, String message) {
        if (phase.equals(phase(volume))) return volume;
        return api.modify(volumeType, "", Meta.name(volume), "status", cur -> {
            ObjectNode s = Json.obj(cur, "status");
            s.put("phase", phase);
            if (message != null) s.put("message", message);
            else s.remove("message");
            s.put("lastPhaseTransitionTime", Meta.timestamp(api.clock().instant()));
            return cur;
        });
    }

    private static ApiException conflict(String resource, JsonNode obj, String detail) {
        return ApiException.conflict("", resource, Meta.name(obj), detail);
    }
}
