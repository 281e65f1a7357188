package io.k3j.openapi.gen;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * Fields and types that Kubernetes added between 1.27 and 1.33 to the kinds k3j serves: the 1.26 models the
 * generator reflects over lack them, and kubectl 1.33 sends them (a strict field validation must not reject
 * them). Descriptions here are short and our own.
 */
final class Additions {
    private static final String CORE = "io.k8s.api.core.v1.";
    private static final String REF = "#/definitions/";

    private final Map<String, ObjectNode> defs;
    private final ObjectMapper mapper;

    private Additions(Map<String, ObjectNode> defs, ObjectMapper mapper) {
        this.defs = defs;
        this.mapper = mapper;
    }

    static void apply(Map<String, ObjectNode> defs, ObjectMapper mapper) {
        new Additions(defs, mapper).all();
    }

    private void all() {
        type(CORE + "ContainerResizePolicy", "ContainerResizePolicy tells how a container is resized in place.",
                "resourceName", str("Name of the resource (cpu or memory) this policy applies to."),
                "restartPolicy", str("Restart policy when the resource is resized: NotRequired or RestartContainer."));
        type(CORE + "SleepAction", "SleepAction is a lifecycle handler that sleeps.",
                "seconds", "{\"type\":\"integer\",\"format\":\"int64\",\"description\":\"Seconds to sleep.\"}");
        type(CORE + "HostIP", "HostIP is one IP address of the host the pod runs on.", "ip", str("The IP address."));
        type(CORE + "AppArmorProfile", "AppArmorProfile selects the AppArmor profile of a pod or container.",
                "type", str("Kind of profile: Localhost, RuntimeDefault or Unconfined."),
                "localhostProfile", str("Profile loaded on the node, for type Localhost."));
        type(CORE + "ImageVolumeSource", "ImageVolumeSource mounts the content of an OCI image or artifact.",
                "reference", str("Image or artifact reference to pull."),
                "pullPolicy", str("Pull policy: Always, Never or IfNotPresent."));
        type(CORE + "PodResourceClaimStatus", "PodResourceClaimStatus names the ResourceClaim generated for a pod resource claim.",
                "name", str("Name of the pod resource claim."),
                "resourceClaimName", str("Name of the generated ResourceClaim."));
        type(CORE + "NodeRuntimeHandler", "NodeRuntimeHandler is a runtime handler the node offers.",
                "name", str("Runtime handler name; empty for the default one."),
                "features", ref(CORE + "NodeRuntimeHandlerFeatures", "Features the handler supports."));
        type(CORE + "NodeRuntimeHandlerFeatures", "NodeRuntimeHandlerFeatures lists what a runtime handler supports.",
                "recursiveReadOnlyMounts", bool("Whether recursive read-only mounts are supported."),
                "userNamespaces", bool("Whether user namespaces are supported."));
        type(CORE + "NodeFeatures", "NodeFeatures lists features the node supports.",
                "supplementalGroupsPolicy", bool("Whether SupplementalGroupsPolicy is supported."));
        type(CORE + "ModifyVolumeStatus", "ModifyVolumeStatus reports a volume modification in progress.",
                "targetVolumeAttributesClassName", str("VolumeAttributesClass being applied."),
                "status", str("Progress of the modification."));
        type(CORE + "ResourceHealth", "ResourceHealth reports the health of one device.",
                "resourceID", str("Identifier of the device."), "health", str("Healthy, Unhealthy or Unknown."));
        type(CORE + "ResourceStatus", "ResourceStatus reports the health of the devices behind one resource.",
                "name", str("Name of the resource."),
                "resources", "{\"type\":\"array\",\"items\":{\"$ref\":\"" + REF + CORE + "ResourceHealth\"},\"x-kubernetes-list-type\":\"map\",\"x-kubernetes-list-map-keys\":[\"resourceID\"]}");
        type(CORE + "ContainerUser", "ContainerUser reports the identity of the container's first process.",
                "linux", ref(CORE + "LinuxContainerUser", "Linux identity."));
        type(CORE + "LinuxContainerUser", "LinuxContainerUser is the Linux identity of a process.",
                "uid", "{\"type\":\"integer\",\"format\":\"int64\"}", "gid", "{\"type\":\"integer\",\"format\":\"int64\"}",
                "supplementalGroups", "{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"format\":\"int64\"},\"x-kubernetes-list-type\":\"atomic\"}");
        type(CORE + "VolumeMountStatus", "VolumeMountStatus reports how a volume is mounted.",
                "name", str("Name of the volume."), "mountPath", str("Mount path."),
                "readOnly", bool("Read-only mount."), "recursiveReadOnly", str("Recursive read-only state."));

        type(CORE + "PodSchedulingGate", "PodSchedulingGate is a gate that holds a pod back from scheduling.",
                "name", str("Name of the gate."));
        type(CORE + "ClaimSource", "ClaimSource names the ResourceClaim (or the template of one) a pod uses.",
                "resourceClaimName", str("Name of an existing ResourceClaim."),
                "resourceClaimTemplateName", str("Name of a ResourceClaimTemplate."));
        type(CORE + "PodResourceClaim", "PodResourceClaim references one ResourceClaim the pod uses.",
                "name", str("Name of this claim inside the pod."),
                "source", ref(CORE + "ClaimSource", "Where the claim comes from (before 1.31)."),
                "resourceClaimName", str("Name of an existing ResourceClaim."),
                "resourceClaimTemplateName", str("Name of a ResourceClaimTemplate."));
        type(CORE + "ResourceClaim", "ResourceClaim names one claim of the pod that a container uses.",
                "name", str("Name of a pod resource claim."), "request", str("Request of the claim to use."));
        prop(CORE + "PodSpec", "schedulingGates", arrayOf(CORE + "PodSchedulingGate", "Gates that hold the pod back from scheduling."));
        prop(CORE + "PodSpec", "resourceClaims", arrayOf(CORE + "PodResourceClaim", "ResourceClaims the pod's containers may use."));
        prop(CORE + "ResourceRequirements", "claims", arrayOf(CORE + "ResourceClaim", "Pod resource claims this container uses."));
        prop(CORE + "Container", "resizePolicy", arrayOf(CORE + "ContainerResizePolicy", "Resize policies of the container's resources."));
        prop(CORE + "Container", "restartPolicy", str("Restart policy of an init container; Always makes it a sidecar."));
        prop(CORE + "EphemeralContainer", "resizePolicy", arrayOf(CORE + "ContainerResizePolicy", "Not allowed for ephemeral containers."));
        prop(CORE + "EphemeralContainer", "restartPolicy", str("Not allowed for ephemeral containers."));
        prop(CORE + "Lifecycle", "stopSignal", str("Signal sent to stop the container."));
        for (String h : new String[] {"LifecycleHandler"}) prop(CORE + h, "sleep", ref(CORE + "SleepAction", "Sleep before the container stops or after it starts."));
        prop(CORE + "PodSpec", "resources", ref(CORE + "ResourceRequirements", "Pod-level resource requirements."));
        prop(CORE + "PodSecurityContext", "appArmorProfile", ref(CORE + "AppArmorProfile", "AppArmor profile of the pod's containers."));
        prop(CORE + "PodSecurityContext", "supplementalGroupsPolicy", str("How supplemental groups of the first process are computed."));
        prop(CORE + "PodSecurityContext", "seLinuxChangePolicy", str("How the SELinux label is applied to the pod's volumes."));
        prop(CORE + "SecurityContext", "appArmorProfile", ref(CORE + "AppArmorProfile", "AppArmor profile of the container."));
        prop(CORE + "Volume", "image", ref(CORE + "ImageVolumeSource", "An OCI image or artifact mounted as a volume."));
        prop(CORE + "VolumeMount", "recursiveReadOnly", str("Whether a read-only mount is read-only recursively."));
        prop(CORE + "PodAffinityTerm", "matchLabelKeys", strings("Label keys whose values from the incoming pod are added to the selector."));
        prop(CORE + "PodAffinityTerm", "mismatchLabelKeys", strings("Label keys whose values from the incoming pod are excluded by the selector."));
        prop(CORE + "PodStatus", "hostIPs", arrayOf(CORE + "HostIP", "IP addresses of the host the pod runs on."));
        prop(CORE + "PodStatus", "resize", str("Status of a requested in-place resize."));
        prop(CORE + "PodStatus", "resourceClaimStatuses", arrayOf(CORE + "PodResourceClaimStatus", "ResourceClaims generated for the pod."));
        prop(CORE + "PodStatus", "observedGeneration", "{\"type\":\"integer\",\"format\":\"int64\",\"description\":\"Generation of the pod the status was computed for.\"}");
        prop(CORE + "PodCondition", "observedGeneration", "{\"type\":\"integer\",\"format\":\"int64\"}");
        prop(CORE + "ContainerStatus", "allocatedResources", quantities("Resources allocated to the container."));
        prop(CORE + "ContainerStatus", "resources", ref(CORE + "ResourceRequirements", "Resources the container runs with."));
        prop(CORE + "ContainerStatus", "volumeMounts", arrayOf(CORE + "VolumeMountStatus", "How volumes are mounted."));
        prop(CORE + "ContainerStatus", "user", ref(CORE + "ContainerUser", "Identity of the container's first process."));
        prop(CORE + "ContainerStatus", "allocatedResourcesStatus", arrayOf(CORE + "ResourceStatus", "Health of allocated devices."));
        prop(CORE + "ContainerStatus", "stopSignal", str("Signal that will stop the container."));
        prop(CORE + "ServiceSpec", "trafficDistribution", str("Preference for how traffic is distributed to endpoints."));
        prop(CORE + "LoadBalancerIngress", "ipMode", str("How the load balancer IP behaves: VIP or Proxy."));
        prop(CORE + "PersistentVolumeClaimSpec", "volumeAttributesClassName", str("VolumeAttributesClass used by this claim."));
        prop(CORE + "PersistentVolumeClaimStatus", "allocatedResourceStatuses", "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"},\"x-kubernetes-map-type\":\"granular\"}");
        prop(CORE + "PersistentVolumeClaimStatus", "currentVolumeAttributesClassName", str("VolumeAttributesClass currently applied."));
        prop(CORE + "PersistentVolumeClaimStatus", "modifyVolumeStatus", ref(CORE + "ModifyVolumeStatus", "A volume modification in progress."));
        prop(CORE + "PersistentVolumeSpec", "volumeAttributesClassName", str("VolumeAttributesClass of this volume."));
        prop(CORE + "PersistentVolumeStatus", "lastPhaseTransitionTime", "{\"$ref\":\"" + REF + Generate.META + "Time\"}");
        prop(CORE + "NodeStatus", "runtimeHandlers", arrayOf(CORE + "NodeRuntimeHandler", "Runtime handlers the node offers."));
        prop(CORE + "NodeStatus", "features", ref(CORE + "NodeFeatures", "Features the node supports."));
        prop(CORE + "NodeSystemInfo", "swap", "{\"type\":\"object\",\"properties\":{\"capacity\":{\"type\":\"integer\",\"format\":\"int64\"}}}");

