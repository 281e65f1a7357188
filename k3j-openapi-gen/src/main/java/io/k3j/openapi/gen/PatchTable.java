package io.k3j.openapi.gen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * The patch metadata of the built-in types: the {@code patchStrategy}/{@code patchMergeKey} struct tags and
 * the {@code +listType}, {@code +listMapKey}, {@code +mapType}, {@code +structType} markers of the Kubernetes
 * API types (k8s.io/api, apimachinery meta/v1, apiextensions v1, as of 1.33), which Kubernetes publishes as
 * {@code x-kubernetes-*} extensions and which the client-java models don't carry.
 */
final class PatchTable {
    private static final String CORE = "io.k8s.api.core.v1.";
    private static final String META = Generate.META;
    private static final String APPS = "io.k8s.api.apps.v1.";
    private static final String BATCH = "io.k8s.api.batch.v1.";
    private static final String NET = "io.k8s.api.networking.v1.";
    private static final String RBAC = "io.k8s.api.rbac.v1.";
    private static final String DISC = "io.k8s.api.discovery.v1.";
    private static final String STORAGE = "io.k8s.api.storage.v1.";
    private static final String APIEXT = Generate.APIEXT;

    private final Map<String, ObjectNode> defs;

    private PatchTable(Map<String, ObjectNode> defs) {
        this.defs = defs;
    }

    static void apply(Map<String, ObjectNode> defs) {
        new PatchTable(defs).all();
    }

