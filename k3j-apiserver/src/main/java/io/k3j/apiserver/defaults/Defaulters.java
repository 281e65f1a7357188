package io.k3j.apiserver.defaults;

import static io.k3j.apiserver.defaults.Nodes.blank;
import static io.k3j.apiserver.defaults.Nodes.bool;
import static io.k3j.apiserver.defaults.Nodes.child;
import static io.k3j.apiserver.defaults.Nodes.ensure;
import static io.k3j.apiserver.defaults.Nodes.items;
import static io.k3j.apiserver.defaults.Nodes.number;
import static io.k3j.apiserver.defaults.Nodes.text;
import static io.k3j.apiserver.defaults.Nodes.unset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/**
 * Field defaults of built-in objects, as the generated defaulters of kube-apiserver apply them when a
 * request body is decoded (pkg/apis/{core,apps,batch,networking,rbac,storage,discovery}/v1/defaults.go,
 * apiextensions v1 defaults), plus the parts of registry strategies' PrepareForCreate that only fill in
 * fields (Namespace finalizers, Service IP family). Admission-plugin mutations live in {@link Admission}.
 *
 * <p>Defaulting is idempotent: applying it to an already defaulted object changes nothing, so it is also run
 * on update bodies, as kube-apiserver does.
 */
public final class Defaulters {
    private Defaulters() {}

    /**
     * Fills in, in place, every field kube-apiserver defaults for {@code group/version kind}. Unknown kinds are
     * left untouched; malformed parts of the object are skipped (validation reports them).
     *
     * @throws NullPointerException if {@code kind} or {@code obj} is null
     */
    public static void apply(String group, String version, String kind, ObjectNode obj) {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(obj, "obj");
        String g = group == null ? "" : group;
        switch (g + "/" + kind) {
            case "/Pod" -> PodDefaults.pod(obj);
            case "/PodTemplate" -> PodDefaults.template(obj, "template");
            case "/ReplicationController" -> replicationController(obj);
            case "/Service" -> service(obj);
            case "/Endpoints" -> {
                for (ObjectNode subset : items(obj, "subsets")) for (ObjectNode p : items(subset, "ports")) text(p, "protocol", "TCP");
            }
            case "/Secret" -> secret(obj);
            case "/Namespace" -> namespace(obj);
            case "/PersistentVolume" -> persistentVolume(obj);
            case "/PersistentVolumeClaim" -> persistentVolumeClaim(obj);
            case "/Node" -> node(obj);
            case "/LimitRange" -> limitRange(obj);
            case "/ResourceQuota" -> {
                ObjectNode spec = child(obj, "spec");
                if (spec != null) Nodes.resourceList(child(spec, "hard"));
            }
            case "/Event" -> coreEvent(obj);
            case "apps/Deployment" -> deployment(obj);
            case "apps/ReplicaSet" -> {
                ObjectNode spec = ensure(obj, "spec");
                number(spec, "replicas", 1);
                PodDefaults.template(spec, "template");
            }
            case "apps/StatefulSet" -> statefulSet(obj);
            case "apps/DaemonSet" -> daemonSet(obj);
            case "batch/Job" -> job(obj);
            case "batch/CronJob" -> cronJob(obj);
            case "networking.k8s.io/NetworkPolicy" -> networkPolicy(obj);
            case "networking.k8s.io/IngressClass" -> {
                ObjectNode params = child(child(obj, "spec"), "parameters");
                if (params != null) text(params, "scope", "Cluster");
            }
            case "rbac.authorization.k8s.io/RoleBinding", "rbac.authorization.k8s.io/ClusterRoleBinding" -> roleBinding(obj);
            case "rbac.authorization.k8s.io/Role", "rbac.authorization.k8s.io/ClusterRole" -> {
                // Rules has no omitempty: an aggregated ClusterRole without rules reads back "rules: null".
                if (!obj.has("rules")) obj.putNull("rules");
            }
            case "storage.k8s.io/StorageClass" -> {
                text(obj, "reclaimPolicy", "Delete");
                text(obj, "volumeBindingMode", "Immediate");
            }
            case "discovery.k8s.io/EndpointSlice" -> endpointSlice(obj);
            case "apiextensions.k8s.io/CustomResourceDefinition" -> customResourceDefinition(obj);
            default -> { }
        }
    }

