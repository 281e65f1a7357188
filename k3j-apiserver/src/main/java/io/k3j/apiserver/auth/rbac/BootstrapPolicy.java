package io.k3j.apiserver.auth.rbac;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.auth.JoinTokenAuthenticator;
import io.k3j.apiserver.auth.UserInfo;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import java.util.List;

/**
 * The default ClusterRoles and ClusterRoleBindings a k3s cluster starts with (kube-apiserver's
 * plugin/pkg/auth/authorizer/rbac/bootstrappolicy), the subset that matters to k3j today. Each is created when
 * missing and left alone when present, so an administrator's edits survive restarts. {@code admin}, {@code edit}
 * and {@code view} are aggregated roles in Kubernetes; k3j stores their rules directly (no aggregation).
 */
public final class BootstrapPolicy {
    private static final String MANAGER = "k3j-rbac-bootstrap";

    private static final List<String> READ = List.of("get", "list", "watch");
    private static final List<String> WRITE = List.of("create", "delete", "deletecollection", "patch", "update");
    private static final List<String> ALL_VERBS = List.of("create", "delete", "deletecollection", "get", "list", "patch",
            "update", "watch");

    private BootstrapPolicy() {
    }

    /**
     * Creates every default role and binding that does not exist yet.
     *
     * @throws ApiException if the store refuses a write for another reason than the object already existing
     */
    public static void ensure(ObjectStore objects, ResourceRegistry registry) {
        ResourceType roles = registry.find("rbac.authorization.k8s.io", "v1", "clusterroles").orElseThrow();
        ResourceType bindings = registry.find("rbac.authorization.k8s.io", "v1", "clusterrolebindings").orElseThrow();
        for (ObjectNode role : clusterRoles()) createIfMissing(objects, roles, role);
        for (ObjectNode binding : clusterRoleBindings()) createIfMissing(objects, bindings, binding);
    }

    private static void createIfMissing(ObjectStore objects, ResourceType type, ObjectNode obj) {
        if (objects.find(type, null, Json.text(obj.get("metadata"), "name")).isPresent()) return;
        try {
            objects.create(type, null, obj, WriteOptions.system(MANAGER));
        } catch (ApiException e) {
            if (e.code() != 409) throw e;
        }
    }

