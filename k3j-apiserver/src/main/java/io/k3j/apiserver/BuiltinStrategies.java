package io.k3j.apiserver;

import io.k3j.apiserver.crd.serving.CustomResourceDefinitions;
import io.k3j.apiserver.registry.ResourceStrategy;
import io.k3j.apiserver.registry.Strategies;
import io.k3j.apiserver.registry.core.BuiltinStrategy;
import io.k3j.apiserver.registry.core.NamespaceStrategy;
import io.k3j.apiserver.registry.core.PodStrategy;
import io.k3j.apiserver.registry.core.ServiceStrategy;
import io.k3j.apiserver.registry.networking.IngressStrategy;
import java.util.Set;

/** The strategies of the built-in resources. */
final class BuiltinStrategies {
    private BuiltinStrategies() {}

    static Strategies create(ServiceStrategy services, PodStrategy pods, IngressStrategy ingresses, CustomResourceDefinitions crds) {
        ResourceStrategy plain = new BuiltinStrategy(Set.of());
        Set<String> eventFields = Set.of("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                "reportingComponent", "source", "type");
        return new Strategies()
                .register("", "Namespace", new NamespaceStrategy(plain))
                .register("", "Pod", pods)
                .register("", "Service", services)
                .register("", "Event", new BuiltinStrategy(eventFields))
                .register("", "Secret", new BuiltinStrategy(Set.of("type")))
                .register("", "Node", new BuiltinStrategy(Set.of("spec.unschedulable")) {
                    @Override
                    public void prepareForCreate(io.k3j.apiserver.resource.ResourceType type, com.fasterxml.jackson.databind.node.ObjectNode obj) {
                        // a kubelet registers its Node with its status
                    }
                })
                .register("", "ReplicationController", new BuiltinStrategy(Set.of("status.replicas")))
                .register("apps", "ReplicaSet", new BuiltinStrategy(Set.of("status.replicas")))
                .register("batch", "Job", new BuiltinStrategy(Set.of("status.successful")))
                .register("networking.k8s.io", "Ingress", ingresses)
                .register("apiextensions.k8s.io", "CustomResourceDefinition", crds.crdStrategy())
                .fallback(t -> t.custom() ? crds.strategy(t) : plain);
    }
}