    private static void replicationController(ObjectNode rc) {
        ObjectNode spec = ensure(rc, "spec");
        ObjectNode template = child(spec, "template");
        ObjectNode templateLabels = template == null ? null : child(child(template, "metadata"), "labels");
        if (templateLabels != null && !templateLabels.isEmpty()) {
            ObjectNode selector = child(spec, "selector");
            if (selector == null || selector.isEmpty()) spec.set("selector", templateLabels.deepCopy());
            ObjectNode meta = ensure(rc, "metadata");
            ObjectNode labels = child(meta, "labels");
            if (labels == null || labels.isEmpty()) meta.set("labels", templateLabels.deepCopy());
        }
        number(spec, "replicas", 1);
        if (template != null) PodDefaults.template(spec, "template");
    }

    private static void service(ObjectNode svc) {
        ObjectNode spec = ensure(svc, "spec");
        text(spec, "sessionAffinity", "None");
        text(spec, "type", "ClusterIP");
        String type = spec.path("type").asText();
        if (spec.path("sessionAffinity").asText().equals("ClientIP")) {
            ObjectNode config = ensure(spec, "sessionAffinityConfig");
            ObjectNode clientIP = ensure(config, "clientIP");
            number(clientIP, "timeoutSeconds", 10800);
        }
        for (ObjectNode p : items(spec, "ports")) {
            text(p, "protocol", "TCP");
            JsonNode target = p.get("targetPort");
            boolean zero = target == null || target.isNull() || (target.isNumber() && target.asInt() == 0)
                    || (target.isTextual() && target.asText().isEmpty());
            if (zero && p.path("port").isIntegralNumber()) p.put("targetPort", p.get("port").asInt());
        }
        if ((type.equals("NodePort") || type.equals("LoadBalancer"))) text(spec, "externalTrafficPolicy", "Cluster");
        if (!type.equals("ExternalName")) {
            text(spec, "internalTrafficPolicy", "Cluster");
            // The service REST storage picks the IP family: a single-stack IPv4 cluster gives every
            // non-ExternalName service SingleStack [IPv4] (headless ones without selector included).
            text(spec, "ipFamilyPolicy", "SingleStack");
            JsonNode families = spec.get("ipFamilies");
            if (families == null || families.isNull() || (families.isArray() && families.isEmpty())) {
                spec.putArray("ipFamilies").add("IPv4");
            }
        }
        if (type.equals("LoadBalancer")) bool(spec, "allocateLoadBalancerNodePorts", true);
    }

    /**
     * Besides the type default, what the v1-to-internal conversion does: {@code stringData} is write-only, its
     * entries overwrite {@code data} (base64 encoded) and it is never stored or returned.
     */
    private static void secret(ObjectNode obj) {
        JsonNode stringData = obj.remove("stringData");
        if (stringData instanceof ObjectNode entries && !entries.isEmpty()) {
            ObjectNode data = obj.get("data") instanceof ObjectNode d ? d : obj.putObject("data");
            entries.properties().forEach(e -> data.put(e.getKey(),
                    Base64.getEncoder().encodeToString(e.getValue().asText().getBytes(StandardCharsets.UTF_8))));
        }
        text(obj, "type", "Opaque");
    }

