package io.k3j.apiserver.resource;

import static io.k3j.apiserver.resource.ResourceType.STANDARD_VERBS;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The built-in resources k3j serves, named as kube-apiserver names them ({@code kubectl api-resources}). */
public final class BuiltinResources {
    private static final List<String> CREATE_ONLY = List.of("create");
    private static final List<String> NO_DELETECOLLECTION = List.of("create", "delete", "get", "list", "patch", "update", "watch");

    private BuiltinResources() {}

    public static List<ResourceType> all() {
        List<ResourceType> r = new ArrayList<>();
        // core/v1
        r.add(ns("", "v1", "Binding", "bindings", List.of(), List.of(), CREATE_ONLY, Set.of(), false));
        r.add(ns("", "v1", "ConfigMap", "configmaps", List.of("cm"), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(ns("", "v1", "Endpoints", "endpoints", List.of("ep"), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(ns("", "v1", "Event", "events", List.of("ev"), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(ns("", "v1", "LimitRange", "limitranges", List.of("limits"), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(cluster("", "v1", "Namespace", "namespaces", List.of("ns"), List.of(), NO_DELETECOLLECTION, Set.of("status", "finalize"), false));
        r.add(cluster("", "v1", "Node", "nodes", List.of("no"), List.of(), STANDARD_VERBS, Set.of("status", "proxy"), false));
        r.add(ns("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", List.of("pvc"), List.of(), STANDARD_VERBS, Set.of("status"), false));
        r.add(cluster("", "v1", "PersistentVolume", "persistentvolumes", List.of("pv"), List.of(), STANDARD_VERBS, Set.of("status"), false));
        r.add(ns("", "v1", "Pod", "pods", List.of("po"), List.of("all"), STANDARD_VERBS,
                Set.of("status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy", "ephemeralcontainers"), false));
        r.add(ns("", "v1", "PodTemplate", "podtemplates", List.of(), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(ns("", "v1", "ReplicationController", "replicationcontrollers", List.of("rc"), List.of("all"), STANDARD_VERBS, Set.of("status", "scale"), true));
        r.add(ns("", "v1", "ResourceQuota", "resourcequotas", List.of("quota"), List.of(), STANDARD_VERBS, Set.of("status"), false));
        r.add(ns("", "v1", "Secret", "secrets", List.of(), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(ns("", "v1", "ServiceAccount", "serviceaccounts", List.of("sa"), List.of(), STANDARD_VERBS, Set.of("token"), false));
        r.add(ns("", "v1", "Service", "services", List.of("svc"), List.of("all"), STANDARD_VERBS, Set.of("status", "proxy"), false));
        // apiextensions
        r.add(cluster("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", List.of("crd", "crds"),
                List.of("api-extensions"), STANDARD_VERBS, Set.of("status"), true));
        // apps
        r.add(ns("apps", "v1", "ControllerRevision", "controllerrevisions", List.of(), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(ns("apps", "v1", "DaemonSet", "daemonsets", List.of("ds"), List.of("all"), STANDARD_VERBS, Set.of("status"), true));
        r.add(ns("apps", "v1", "Deployment", "deployments", List.of("deploy"), List.of("all"), STANDARD_VERBS, Set.of("status", "scale"), true));
        r.add(ns("apps", "v1", "ReplicaSet", "replicasets", List.of("rs"), List.of("all"), STANDARD_VERBS, Set.of("status", "scale"), true));
        r.add(ns("apps", "v1", "StatefulSet", "statefulsets", List.of("sts"), List.of("all"), STANDARD_VERBS, Set.of("status", "scale"), true));
        // authentication: computed answers, never stored
        r.add(cluster("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", List.of(), List.of(), CREATE_ONLY, Set.of(), false));
        r.add(cluster("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", List.of(), List.of(), CREATE_ONLY, Set.of(), false));
        // authorization
        r.add(cluster("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", List.of(), List.of(), CREATE_ONLY, Set.of(), false));
        r.add(cluster("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", List.of(), List.of(), CREATE_ONLY, Set.of(), false));
        // batch
        r.add(ns("batch", "v1", "CronJob", "cronjobs", List.of("cj"), List.of("all"), STANDARD_VERBS, Set.of("status"), true));
        r.add(ns("batch", "v1", "Job", "jobs", List.of(), List.of("all"), STANDARD_VERBS, Set.of("status"), true));
        // coordination
        r.add(ns("coordination.k8s.io", "v1", "Lease", "leases", List.of(), List.of(), STANDARD_VERBS, Set.of(), false));
        // discovery
        r.add(ns("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", List.of(), List.of(), STANDARD_VERBS, Set.of(), false));
        // events
        r.add(ns("events.k8s.io", "v1", "Event", "events", List.of("ev"), List.of(), STANDARD_VERBS, Set.of(), false));
        // networking
        r.add(cluster("networking.k8s.io", "v1", "IngressClass", "ingressclasses", List.of(), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(ns("networking.k8s.io", "v1", "Ingress", "ingresses", List.of("ing"), List.of(), STANDARD_VERBS, Set.of("status"), true));
        r.add(ns("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", List.of("netpol"), List.of(), STANDARD_VERBS, Set.of(), true));
        // policy
        r.add(ns("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", List.of("pdb"), List.of(), STANDARD_VERBS, Set.of("status"), true));
        // rbac
        String rbac = "rbac.authorization.k8s.io";
        r.add(cluster(rbac, "v1", "ClusterRoleBinding", "clusterrolebindings", List.of(), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(cluster(rbac, "v1", "ClusterRole", "clusterroles", List.of(), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(ns(rbac, "v1", "RoleBinding", "rolebindings", List.of(), List.of(), STANDARD_VERBS, Set.of(), false));
        r.add(ns(rbac, "v1", "Role", "roles", List.of(), List.of(), STANDARD_VERBS, Set.of(), false));
        // scheduling
        r.add(cluster("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", List.of("pc"), List.of(), STANDARD_VERBS, Set.of(), false));
        // storage
        r.add(cluster("storage.k8s.io", "v1", "StorageClass", "storageclasses", List.of("sc"), List.of(), STANDARD_VERBS, Set.of(), false));
        return r;
    }

    private static ResourceType ns(String group, String version, String kind, String plural, List<String> shortNames,
                                   List<String> categories, List<String> verbs, Set<String> sub, boolean generation) {
        return new ResourceType(group, version, kind, plural, kind.toLowerCase(), true, shortNames, categories, verbs, sub, generation, false);
    }

    private static ResourceType cluster(String group, String version, String kind, String plural, List<String> shortNames,
                                        List<String> categories, List<String> verbs, Set<String> sub, boolean generation) {
        return new ResourceType(group, version, kind, plural, kind.toLowerCase(), false, shortNames, categories, verbs, sub, generation, false);
    }
}
