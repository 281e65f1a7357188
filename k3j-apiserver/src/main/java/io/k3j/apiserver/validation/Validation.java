package io.k3j.apiserver.validation;

import static io.k3j.apiserver.validation.Meta.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.ApiException.Cause;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Create and update validation of built-in objects with kube-apiserver's field paths and messages
 * (pkg/apis/{@literal *}/validation, apimachinery ObjectMeta validation). Objects are the defaulted external
 * v1 JSON; namespaced objects must carry metadata.namespace (the request's) before they are validated.
 *
 * <p>An empty list means valid; otherwise wrap it with {@link ApiException#invalid}.
 */
public final class Validation {
    private Validation() {}

    /** The built-in kinds that live outside namespaces, as the resource registry declares them. */
    private static final Set<String> CLUSTER_SCOPED = io.k3j.apiserver.resource.BuiltinResources.all().stream()
            .filter(t -> !t.namespaced()).map(t -> t.group() + "/" + t.kind()).collect(java.util.stream.Collectors.toUnmodifiableSet());

    /** True for the kinds here that live outside namespaces. */
    public static boolean isClusterScoped(String group, String kind) {
        return CLUSTER_SCOPED.contains((group == null ? "" : group) + "/" + kind);
    }

    /**
     * Validates an object about to be created. Unknown kinds get ObjectMeta checks only (as namespaced,
     * DNS-subdomain names).
     *
     * @throws NullPointerException if {@code kind} or {@code obj} is null
     */
    public static List<Cause> validateCreate(String group, String kind, ObjectNode obj) {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(obj, "obj");
        String key = (group == null ? "" : group) + "/" + kind;
        Errs e = new Errs();
        Meta.objectMeta(e, obj.get("metadata"), !CLUSTER_SCOPED.contains(key), nameRule(key), "metadata");
        spec(e, key, obj);
        return List.copyOf(e.list);
    }

    /**
     * Validates an update: the new object as on create (metadata by the update rules) plus what may not change.
     *
     * @throws NullPointerException if {@code kind}, {@code newObj} or {@code oldObj} is null
     */
    public static List<Cause> validateUpdate(String group, String kind, ObjectNode newObj, ObjectNode oldObj) {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(newObj, "newObj");
        Objects.requireNonNull(oldObj, "oldObj");
        String key = (group == null ? "" : group) + "/" + kind;
        Errs e = new Errs();
        Meta.objectMetaUpdate(e, newObj.get("metadata"), oldObj.get("metadata"), "metadata");
        if (key.equals("/Pod")) {
            podUpdate(e, newObj, oldObj);
        } else {
            spec(e, key, newObj);
            immutables(e, key, newObj, oldObj);
        }
        return List.copyOf(e.list);
    }

    /**
     * Convenience: throws the 422 kube-apiserver would answer when {@code causes} is not empty.
     *
     * @throws ApiException 422 Invalid naming {@code kind.group "name"}
     */
    public static void throwIfInvalid(String group, String kind, ObjectNode obj, List<Cause> causes) {
        if (!causes.isEmpty()) throw ApiException.invalid(group, kind, text(obj.path("metadata"), "name"), causes);
    }

    private static Meta.NameRule nameRule(String key) {
        return switch (key) {
            case "/Namespace" -> Meta.LABEL;
            case "/Service" -> Meta.DNS1035;
            case "rbac.authorization.k8s.io/Role", "rbac.authorization.k8s.io/ClusterRole",
                    "rbac.authorization.k8s.io/RoleBinding", "rbac.authorization.k8s.io/ClusterRoleBinding" -> Meta.PATH_SEGMENT;
            default -> Meta.SUBDOMAIN;
        };
    }

    private static void spec(Errs e, String key, ObjectNode obj) {
        switch (key) {
            case "/Pod" -> PodValidation.podSpec(e, obj.get("spec"), "spec");
            case "/PodTemplate" -> CoreValidation.podTemplate(e, obj.get("template"), "template");
            case "/Service" -> CoreValidation.service(e, obj);
            case "/ConfigMap" -> CoreValidation.configMap(e, obj);
            case "/Secret" -> CoreValidation.secret(e, obj);
            case "/Namespace" -> CoreValidation.namespace(e, obj);
            case "/Node" -> CoreValidation.node(e, obj);
            case "/Endpoints" -> CoreValidation.endpoints(e, obj);
            case "/Event" -> CoreValidation.event(e, obj);
            case "/PersistentVolume" -> CoreValidation.persistentVolume(e, obj);
            case "/PersistentVolumeClaim" -> CoreValidation.persistentVolumeClaimSpec(e, obj.get("spec"), "spec");
            case "/LimitRange" -> CoreValidation.limitRange(e, obj);
            case "/ResourceQuota" -> CoreValidation.resourceQuota(e, obj);
            case "/ReplicationController" -> CoreValidation.replicationController(e, obj);
            case "apps/Deployment" -> WorkloadValidation.deployment(e, obj);
            case "apps/ReplicaSet" -> WorkloadValidation.replicaSet(e, obj);
            case "apps/StatefulSet" -> WorkloadValidation.statefulSet(e, obj);
            case "apps/DaemonSet" -> WorkloadValidation.daemonSet(e, obj);
            case "apps/ControllerRevision" -> WorkloadValidation.controllerRevision(e, obj);
            case "batch/Job" -> WorkloadValidation.job(e, obj);
            case "batch/CronJob" -> WorkloadValidation.cronJob(e, obj);
            case "coordination.k8s.io/Lease" -> OtherValidation.lease(e, obj);
            case "discovery.k8s.io/EndpointSlice" -> OtherValidation.endpointSlice(e, obj);
            case "networking.k8s.io/Ingress" -> OtherValidation.ingress(e, obj);
            case "networking.k8s.io/IngressClass" -> OtherValidation.ingressClass(e, obj);
            case "networking.k8s.io/NetworkPolicy" -> OtherValidation.networkPolicy(e, obj);
            case "rbac.authorization.k8s.io/Role" -> OtherValidation.role(e, obj, true);
            case "rbac.authorization.k8s.io/ClusterRole" -> OtherValidation.role(e, obj, false);
            case "rbac.authorization.k8s.io/RoleBinding" -> OtherValidation.roleBinding(e, obj, true);
            case "rbac.authorization.k8s.io/ClusterRoleBinding" -> OtherValidation.roleBinding(e, obj, false);
            case "storage.k8s.io/StorageClass" -> OtherValidation.storageClass(e, obj);
            case "events.k8s.io/Event" -> OtherValidation.eventsEvent(e, obj);
            case "apiextensions.k8s.io/CustomResourceDefinition" -> OtherValidation.crd(e, obj);
            default -> { }
        }
    }

    private static JsonNode at(JsonNode n, String... path) {
        JsonNode cur = n;
        for (String p : path) {
            cur = cur == null ? null : cur.get(p);
        }
        return cur == null || cur.isNull() ? null : cur;
    }

    private static boolean changed(JsonNode a, JsonNode b) {
        return !Meta.sameOrUnset(a, b);
    }

    private static void immutable(Errs e, JsonNode newObj, JsonNode oldObj, String... path) {
        JsonNode a = at(newObj, path);
        JsonNode b = at(oldObj, path);
        if (changed(a, b)) {
            Object value = a == null ? null : a.isTextual() ? a.asText() : a.isNumber() ? (Object) a.asLong()
                    : path[path.length - 1].equals("selector") ? WorkloadValidation.selectorValue(a) : a;
            e.invalid(String.join(".", path), value, Meta.IMMUTABLE);
        }
    }

    private static void immutables(Errs e, String key, ObjectNode n, ObjectNode o) {
        switch (key) {
            case "apps/Deployment", "apps/ReplicaSet", "apps/DaemonSet" -> immutable(e, n, o, "spec", "selector");
            case "apps/StatefulSet" -> {
                ObjectNode a = n.path("spec").deepCopy();
                ObjectNode b = o.path("spec").deepCopy();
                for (String f : new String[] {"replicas", "ordinals", "template", "updateStrategy",
                        "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}) {
                    a.remove(f);
                    b.remove(f);
                }
                if (!a.equals(b)) {
                    e.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                            + "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
                }
            }
            case "apps/ControllerRevision" -> immutable(e, n, o, "data");
            case "batch/Job" -> {
                immutable(e, n, o, "spec", "selector");
                immutable(e, n, o, "spec", "completionMode");
                JsonNode oldCompletions = at(o, "spec", "completions");
                JsonNode newCompletions = at(n, "spec", "completions");
                // Indexed jobs may scale completions together with parallelism; others may not change them.
                boolean elastic = "Indexed".equals(text(n.path("spec"), "completionMode"))
                        && newCompletions != null && newCompletions.equals(at(n, "spec", "parallelism"));
                if (changed(newCompletions, oldCompletions) && !elastic) immutable(e, n, o, "spec", "completions");
                // Only a suspended job that never started may change its template's scheduling directives.
                boolean suspended = n.path("spec").path("suspend").asBoolean(false) && o.path("status").path("startTime").isMissingNode();
                JsonNode a = at(n, "spec", "template");
                JsonNode b = at(o, "spec", "template");
                if (changed(a, b) && !suspended) e.invalid("spec.template", new Errs.GoText("core.PodTemplateSpec{...}"), Meta.IMMUTABLE);
            }
            case "/Service" -> {
                String a = text(n.path("spec"), "clusterIP");
                String b = text(o.path("spec"), "clusterIP");
                if (!b.isEmpty() && !a.isEmpty() && !a.equals(b) && !"ExternalName".equals(text(n.path("spec"), "type"))) {
                    JsonNode ips = at(n, "spec", "clusterIPs");
                    e.invalid("spec.clusterIPs[0]", ips != null ? ips : com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode().add(a),
                            "may not change once set");
                }
            }
            case "/PersistentVolumeClaim" -> pvcUpdate(e, n, o);
            case "/Secret" -> {
                CoreValidation.immutableData(e, n, o, "data");
                immutable(e, n, o, "type");
            }
            case "/ConfigMap" -> CoreValidation.immutableData(e, n, o, "data", "binaryData");
            case "/PersistentVolume" -> {
                JsonNode a = at(n, "spec");
                JsonNode b = at(o, "spec");
                if (a != null && b != null) {
                    ObjectNode ac = a.deepCopy();
                    ObjectNode bc = b.deepCopy();
                    for (String f : new String[] {"capacity", "claimRef", "persistentVolumeReclaimPolicy", "accessModes",
                            "mountOptions", "storageClassName", "nodeAffinity", "volumeAttributesClassName"}) {
                        ac.remove(f);
                        bc.remove(f);
                    }
                    if (!ac.equals(bc)) e.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation");
                }
            }
            case "/Node" -> {
                JsonNode a = at(n, "spec", "podCIDRs");
                JsonNode b = at(o, "spec", "podCIDRs");
                if (b != null && b.size() > 0 && changed(a, b)) {
                    e.forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid");
                }
                String pa = text(n.path("spec"), "providerID");
                String pb = text(o.path("spec"), "providerID");
                if (!pb.isEmpty() && !pa.equals(pb)) e.forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid");
            }
            case "rbac.authorization.k8s.io/RoleBinding", "rbac.authorization.k8s.io/ClusterRoleBinding" -> {
                JsonNode a = n.get("roleRef");
                JsonNode b = o.get("roleRef");
                if (changed(a, b)) {
                    e.invalid("roleRef", new Errs.GoText("rbac.RoleRef{APIGroup:" + Errs.quote(text(a, "apiGroup")) + ", Kind:"
                            + Errs.quote(text(a, "kind")) + ", Name:" + Errs.quote(text(a, "name")) + "}"), "cannot change roleRef");
                }
            }
            case "storage.k8s.io/StorageClass" -> {
                if (changed(n.get("parameters"), o.get("parameters"))) e.forbidden("parameters", "updates to parameters are forbidden.");
                if (!text(n, "provisioner").equals(text(o, "provisioner"))) e.forbidden("provisioner", "updates to provisioner are forbidden.");
                if (!text(n, "reclaimPolicy").equals(text(o, "reclaimPolicy"))) e.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.");
                immutable(e, n, o, "volumeBindingMode");
            }
            case "discovery.k8s.io/EndpointSlice" -> immutable(e, n, o, "addressType");
            case "networking.k8s.io/IngressClass" -> immutable(e, n, o, "spec", "controller");
            case "apiextensions.k8s.io/CustomResourceDefinition" -> immutable(e, n, o, "spec", "group");
            default -> { }
        }
    }

    private static void pvcUpdate(Errs e, ObjectNode n, ObjectNode o) {
        JsonNode a = n.get("spec");
        JsonNode b = o.get("spec");
        if (a == null || b == null) return;
        ObjectNode ac = a.deepCopy();
        ObjectNode bc = b.deepCopy();
        // Requests may grow on bound claims; volumeName may be set once; volumeAttributesClassName may change.
        boolean bound = !text(b, "volumeName").isEmpty();
        for (ObjectNode s : new ObjectNode[] {ac, bc}) {
            if (bound && s.get("resources") instanceof ObjectNode r) r.remove("requests");
            s.remove("volumeAttributesClassName");
        }
        if (text(b, "volumeName").isEmpty()) {
            ac.remove("volumeName");
            bc.remove("volumeName");
        }
        // RetroactiveDefaultStorageClass (GA in 1.28): a claim without any class may be given one once
        JsonNode oldClass = b.get("storageClassName");
        if ((oldClass == null || oldClass.isNull()) && a.get("storageClassName") != null) {
            ac.remove("storageClassName");
            bc.remove("storageClassName");
        }
        if (!ac.equals(bc)) {
            e.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims");
        }
        var newStorage = PodValidation.parse(at(n, "spec", "resources", "requests", "storage"));
        var oldStorage = PodValidation.parse(at(o, "spec", "resources", "requests", "storage"));
        if (bound && newStorage != null && oldStorage != null && newStorage.compareTo(oldStorage) < 0) {
            e.forbidden("spec.resources.requests.storage", "field can not be less than previous value");
        }
    }

    static final String POD_UPDATE_MESSAGE = "pod updates may not change fields other than `spec.containers[*].image`,"
            + "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
            + "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

    /** ValidatePodUpdate: images, activeDeadlineSeconds, added tolerations and removed scheduling gates only. */
    private static void podUpdate(Errs e, ObjectNode n, ObjectNode o) {
        JsonNode newSpec = n.get("spec");
        JsonNode oldSpec = o.get("spec");
        if (newSpec == null || oldSpec == null) return;
        PodValidation.podSpec(e, newSpec, "spec");
        int i = 0;
        for (JsonNode c : Meta.iter(newSpec.get("containers"))) {
            if (text(c, "image").isEmpty() && i < oldSpec.path("containers").size()) e.required("spec.containers[" + i + "].image", "");
            i++;
        }
        JsonNode newDeadline = newSpec.get("activeDeadlineSeconds");
        JsonNode oldDeadline = oldSpec.get("activeDeadlineSeconds");
        if (oldDeadline != null && oldDeadline.isNumber()) {
            if (newDeadline == null || newDeadline.isNull()) {
                e.invalid("spec.activeDeadlineSeconds", null, "must not update from a positive integer to nil value");
            } else if (newDeadline.asLong() > oldDeadline.asLong()) {
                e.invalid("spec.activeDeadlineSeconds", newDeadline.asLong(), "must be less than or equal to previous value");
            }
        }
        ObjectNode a = newSpec.deepCopy();
        ObjectNode b = oldSpec.deepCopy();
        for (String list : new String[] {"containers", "initContainers"}) {
            if (a.get(list) instanceof ArrayNode an && b.get(list) instanceof ArrayNode bn && an.size() == bn.size()) {
                for (int k = 0; k < an.size(); k++) {
                    if (an.get(k) instanceof ObjectNode ac && bn.get(k) instanceof ObjectNode bc) ac.set("image", bc.get("image"));
                }
            }
        }
        a.set("activeDeadlineSeconds", b.get("activeDeadlineSeconds"));
        if (b.get("activeDeadlineSeconds") == null) a.remove("activeDeadlineSeconds");
        // Tolerations may only be added.
        List<JsonNode> oldTolerations = new ArrayList<>();
        b.path("tolerations").forEach(oldTolerations::add);
        List<JsonNode> newTolerations = new ArrayList<>();
        a.path("tolerations").forEach(newTolerations::add);
        if (newTolerations.containsAll(oldTolerations)) {
            if (b.has("tolerations")) a.set("tolerations", b.get("tolerations"));
            else a.remove("tolerations");
        }
        // Scheduling gates may only be removed.
        List<JsonNode> oldGates = new ArrayList<>();
        b.path("schedulingGates").forEach(oldGates::add);
        List<JsonNode> newGates = new ArrayList<>();
        a.path("schedulingGates").forEach(newGates::add);
        if (oldGates.containsAll(newGates)) {
            if (b.has("schedulingGates")) a.set("schedulingGates", b.get("schedulingGates"));
            else a.remove("schedulingGates");
        }
        JsonNode oldGrace = b.get("terminationGracePeriodSeconds");
        if (oldGrace != null && oldGrace.asLong() < 0 && a.path("terminationGracePeriodSeconds").asLong() == 1) a.set("terminationGracePeriodSeconds", oldGrace);
        if (!a.equals(b)) e.forbidden("spec", POD_UPDATE_MESSAGE);
    }
}