    private static void namespace(ObjectNode ns) {
        ObjectNode meta = ensure(ns, "metadata");
        String name = meta.path("name").asText("");
        if (!name.isEmpty()) ensure(meta, "labels").put("kubernetes.io/metadata.name", name);
        // The namespace strategy (PrepareForCreate) puts the "kubernetes" finalizer in the spec.
        ObjectNode spec = ensure(ns, "spec");
        JsonNode finalizers = spec.get("finalizers");
        if (!(finalizers instanceof ArrayNode a)) {
            spec.putArray("finalizers").add("kubernetes");
        } else {
            boolean has = false;
            for (JsonNode f : a) has |= f.asText().equals("kubernetes");
            if (!has) a.add("kubernetes");
        }
        text(ensure(ns, "status"), "phase", "Active");
    }

    private static void persistentVolume(ObjectNode pv) {
        ObjectNode spec = ensure(pv, "spec");
        text(spec, "persistentVolumeReclaimPolicy", "Retain");
        text(spec, "volumeMode", "Filesystem");
        Nodes.resourceList(child(spec, "capacity"));
        ObjectNode s;
        if ((s = child(spec, "iscsi")) != null) text(s, "iscsiInterface", "default");
        if ((s = child(spec, "rbd")) != null) PodDefaults.rbd(s);
        if ((s = child(spec, "azureDisk")) != null) PodDefaults.azureDisk(s);
        if ((s = child(spec, "hostPath")) != null) text(s, "type", "");
        text(ensure(pv, "status"), "phase", "Pending");
    }

    private static void persistentVolumeClaim(ObjectNode pvc) {
        pvcSpec(ensure(pvc, "spec"));
        text(ensure(pvc, "status"), "phase", "Pending");
    }

    private static void pvcSpec(ObjectNode spec) {
        text(spec, "volumeMode", "Filesystem");
        // VolumeResourceRequirements is a struct without omitempty effect: always "resources: {}" at least.
        ObjectNode resources = ensure(spec, "resources");
        Nodes.resourceList(child(resources, "requests"));
        Nodes.resourceList(child(resources, "limits"));
    }

    private static void node(ObjectNode node) {
        ObjectNode status = child(node, "status");
        if (status == null) return;
        Nodes.resourceList(child(status, "capacity"));
        ObjectNode capacity = child(status, "capacity");
        if (unset(status, "allocatable") && capacity != null && !capacity.isEmpty()) {
            status.set("allocatable", capacity.deepCopy());
        }
        Nodes.resourceList(child(status, "allocatable"));
    }

    private static void limitRange(ObjectNode lr) {
        ObjectNode spec = child(lr, "spec");
        if (spec == null) return;
        for (ObjectNode item : items(spec, "limits")) {
            for (String f : new String[] {"max", "min", "default", "defaultRequest", "maxLimitRequestRatio"}) {
                Nodes.resourceList(child(item, f));
            }
            if (!item.path("type").asText().equals("Container")) continue;
            ObjectNode max = child(item, "max");
            ObjectNode min = child(item, "min");
            ObjectNode def = child(item, "default");
            ObjectNode defReq = child(item, "defaultRequest");
            // A default limit falls back to max, a default request to the default limit, then to min.
            if (max != null) for (var e : max.properties()) {
                if (def == null) def = item.putObject("default");
                if (!def.has(e.getKey())) def.set(e.getKey(), e.getValue().deepCopy());
            }
            if (def != null) for (var e : def.properties()) {
                if (defReq == null) defReq = item.putObject("defaultRequest");
                if (!defReq.has(e.getKey())) defReq.set(e.getKey(), e.getValue().deepCopy());
            }
            if (min != null) for (var e : min.properties()) {
                if (defReq == null) defReq = item.putObject("defaultRequest");
                if (!defReq.has(e.getKey())) defReq.set(e.getKey(), e.getValue().deepCopy());
            }
        }
    }

    private static void coreEvent(ObjectNode ev) {
        // Fields without omitempty that clients rarely send; kube-apiserver echoes them.
        if (!ev.has("eventTime")) ev.putNull("eventTime");
        if (!ev.has("firstTimestamp")) ev.putNull("firstTimestamp");
        if (!ev.has("lastTimestamp")) ev.putNull("lastTimestamp");
        if (!ev.has("reportingComponent")) ev.put("reportingComponent", "");
        if (!ev.has("reportingInstance")) ev.put("reportingInstance", "");
        ensure(ev, "involvedObject");
        ensure(ev, "source");
    }

