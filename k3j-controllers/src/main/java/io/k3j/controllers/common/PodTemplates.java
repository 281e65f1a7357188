package io.k3j.controllers.common;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;

/** Pods made from a workload's pod template (kube's controller.GetPodFromTemplate). */
public final class PodTemplates {
    private PodTemplates() {
    }

    /**
     * A new pod from {@code template} ({@code spec.template} of a workload): its labels, annotations and
     * finalizers, a copy of its spec, and a controller reference to the owner.
     *
     * @param generateName prefix for a server-generated name (e.g. {@code web-7d4b9c6f5-}), or null when
     *                     {@code name} is given
     */
    public static ObjectNode newPod(JsonNode template, ObjectNode ownerRef, String namespace, String name, String generateName) {
        ObjectNode pod = Json.object();
        pod.put("apiVersion", "v1").put("kind", "Pod");
        ObjectNode meta = pod.putObject("metadata");
        if (name != null) meta.put("name", name);
        else meta.put("generateName", generateName);
        meta.put("namespace", namespace);
        JsonNode tm = template.path("metadata");
        for (String f : new String[] {"labels", "annotations", "finalizers"}) {
            if (tm.has(f) && !tm.get(f).isNull()) meta.set(f, tm.get(f).deepCopy());
        }
        if (ownerRef != null) meta.putArray("ownerReferences").add(ownerRef);
        JsonNode spec = template.path("spec");
        pod.set("spec", spec.isObject() ? spec.deepCopy() : Json.object());
        return pod;
    }
}