        String apps = "io.k8s.api.apps.v1.";
        for (String s : new String[] {"DeploymentStatus", "ReplicaSetStatus"}) {
            prop(apps + s, "terminatingReplicas", "{\"type\":\"integer\",\"format\":\"int32\",\"description\":\"Number of terminating pods.\"}");
        }

        type(apps + "StatefulSetOrdinals", "StatefulSetOrdinals sets the number of the first replica.",
                "start", "{\"type\":\"integer\",\"format\":\"int32\",\"description\":\"Number of the first replica.\"}");
        prop(apps + "StatefulSetSpec", "ordinals", ref(apps + "StatefulSetOrdinals", "Numbering of the replicas."));

        type(CORE + "ClusterTrustBundleProjection", "ClusterTrustBundleProjection projects ClusterTrustBundle objects into a file.",
                "name", str("Name of one ClusterTrustBundle; excludes signerName and labelSelector."),
                "signerName", str("Select the bundles of this signer."),
                "labelSelector", ref(Generate.META + "LabelSelector", "Select the bundles of the signer with these labels."),
                "optional", bool("Whether a missing bundle is acceptable."),
                "path", str("Path of the file in the volume."));
        prop(CORE + "VolumeProjection", "clusterTrustBundle", ref(CORE + "ClusterTrustBundleProjection", "ClusterTrustBundle objects as a file."));