    private static void deployment(ObjectNode d) {
        ObjectNode spec = ensure(d, "spec");
        number(spec, "replicas", 1);
        ObjectNode strategy = ensure(spec, "strategy");
        text(strategy, "type", "RollingUpdate");
        if (strategy.path("type").asText().equals("RollingUpdate")) {
            ObjectNode ru = ensure(strategy, "rollingUpdate");
            if (unset(ru, "maxUnavailable")) ru.put("maxUnavailable", "25%");
            if (unset(ru, "maxSurge")) ru.put("maxSurge", "25%");
        }
        number(spec, "revisionHistoryLimit", 10);
        number(spec, "progressDeadlineSeconds", 600);
        PodDefaults.template(spec, "template");
    }

    private static void statefulSet(ObjectNode ss) {
        ObjectNode spec = ensure(ss, "spec");
        text(spec, "podManagementPolicy", "OrderedReady");
        ObjectNode strategy = ensure(spec, "updateStrategy");
        if (blank(strategy, "type")) {
            strategy.put("type", "RollingUpdate");
            ensure(strategy, "rollingUpdate");
        }
        ObjectNode ru = child(strategy, "rollingUpdate");
        if (strategy.path("type").asText().equals("RollingUpdate") && ru != null) number(ru, "partition", 0);
        ObjectNode retention = ensure(spec, "persistentVolumeClaimRetentionPolicy");
        text(retention, "whenDeleted", "Retain");
        text(retention, "whenScaled", "Retain");
        number(spec, "replicas", 1);
        number(spec, "revisionHistoryLimit", 10);
        PodDefaults.template(spec, "template");
        for (ObjectNode claim : items(spec, "volumeClaimTemplates")) {
            PodDefaults.templateMeta(claim);
            pvcSpec(ensure(claim, "spec"));
            text(ensure(claim, "status"), "phase", "Pending");
        }
    }

    private static void daemonSet(ObjectNode ds) {
        ObjectNode spec = ensure(ds, "spec");
        ObjectNode strategy = ensure(spec, "updateStrategy");
        text(strategy, "type", "RollingUpdate");
        if (strategy.path("type").asText().equals("RollingUpdate")) {
            ObjectNode ru = ensure(strategy, "rollingUpdate");
            if (unset(ru, "maxUnavailable")) ru.put("maxUnavailable", 1);
            if (unset(ru, "maxSurge")) ru.put("maxSurge", 0);
        }
        number(spec, "revisionHistoryLimit", 10);
        PodDefaults.template(spec, "template");
    }

    static void job(ObjectNode job) {
        ObjectNode spec = ensure(job, "spec");
        jobSpec(spec);
        // Go shares the template's label map with the Job when the Job has none of its own.
        ObjectNode templateLabels = child(child(child(spec, "template"), "metadata"), "labels");
        ObjectNode meta = ensure(job, "metadata");
        ObjectNode labels = child(meta, "labels");
        if (templateLabels != null && (labels == null || labels.isEmpty())) meta.set("labels", templateLabels.deepCopy());
    }

    private static void jobSpec(ObjectNode spec) {
        if (unset(spec, "completions") && unset(spec, "parallelism")) {
            spec.put("completions", 1);
            spec.put("parallelism", 1);
        }
        number(spec, "parallelism", 1);
        if (unset(spec, "backoffLimit")) {
            spec.put("backoffLimit", unset(spec, "backoffLimitPerIndex") ? 6 : Integer.MAX_VALUE);
        }
        text(spec, "completionMode", "NonIndexed");
        bool(spec, "suspend", false);
        ObjectNode failurePolicy = child(spec, "podFailurePolicy");
        if (failurePolicy != null) {
            for (ObjectNode rule : items(failurePolicy, "rules")) {
                for (ObjectNode cond : items(rule, "onPodConditions")) text(cond, "status", "True");
            }
        }
        text(spec, "podReplacementPolicy", failurePolicy != null ? "Failed" : "TerminatingOrFailed");
        bool(spec, "manualSelector", false);
        PodDefaults.template(spec, "template");
    }

