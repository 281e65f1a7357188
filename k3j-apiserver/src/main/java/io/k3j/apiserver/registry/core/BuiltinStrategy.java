package io.k3j.apiserver.registry.core;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException.Cause;
import io.k3j.apiserver.defaults.Admission;
import io.k3j.apiserver.defaults.Defaulters;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ResourceStrategy;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.validation.Validation;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The strategy of a built-in resource: Kubernetes' defaulting, create-time admission mutations and
 * validation for its kind, plus the fields it can be selected by.
 */
public class BuiltinStrategy implements ResourceStrategy {
    /**
     * Status counters declared without {@code omitempty} in the Go types: kube-apiserver returns them as 0 on an
     * object no controller has touched yet.
     */
    private static final Map<String, List<String>> ZERO_STATUS_FIELDS = Map.of(
            "/ReplicationController", List.of("replicas"),
            "apps/ReplicaSet", List.of("replicas"),
            "apps/StatefulSet", List.of("replicas", "availableReplicas"),
            "apps/DaemonSet", List.of("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"),
            "policy/PodDisruptionBudget", List.of("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"));

    private final Set<String> selectableFields;

    public BuiltinStrategy(Set<String> selectableFields) {
        this.selectableFields = Set.copyOf(selectableFields);
    }

    /**
     * Clears the status a client sent, leaving what Go serializes for an empty status struct ({@code status: {}},
     * plus zero counters): a Deployment fresh from kube-apiserver shows {@code status: {}}, not no status.
     */
    @Override
    public void prepareForCreate(ResourceType type, ObjectNode obj) {
        ResourceStrategy.super.prepareForCreate(type, obj);
        if (type.has("status")) {
            ObjectNode status = obj.putObject("status");
            for (String field : ZERO_STATUS_FIELDS.getOrDefault(type.group() + "/" + type.kind(), List.of())) status.put(field, 0);
        }
    }

    @Override
    public void defaults(ResourceType type, ObjectNode obj) {
        Defaulters.apply(type.group(), type.version(), type.kind(), obj);
    }

    @Override
    public void admit(ResourceType type, ObjectNode obj) {
        Admission.mutate(type.group(), type.kind(), obj, Meta.uid(obj));
    }

    @Override
    public List<Cause> validateCreate(ResourceType type, ObjectNode obj) {
        return Validation.validateCreate(type.group(), type.kind(), obj);
    }

    @Override
    public List<Cause> validateUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        return Validation.validateUpdate(type.group(), type.kind(), obj, old);
    }

    /**
     * Pods, nodes, namespaces, services and volumes keep metadata changes made through {@code /status} (their
     * status strategies only reset the spec); apps and batch workloads don't.
     */
    @Override
    public Set<String> statusUpdateMetadata(ResourceType type) {
        return type.group().isEmpty() ? METADATA_VIA_STATUS : Set.of();
    }

    private static final Set<String> METADATA_VIA_STATUS = Set.of("labels", "annotations", "finalizers", "ownerReferences");

    @Override
    public Set<String> selectableFields() {
        return selectableFields;
    }
}