    private void all() {
        // meta/v1
        set(META + "ObjectMeta", "finalizers", "merge");
        map(META + "ObjectMeta", "ownerReferences", "merge", "uid", "uid");
        atomic(META + "ObjectMeta", "managedFields");
        structAtomic(META + "OwnerReference", META + "LabelSelector");
        atomic(META + "LabelSelector", "matchExpressions");
        atomic(META + "LabelSelectorRequirement", "values");
        atomic(META + "StatusDetails", "causes");
        atomic(META + "DeleteOptions", "dryRun");

        // core/v1: pods
        for (String podSpec : new String[] {CORE + "PodSpec"}) {
            map(podSpec, "volumes", "merge,retainKeys", "name", "name");
            map(podSpec, "initContainers", "merge", "name", "name");
            map(podSpec, "containers", "merge", "name", "name");
            map(podSpec, "ephemeralContainers", "merge", "name", "name");
            map(podSpec, "imagePullSecrets", "merge", "name", "name");
            map(podSpec, "hostAliases", "merge", "ip", "ip");
            map(podSpec, "topologySpreadConstraints", "merge", "topologyKey", "topologyKey", "whenUnsatisfiable");
            map(podSpec, "schedulingGates", "merge", "name", "name");
            map(podSpec, "resourceClaims", "merge,retainKeys", "name", "name");
            atomic(podSpec, "tolerations", "readinessGates");
            mapAtomic(podSpec, "nodeSelector");
        }
        for (String c : new String[] {CORE + "Container", CORE + "EphemeralContainer"}) {
            map(c, "ports", "merge", "containerPort", "containerPort", "protocol");
            map(c, "env", "merge", "name", "name");
            map(c, "volumeMounts", "merge", "mountPath", "mountPath");
            map(c, "volumeDevices", "merge", "devicePath", "devicePath");
            atomic(c, "command", "args", "envFrom", "resizePolicy");
        }
        map(CORE + "ResourceRequirements", "claims", null, null, "name");
        atomic(CORE + "PodSecurityContext", "supplementalGroups", "sysctls");
        atomic(CORE + "Capabilities", "add", "drop");
        atomic(CORE + "ExecAction", "command");
        atomic(CORE + "HTTPGetAction", "httpHeaders");
        atomic(CORE + "PodDNSConfig", "nameservers", "searches", "options");
        atomic(CORE + "HostAlias", "hostnames");
        map(CORE + "PodStatus", "conditions", "merge", "type", "type");
        map(CORE + "PodStatus", "podIPs", "merge", "ip", "ip");
        strategy(CORE + "PodStatus", "hostIPs", "merge", "ip");
        atomic(CORE + "PodStatus", "hostIPs", "initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses");
        map(CORE + "PodStatus", "resourceClaimStatuses", "merge,retainKeys", "name", "name");
        structAtomic(CORE + "NodeSelector", CORE + "NodeSelectorTerm", CORE + "TopologySelectorTerm",
                CORE + "LocalObjectReference", CORE + "ObjectReference", CORE + "TypedLocalObjectReference",
                CORE + "ConfigMapKeySelector", CORE + "SecretKeySelector", CORE + "ObjectFieldSelector",
                CORE + "ResourceFieldSelector", CORE + "SecretReference", CORE + "EndpointAddress");
        atomic(CORE + "NodeSelector", "nodeSelectorTerms");
        atomic(CORE + "NodeSelectorTerm", "matchExpressions", "matchFields");
        atomic(CORE + "NodeSelectorRequirement", "values");
        atomic(CORE + "NodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution");
        for (String a : new String[] {CORE + "PodAffinity", CORE + "PodAntiAffinity"}) {
            atomic(a, "requiredDuringSchedulingIgnoredDuringExecution", "preferredDuringSchedulingIgnoredDuringExecution");
        }
        atomic(CORE + "PodAffinityTerm", "namespaces", "matchLabelKeys", "mismatchLabelKeys");
        atomic(CORE + "TopologySpreadConstraint", "matchLabelKeys");
        atomic(CORE + "ConfigMapVolumeSource", "items");
        atomic(CORE + "SecretVolumeSource", "items");
        atomic(CORE + "DownwardAPIVolumeSource", "items");
        atomic(CORE + "ProjectedVolumeSource", "sources");
        atomic(CORE + "ConfigMapProjection", "items");
        atomic(CORE + "SecretProjection", "items");
        atomic(CORE + "DownwardAPIProjection", "items");
        atomic(CORE + "CephFSVolumeSource", "monitors");
        atomic(CORE + "RBDVolumeSource", "monitors");
        atomic(CORE + "ISCSIVolumeSource", "portals");
        atomic(CORE + "FCVolumeSource", "targetWWNs", "wwids");

        // core/v1: services, endpoints, service accounts
        map(CORE + "ServiceSpec", "ports", "merge", "port", "port", "protocol");
        // "+default" markers on list-map keys: kube-apiserver's OpenAPI has them, and server-side apply keys
        // {port: 80} as {port: 80, protocol: TCP} through them
        property(CORE + "ServicePort", "protocol").put("default", "TCP");
        property(CORE + "ContainerPort", "protocol").put("default", "TCP");
        mapAtomic(CORE + "ServiceSpec", "selector");
        atomic(CORE + "ServiceSpec", "clusterIPs", "externalIPs", "loadBalancerSourceRanges", "ipFamilies");
        map(CORE + "ServiceStatus", "conditions", "merge", "type", "type");
        atomic(CORE + "LoadBalancerStatus", "ingress");
        atomic(CORE + "LoadBalancerIngress", "ports");
        atomic(CORE + "Endpoints", "subsets");
        atomic(CORE + "EndpointSubset", "addresses", "notReadyAddresses", "ports");
        map(CORE + "ServiceAccount", "secrets", "merge", "name", "name");
        atomic(CORE + "ServiceAccount", "imagePullSecrets");

        // core/v1: nodes, namespaces, storage, quotas, controllers
        strategy(CORE + "NodeSpec", "podCIDRs", "merge", null);
        set(CORE + "NodeSpec", "podCIDRs", "merge");
        atomic(CORE + "NodeSpec", "taints");
        map(CORE + "NodeStatus", "conditions", "merge", "type", "type");
        strategy(CORE + "NodeStatus", "addresses", "merge", "type");
        atomic(CORE + "NodeStatus", "addresses", "images", "volumesInUse", "volumesAttached", "runtimeHandlers");
        atomic(CORE + "ContainerImage", "names");
        atomic(CORE + "NamespaceSpec", "finalizers");
        map(CORE + "NamespaceStatus", "conditions", "merge", "type", "type");
        atomic(CORE + "PersistentVolumeSpec", "accessModes", "mountOptions");
        atomic(CORE + "PersistentVolumeClaimSpec", "accessModes");
        atomic(CORE + "PersistentVolumeClaimStatus", "accessModes");
        map(CORE + "PersistentVolumeClaimStatus", "conditions", "merge", "type", "type");
        atomic(CORE + "LimitRangeSpec", "limits");
        atomic(CORE + "ResourceQuotaSpec", "scopes");
        atomic(CORE + "ScopeSelector", "matchExpressions");
        atomic(CORE + "ScopedResourceSelectorRequirement", "values");
        mapAtomic(CORE + "ReplicationControllerSpec", "selector");
        map(CORE + "ReplicationControllerStatus", "conditions", "merge", "type", "type");

        // apps/v1
        strategy(APPS + "DeploymentSpec", "strategy", "retainKeys", null);
        for (String s : new String[] {"DeploymentStatus", "ReplicaSetStatus", "StatefulSetStatus", "DaemonSetStatus"}) {
            map(APPS + s, "conditions", "merge", "type", "type");
        }
        atomic(APPS + "StatefulSetSpec", "volumeClaimTemplates");

        // batch/v1
        strategy(BATCH + "JobStatus", "conditions", "merge", "type");
        atomic(BATCH + "JobStatus", "conditions");
        atomic(BATCH + "CronJobStatus", "active");
        atomic(BATCH + "PodFailurePolicy", "rules");
        atomic(BATCH + "PodFailurePolicyRule", "onPodConditions");
        set(BATCH + "PodFailurePolicyOnExitCodesRequirement", "values", null);
        atomic(BATCH + "SuccessPolicy", "rules");

        // discovery, networking, rbac, storage
        atomic(DISC + "EndpointSlice", "endpoints", "ports");
        set(DISC + "Endpoint", "addresses", null);
        atomic(DISC + "EndpointHints", "forZones", "forNodes");
        atomic(NET + "IngressSpec", "tls", "rules");
        atomic(NET + "IngressTLS", "hosts");
        atomic(NET + "HTTPIngressRuleValue", "paths");
        atomic(NET + "IngressLoadBalancerStatus", "ingress");
        atomic(NET + "IngressLoadBalancerIngress", "ports");
        atomic(NET + "NetworkPolicySpec", "ingress", "egress", "policyTypes");
        atomic(NET + "NetworkPolicyIngressRule", "ports", "from");
        atomic(NET + "NetworkPolicyEgressRule", "ports", "to");
        atomic(RBAC + "Role", "rules");
        atomic(RBAC + "ClusterRole", "rules");
        atomic(RBAC + "PolicyRule", "verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs");
        atomic(RBAC + "RoleBinding", "subjects");
        atomic(RBAC + "ClusterRoleBinding", "subjects");
        atomic(RBAC + "AggregationRule", "clusterRoleSelectors");
        structAtomic(RBAC + "RoleRef");
        atomic(STORAGE + "StorageClass", "mountOptions", "allowedTopologies");
        atomic(CORE + "TopologySelectorTerm", "matchLabelExpressions");
        atomic(CORE + "TopologySelectorLabelRequirement", "values");

        // apiextensions.k8s.io/v1
        atomic(APIEXT + "CustomResourceDefinitionSpec", "versions");
        atomic(APIEXT + "CustomResourceDefinitionNames", "shortNames", "categories");
        map(APIEXT + "CustomResourceDefinitionStatus", "conditions", null, null, "type");
        atomic(APIEXT + "CustomResourceDefinitionStatus", "storedVersions");
        atomic(APIEXT + "CustomResourceDefinitionVersion", "additionalPrinterColumns");
        atomic(APIEXT + "WebhookConversion", "conversionReviewVersions");
        atomic(APIEXT + "JSONSchemaProps", "required", "allOf", "anyOf", "oneOf", "x-kubernetes-list-map-keys");
        map(APIEXT + "JSONSchemaProps", "x-kubernetes-validations", "merge", "rule", "rule");
    }