        prop(Generate.META + "DeleteOptions", "ignoreStoreReadErrorWithClusterBreakingPotential",
                bool("Delete an object whose stored data can't be read (unsafe)."));

        String batch = "io.k8s.api.batch.v1.";
        type(batch + "SuccessPolicy", "SuccessPolicy declares when an indexed job succeeds early.",
                "rules", arrayOf(batch + "SuccessPolicyRule", "Rules; the job succeeds when any is met."));
        type(batch + "SuccessPolicyRule", "SuccessPolicyRule is one success criterion.",
                "succeededIndexes", str("Indexes that must succeed."),
                "succeededCount", "{\"type\":\"integer\",\"format\":\"int32\"}");
        prop(batch + "JobSpec", "podReplacementPolicy", str("When replacement pods are created: TerminatingOrFailed or Failed."));
        prop(batch + "JobSpec", "backoffLimitPerIndex", "{\"type\":\"integer\",\"format\":\"int32\"}");
        prop(batch + "JobSpec", "maxFailedIndexes", "{\"type\":\"integer\",\"format\":\"int32\"}");
        prop(batch + "JobSpec", "successPolicy", ref(batch + "SuccessPolicy", "When the job is declared succeeded."));
        prop(batch + "JobSpec", "managedBy", str("Controller that manages the job."));
        prop(batch + "JobStatus", "terminating", "{\"type\":\"integer\",\"format\":\"int32\"}");
        prop(batch + "JobStatus", "failedIndexes", str("Indexes that failed."));

