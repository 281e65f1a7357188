package io.k3j.controllers.common;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.runtime.Indexers;
import java.util.Map;

/** Owner references and selectors: who controls an object (kube's controller_ref_manager). */
public final class Owners {
    private Owners() {
    }

    /** The controller owner reference of {@code obj}, or null. */
    public static JsonNode controllerRef(JsonNode obj) {
        return Indexers.controllerRef(obj);
    }

    public static boolean controlledBy(JsonNode obj, JsonNode owner) {
        JsonNode ref = controllerRef(obj);
        return ref != null && ref.path("uid").asText().equals(Meta.uid(owner));
    }

    /** A controller owner reference to {@code owner} ({@code controller} and {@code blockOwnerDeletion} true). */
    public static ObjectNode reference(JsonNode owner, String apiVersion, String kind) {
        ObjectNode ref = Json.object();
        ref.put("apiVersion", apiVersion).put("kind", kind).put("name", Meta.name(owner)).put("uid", Meta.uid(owner))
                .put("controller", true).put("blockOwnerDeletion", true);
        return ref;
    }

    /** Sets {@code ref} as the only controller reference of {@code obj} (adoption). */
    public static void setController(ObjectNode obj, ObjectNode ref) {
        ObjectNode meta = Meta.metadata(obj);
        ArrayNode refs = meta.has("ownerReferences") && meta.get("ownerReferences").isArray()
                ? (ArrayNode) meta.get("ownerReferences") : meta.putArray("ownerReferences");
        for (int i = refs.size() - 1; i >= 0; i--) {
            if (refs.get(i).path("controller").asBoolean(false) || refs.get(i).path("uid").asText().equals(ref.path("uid").asText())) {
                refs.remove(i);
            }
        }
        refs.add(ref);
    }

    /** The metav1.LabelSelector of a workload's {@code spec.selector}; an absent selector selects nothing. */
    public static LabelSelector selector(JsonNode workload) {
        JsonNode sel = workload.path("spec").path("selector");
        if (sel.isMissingNode() || sel.isNull()) return LabelSelector.NOTHING;
        return LabelSelector.fromJson(sel);
    }

    /** The object's labels as a map. */
    public static Map<String, String> labels(JsonNode obj) {
        java.util.LinkedHashMap<String, String> out = new java.util.LinkedHashMap<>();
        com.fasterxml.jackson.databind.JsonNode labels = Meta.labels(obj);
        if (labels != null) labels.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }
}
