package io.k3j.controllers.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;

/** Index functions shared by controllers (client-go's cache.Indexers). */
public final class Indexers {
    /** Every informer has it: objects by namespace ("" for cluster-scoped). */
    public static final String NAMESPACE = "namespace";
    /** Objects by the uid of their controller owner reference. */
    public static final String CONTROLLER_UID = "controller-uid";
    /** Pods by spec.nodeName ("" while unscheduled). */
    public static final String NODE_NAME = "node-name";

    private Indexers() {
    }

    public static final Function<ObjectNode, Collection<String>> BY_CONTROLLER_UID = o -> {
        JsonNode ref = controllerRef(o);
        return ref == null ? List.of() : List.of(ref.path("uid").asText());
    };

    public static final Function<ObjectNode, Collection<String>> BY_NODE_NAME =
            o -> List.of(Json.text(o.get("spec"), "nodeName"));

    /** The owner reference with {@code controller: true}, or null. */
    public static JsonNode controllerRef(JsonNode obj) {
        JsonNode refs = obj.path("metadata").path("ownerReferences");
        for (JsonNode r : refs) {
            if (r.path("controller").asBoolean(false)) return r;
        }
        return null;
    }
}
