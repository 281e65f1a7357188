package io.k3j.apiserver.registry.core;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceType;

/** pods/binding: assigns a pending pod to a node and marks it scheduled (kube's BindingREST). */
public final class PodBinding {
    private PodBinding() {
    }

    /**
     * Sets {@code spec.nodeName} and the {@code PodScheduled=True} condition.
     *
     * @param uid when not empty, the pod must still have this uid (a recreated pod of the same name is not bound)
     * @throws ApiException 409 when the pod is being deleted, already assigned, or was replaced; 404 when gone
     */
    public static ObjectNode bind(ObjectStore objects, ResourceType pods, String namespace, String name, String uid, String node,
                                  WriteOptions opts) {
        return objects.updateWith(pods, namespace, name, "binding", opts, pod -> {
            if (uid != null && !uid.isEmpty() && !uid.equals(Meta.uid(pod))) {
                throw ApiException.conflict("", "pods/binding", name, "Precondition failed: UID in precondition: " + uid
                        + ", UID in object meta: " + Meta.uid(pod));
            }
            if (Meta.deleting(pod)) {
                throw ApiException.conflict("", "pods/binding", name, "pod " + name + " is being deleted, cannot be assigned to a host");
            }
            String current = Json.text(pod.get("spec"), "nodeName");
            if (!current.isEmpty()) {
                throw ApiException.conflict("", "pods/binding", name, "pod " + name + " is already assigned to node \"" + current + "\"");
            }
            Json.obj(pod, "spec").put("nodeName", node);
            ObjectNode status = Json.obj(pod, "status");
            ArrayNode conditions = status.has("conditions") && status.get("conditions").isArray()
                    ? (ArrayNode) status.get("conditions") : status.putArray("conditions");
            for (int i = conditions.size() - 1; i >= 0; i--) {
                if ("PodScheduled".equals(conditions.get(i).path("type").asText())) conditions.remove(i);
            }
            ObjectNode c = conditions.addObject();
            c.put("type", "PodScheduled");
            c.put("status", "True");
            c.putNull("lastProbeTime");
            c.put("lastTransitionTime", Meta.timestamp(objects.clock().instant()));
            return pod;
        });
    }
}