    static List<ObjectNode> clusterRoles() {
        List<String> discoveryUrls = List.of("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                "/openapi/*", "/readyz", "/version", "/version/");
        List<String> publicUrls = List.of("/healthz", "/livez", "/readyz", "/version", "/version/");
        List<ObjectNode> view = viewRules();
        List<ObjectNode> edit = new java.util.ArrayList<>(view);
        edit.addAll(editRules());
        List<ObjectNode> admin = new java.util.ArrayList<>(edit);
        admin.add(rule(ALL_VERBS, List.of("rbac.authorization.k8s.io"), List.of("rolebindings", "roles")));
        admin.add(rule(List.of("create"), List.of("authorization.k8s.io"), List.of("localsubjectaccessreviews")));
        return List.of(
                role("cluster-admin", List.of(rule(List.of("*"), List.of("*"), List.of("*")), urls(List.of("*"), List.of("*")))),
                role("system:discovery", List.of(urls(List.of("get"), discoveryUrls))),
                role("system:public-info-viewer", List.of(urls(List.of("get"), publicUrls))),
                role("system:basic-user", List.of(
                        rule(List.of("create"), List.of("authorization.k8s.io"), List.of("selfsubjectaccessreviews", "selfsubjectrulesreviews")),
                        rule(List.of("create"), List.of("authentication.k8s.io"), List.of("selfsubjectreviews")))),
                role("admin", admin),
                role("edit", edit),
                role("view", view),
                // the k3s supervisor paths a join token opens (served by the join endpoints when they land)
                role("system:k3j:agent-join", List.of(urls(List.of("get", "post"), List.of("/cacerts", "/ping",
                        "/v1-k3s/client-*", "/v1-k3s/serving-kubelet.crt", "/v1-k3s/config", "/v1-k3s/readyz",
                        "/v1-k3s/connect", "/v1-k3s/apiservers")))),
                role("system:node", nodeRules()),
                role("system:k3j:server-join", List.of(urls(List.of("get", "post"), List.of("/cacerts", "/ping", "/v1-k3s/*")))));
    }

    private static List<ObjectNode> viewRules() {
        List<String> core = List.of("configmaps", "endpoints", "events", "limitranges", "namespaces", "namespaces/status",
                "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "pods/log", "pods/status",
                "replicationcontrollers", "replicationcontrollers/scale", "replicationcontrollers/status",
                "resourcequotas", "resourcequotas/status", "serviceaccounts", "services", "services/status");
        return List.of(
                rule(READ, List.of(""), core),
                rule(READ, List.of("apps"), List.of("controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
                        "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status",
                        "statefulsets", "statefulsets/scale", "statefulsets/status")),
                rule(READ, List.of("autoscaling"), List.of("horizontalpodautoscalers", "horizontalpodautoscalers/status")),
                rule(READ, List.of("batch"), List.of("cronjobs", "cronjobs/status", "jobs", "jobs/status")),
                rule(READ, List.of("discovery.k8s.io"), List.of("endpointslices")),
                rule(READ, List.of("events.k8s.io"), List.of("events")),
                rule(READ, List.of("networking.k8s.io"), List.of("ingresses", "ingresses/status", "networkpolicies")),
                rule(READ, List.of("policy"), List.of("poddisruptionbudgets", "poddisruptionbudgets/status")),
                rule(READ, List.of("coordination.k8s.io"), List.of("leases")),
                // metrics-server's system:aggregated-metrics-reader, aggregated into view, edit and admin
                rule(READ, List.of("metrics.k8s.io"), List.of("nodes", "pods")));
    }

    /**
     * What a kubelet does (kube-apiserver's bootstrappolicy NodeRules); k3j binds it to the {@code system:nodes}
     * group since it has no Node authorizer yet, so a node can read every pod, secret and configmap, not only its own.
     */
    private static List<ObjectNode> nodeRules() {
        return List.of(
                rule(List.of("create", "delete", "get", "list", "patch", "update", "watch"), List.of(""), List.of("nodes")),
                rule(List.of("patch", "update"), List.of(""), List.of("nodes/status", "pods/status")),
                rule(List.of("create", "delete", "get", "list", "watch"), List.of(""), List.of("pods")),
                rule(List.of("create"), List.of(""), List.of("pods/eviction", "serviceaccounts/token")),
                rule(READ, List.of(""), List.of("configmaps", "secrets", "services", "endpoints")),
                rule(List.of("get"), List.of(""), List.of("persistentvolumeclaims", "persistentvolumes")),
                rule(List.of("get", "patch", "update"), List.of(""), List.of("persistentvolumeclaims/status")),
                rule(List.of("create", "patch", "update"), List.of("", "events.k8s.io"), List.of("events")),
                rule(List.of("create", "delete", "get", "list", "patch", "update", "watch"), List.of("coordination.k8s.io"),
                        List.of("leases")),
                rule(READ, List.of("discovery.k8s.io"), List.of("endpointslices")),
                // the agent's network policy enforcer (k3s runs kube-router with the node's credentials too)
                rule(READ, List.of(""), List.of("namespaces")),
                rule(READ, List.of("networking.k8s.io"), List.of("networkpolicies")),
                // the agent's ingress controller routes every Ingress of its class (issue 5)
                rule(READ, List.of("networking.k8s.io"), List.of("ingresses", "ingressclasses")),
                rule(READ, List.of("storage.k8s.io"), List.of("csidrivers", "csinodes", "volumeattachments")),
                rule(READ, List.of("node.k8s.io"), List.of("runtimeclasses")),
                rule(List.of("create", "get", "list", "watch"), List.of("certificates.k8s.io"), List.of("certificatesigningrequests")),
                rule(List.of("create"), List.of("authentication.k8s.io"), List.of("tokenreviews")),
                rule(List.of("create"), List.of("authorization.k8s.io"), List.of("subjectaccessreviews", "localsubjectaccessreviews")));
    }

    private static List<ObjectNode> editRules() {
        return List.of(
                rule(WRITE, List.of(""), List.of("configmaps", "endpoints", "persistentvolumeclaims", "pods",
                        "replicationcontrollers", "replicationcontrollers/scale", "secrets", "serviceaccounts", "services")),
                rule(READ, List.of(""), List.of("secrets")),
                rule(List.of("create"), List.of(""), List.of("pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
                        "serviceaccounts/token", "services/proxy")),
                rule(List.of("get"), List.of(""), List.of("pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
                        "services/proxy")),
                rule(List.of("impersonate"), List.of(""), List.of("serviceaccounts")),
                rule(List.of("create", "delete", "deletecollection", "patch", "update"), List.of(""), List.of("pods/eviction")),
                rule(WRITE, List.of("apps"), List.of("daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                        "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale")),
                rule(WRITE, List.of("autoscaling"), List.of("horizontalpodautoscalers")),
                rule(WRITE, List.of("batch"), List.of("cronjobs", "jobs")),
                rule(WRITE, List.of("networking.k8s.io"), List.of("ingresses", "networkpolicies")),
                rule(WRITE, List.of("policy"), List.of("poddisruptionbudgets")),
                rule(WRITE, List.of("coordination.k8s.io"), List.of("leases")));
    }

    static List<ObjectNode> clusterRoleBindings() {
        return List.of(
                binding("cluster-admin", "cluster-admin", List.of(UserInfo.SYSTEM_MASTERS)),
                binding("system:discovery", "system:discovery", List.of(UserInfo.ALL_AUTHENTICATED)),
                binding("system:basic-user", "system:basic-user", List.of(UserInfo.ALL_AUTHENTICATED)),
                binding("system:public-info-viewer", "system:public-info-viewer",
                        List.of(UserInfo.ALL_AUTHENTICATED, "system:unauthenticated")),
                binding("system:k3j:agent-join", "system:k3j:agent-join", List.of(JoinTokenAuthenticator.AGENTS_GROUP)),
                binding("system:node", "system:node", List.of("system:nodes")),
                binding("system:k3j:server-join", "system:k3j:server-join", List.of(JoinTokenAuthenticator.SERVERS_GROUP)));
    }

    private static ObjectNode rule(List<String> verbs, List<String> groups, List<String> resources) {
        ObjectNode r = Json.object();
        strings(r.putArray("apiGroups"), groups);
        strings(r.putArray("resources"), resources);
        strings(r.putArray("verbs"), verbs);
        return r;
    }

    private static ObjectNode urls(List<String> verbs, List<String> urls) {
        ObjectNode r = Json.object();
        strings(r.putArray("nonResourceURLs"), urls);
        strings(r.putArray("verbs"), verbs);
        return r;
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }

    private static ObjectNode metadata(ObjectNode obj, String name) {
        ObjectNode meta = obj.putObject("metadata");
        meta.put("name", name);
        meta.putObject("labels").put("kubernetes.io/bootstrapping", "rbac-defaults");
        meta.putObject("annotations").put("rbac.authorization.kubernetes.io/autoupdate", "true");
        return meta;
    }

    private static ObjectNode role(String name, List<ObjectNode> rules) {
        ObjectNode r = Json.object();
        r.put("apiVersion", "rbac.authorization.k8s.io/v1");
        r.put("kind", "ClusterRole");
        metadata(r, name);
        ArrayNode list = r.putArray("rules");
        rules.forEach(list::add);
        return r;
    }

    private static ObjectNode binding(String name, String role, List<String> groups) {
        ObjectNode b = Json.object();
        b.put("apiVersion", "rbac.authorization.k8s.io/v1");
        b.put("kind", "ClusterRoleBinding");
        metadata(b, name);
        ObjectNode ref = b.putObject("roleRef");
        ref.put("apiGroup", "rbac.authorization.k8s.io");
        ref.put("kind", "ClusterRole");
        ref.put("name", role);
        ArrayNode subjects = b.putArray("subjects");
        for (String g : groups) {
            subjects.addObject().put("apiGroup", "rbac.authorization.k8s.io").put("kind", "Group").put("name", g);
        }
        return b;
    }
}