        String disc = "io.k8s.api.discovery.v1.";
        type(disc + "ForNode", "ForNode names a node an endpoint should serve.", "name", str("Node name."));
        prop(disc + "EndpointHints", "forNodes", arrayOf(disc + "ForNode", "Nodes this endpoint should serve."));

        String net = "io.k8s.api.networking.v1.";
        type(net + "IngressPortStatus", "IngressPortStatus is the status of one port of an ingress load balancer.",
                "port", "{\"type\":\"integer\",\"format\":\"int32\"}", "protocol", str("TCP, UDP or SCTP."),
                "error", str("Problem with the port, if any."));
        type(net + "IngressLoadBalancerIngress", "IngressLoadBalancerIngress is one ingress point of the load balancer.",
                "ip", str("IP address."), "hostname", str("DNS name."),
                "ports", arrayOf(net + "IngressPortStatus", "Status of the ports."));
        type(net + "IngressLoadBalancerStatus", "IngressLoadBalancerStatus is the status of the load balancer.",
                "ingress", arrayOf(net + "IngressLoadBalancerIngress", "Ingress points of the load balancer."));
        // Since 1.26 an Ingress reports its own load balancer type rather than the Service's.
        ((ObjectNode) defs.get(net + "IngressStatus").get("properties")).set("loadBalancer",
                parse(ref(net + "IngressLoadBalancerStatus", "Current state of the load balancer.")));

        String lease = "io.k8s.api.coordination.v1.";
        prop(lease + "LeaseSpec", "preferredHolder", str("Holder that should take the lease next."));
        prop(lease + "LeaseSpec", "strategy", str("Strategy of coordinated leader election."));