    private ObjectNode property(String def, String field) {
        ObjectNode d = defs.get(def);
        if (d == null) {
            System.out.println("[k3j-openapi-gen] patch table: no definition " + def);
            return new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        }
        JsonNode p = d.path("properties").get(field);
        if (!(p instanceof ObjectNode o)) {
            // A field newer than the models and not in Additions: say so, keep going.
            System.out.println("[k3j-openapi-gen] patch table: no field " + def + "." + field);
            return ((ObjectNode) d.get("properties")).objectNode();
        }
        return o;
    }

    private void strategy(String def, String field, String strategy, String mergeKey) {
        ObjectNode p = property(def, field);
        if (mergeKey != null) p.put("x-kubernetes-patch-merge-key", mergeKey);
        p.put("x-kubernetes-patch-strategy", strategy);
    }

    private void map(String def, String field, String strategy, String mergeKey, String... keys) {
        ObjectNode p = property(def, field);
        ArrayNode k = p.putArray("x-kubernetes-list-map-keys");
        for (String key : keys) k.add(key);
        p.put("x-kubernetes-list-type", "map");
        if (strategy != null) strategy(def, field, strategy, mergeKey);
    }

    private void set(String def, String field, String strategy) {
        property(def, field).put("x-kubernetes-list-type", "set");
        if (strategy != null) property(def, field).put("x-kubernetes-patch-strategy", strategy);
    }

    private void atomic(String def, String... fields) {
        for (String f : fields) property(def, f).put("x-kubernetes-list-type", "atomic");
    }

    private void mapAtomic(String def, String field) {
        property(def, field).put("x-kubernetes-map-type", "atomic");
    }

    private void structAtomic(String... names) {
        for (String n : names) {
            ObjectNode d = defs.get(n);
            if (d == null) {
                System.out.println("[k3j-openapi-gen] patch table: no definition " + n);
                continue;
            }
            d.put("x-kubernetes-map-type", "atomic");
        }
    }
}