    private static void cronJob(ObjectNode cj) {
        ObjectNode spec = ensure(cj, "spec");
        text(spec, "concurrencyPolicy", "Allow");
        bool(spec, "suspend", false);
        number(spec, "successfulJobsHistoryLimit", 3);
        number(spec, "failedJobsHistoryLimit", 1);
        ObjectNode jobTemplate = ensure(spec, "jobTemplate");
        PodDefaults.templateMeta(jobTemplate);
        PodDefaults.template(ensure(jobTemplate, "spec"), "template");
    }

    private static void networkPolicy(ObjectNode np) {
        ObjectNode spec = ensure(np, "spec");
        // podSelector has no omitempty: an empty selector reads back as {}.
        if (unset(spec, "podSelector")) spec.putObject("podSelector");
        JsonNode types = spec.get("policyTypes");
        if (types == null || types.isNull() || (types.isArray() && types.isEmpty())) {
            ArrayNode t = spec.putArray("policyTypes");
            t.add("Ingress");
            JsonNode egress = spec.get("egress");
            if (egress != null && egress.isArray() && !egress.isEmpty()) t.add("Egress");
        }
        for (String dir : new String[] {"ingress", "egress"}) {
            for (ObjectNode rule : items(spec, dir)) for (ObjectNode p : items(rule, "ports")) text(p, "protocol", "TCP");
        }
    }

    private static void roleBinding(ObjectNode rb) {
        ObjectNode roleRef = child(rb, "roleRef");
        if (roleRef != null) text(roleRef, "apiGroup", "rbac.authorization.k8s.io");
        for (ObjectNode s : items(rb, "subjects")) {
            if (!blank(s, "apiGroup")) continue;
            switch (s.path("kind").asText()) {
                // ServiceAccount subjects keep the empty group, which omitempty drops on output.
                case "User", "Group" -> s.put("apiGroup", "rbac.authorization.k8s.io");
                default -> { }
            }
        }
    }

    private static void endpointSlice(ObjectNode es) {
        if (!es.has("endpoints")) es.putNull("endpoints");
        if (!es.has("ports")) es.putNull("ports");
        for (ObjectNode p : items(es, "ports")) {
            if (unset(p, "name")) p.put("name", "");
            text(p, "protocol", "TCP");
        }
    }

    private static void customResourceDefinition(ObjectNode crd) {
        ObjectNode spec = ensure(crd, "spec");
        ObjectNode names = ensure(spec, "names");
        String kind = names.path("kind").asText("");
        text(names, "singular", kind.toLowerCase(java.util.Locale.ROOT));
        if (!kind.isEmpty()) text(names, "listKind", kind + "List");
        ObjectNode conversion = child(spec, "conversion");
        if (conversion == null) {
            spec.putObject("conversion").put("strategy", "None");
        } else {
            ObjectNode webhook = child(conversion, "webhook");
            ObjectNode service = child(child(webhook, "clientConfig"), "service");
            if (service != null) number(service, "port", 443);
        }
        ObjectNode status = ensure(crd, "status");
        JsonNode stored = status.get("storedVersions");
        if (stored == null || !stored.isArray() || stored.isEmpty()) {
            for (ObjectNode v : items(spec, "versions")) {
                if (v.path("storage").asBoolean(false)) {
                    status.putArray("storedVersions").add(v.path("name").asText());
                    break;
                }
            }
        }
        // acceptedNames is a struct with required plural and kind: it reads back empty until established.
        ObjectNode accepted = ensure(status, "acceptedNames");
        if (!accepted.has("plural")) accepted.put("plural", "");
        if (!accepted.has("kind")) accepted.put("kind", "");
    }
}