        String authz = "io.k8s.api.authorization.v1.";
        if (defs.containsKey(authz + "ResourceAttributes")) {
            type(Generate.META + "FieldSelectorRequirement", "FieldSelectorRequirement is a field selector requirement.",
                    "key", str("Field the requirement applies to."), "operator", str("In, NotIn, Exists or DoesNotExist."),
                    "values", strings("Values for In and NotIn."));
            type(authz + "LabelSelectorAttributes", "LabelSelectorAttributes is the label selector of an authorization check.",
                    "rawSelector", str("The selector as written in the request."),
                    "requirements", "{\"type\":\"array\",\"items\":{\"$ref\":\"" + REF + Generate.META + "LabelSelectorRequirement\"},\"x-kubernetes-list-type\":\"atomic\"}");
            type(authz + "FieldSelectorAttributes", "FieldSelectorAttributes is the field selector of an authorization check.",
                    "rawSelector", str("The selector as written in the request."),
                    "requirements", "{\"type\":\"array\",\"items\":{\"$ref\":\"" + REF + Generate.META + "FieldSelectorRequirement\"},\"x-kubernetes-list-type\":\"atomic\"}");
            prop(authz + "ResourceAttributes", "fieldSelector", ref(authz + "FieldSelectorAttributes", "Field selector of the request."));
            prop(authz + "ResourceAttributes", "labelSelector", ref(authz + "LabelSelectorAttributes", "Label selector of the request."));
        }

        String apiext = Generate.APIEXT;
        type(apiext + "SelectableField", "SelectableField is a field usable as a field selector.",
                "jsonPath", str("JSON path of the field."));
        prop(apiext + "CustomResourceDefinitionVersion", "selectableFields",
                "{\"type\":\"array\",\"items\":{\"$ref\":\"" + REF + apiext + "SelectableField\"},\"x-kubernetes-list-type\":\"atomic\"}");
        prop(apiext + "ValidationRule", "fieldPath", str("Field path reported when the rule fails."));
        prop(apiext + "ValidationRule", "messageExpression", str("CEL expression whose result is the failure message."));
        prop(apiext + "ValidationRule", "reason", str("Reason reported when the rule fails."));
        prop(apiext + "ValidationRule", "optionalOldSelf", bool("Evaluate the rule on creates too, with oldSelf optional."));
    }

    private static String str(String description) {
        return "{\"type\":\"string\",\"description\":" + quote(description) + "}";
    }

    private static String bool(String description) {
        return "{\"type\":\"boolean\",\"description\":" + quote(description) + "}";
    }

    private static String strings(String description) {
        return "{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":" + quote(description) + "}";
    }

    private static String ref(String def, String description) {
        return "{\"$ref\":\"" + REF + def + "\",\"description\":" + quote(description) + "}";
    }

    private static String arrayOf(String def, String description) {
        return "{\"type\":\"array\",\"items\":{\"$ref\":\"" + REF + def + "\"},\"description\":" + quote(description) + "}";
    }

    private static String quantities(String description) {
        return "{\"type\":\"object\",\"additionalProperties\":{\"$ref\":\"" + REF + "io.k8s.apimachinery.pkg.api.resource.Quantity\"},\"description\":" + quote(description) + "}";
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Adds a type unless the models already had it. */
    private void type(String name, String description, String... fieldsAndSchemas) {
        if (defs.containsKey(name)) return;
        ObjectNode def = mapper.createObjectNode().put("description", description).put("type", "object");
        def.putObject("properties");
        defs.put(name, def);
        for (int i = 0; i < fieldsAndSchemas.length; i += 2) prop(name, fieldsAndSchemas[i], fieldsAndSchemas[i + 1]);
    }

    /** Adds a field unless the models already had it. */
    private void prop(String def, String field, String schemaJson) {
        ObjectNode d = defs.get(def);
        if (d == null) throw new IllegalStateException("additions name unknown definition " + def);
        ObjectNode props = (ObjectNode) d.get("properties");
        if (props.has(field)) return;
        props.set(field, parse(schemaJson));
    }

    private ObjectNode parse(String json) {
        try {
            return (ObjectNode) mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("bad schema " + json, e);
        }
    }
}
