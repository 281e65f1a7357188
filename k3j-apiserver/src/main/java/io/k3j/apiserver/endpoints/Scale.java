package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The autoscaling/v1 Scale view of workloads with a {@code scale} subresource. */
final class Scale {
    private Scale() {}

    static ObjectNode of(ResourceType type, ObjectNode obj) {
        ObjectNode scale = Json.object();
        scale.put("kind", "Scale");
        scale.put("apiVersion", "autoscaling/v1");
        ObjectNode meta = scale.putObject("metadata");
        ObjectNode src = Meta.metadata(obj);
        for (String f : new String[] {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
            if (src.has(f)) meta.set(f, src.get(f));
        }
        JsonNode replicas = Json.at(obj, "spec", "replicas");
        scale.putObject("spec").put("replicas", replicas == null ? 0 : replicas.asInt());
        ObjectNode status = scale.putObject("status");
        JsonNode current = Json.at(obj, "status", "replicas");
        status.put("replicas", current == null ? 0 : current.asInt());
        String selector = selector(type, obj);
        if (!selector.isEmpty()) status.put("selector", selector);
        return scale;
    }

    static void write(ResourceType type, ObjectNode obj, int replicas) {
        Json.obj(obj, "spec").put("replicas", replicas);
    }

    /** The selector in its string form ({@code app=web,tier in (a,b)}), as the Scale status carries it. */
    private static String selector(ResourceType type, ObjectNode obj) {
        JsonNode sel = Json.at(obj, "spec", "selector");
        if (sel == null || !sel.isObject()) return "";
        List<String> parts = new ArrayList<>();
        if (type.group().isEmpty()) {
            // ReplicationController: a plain map
            Map<String, String> m = new TreeMap<>();
            sel.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
            m.forEach((k, v) -> parts.add(k + "=" + v));
            return String.join(",", parts);
        }
        Map<String, String> labels = new TreeMap<>();
        JsonNode ml = sel.get("matchLabels");
        if (ml != null) ml.fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        labels.forEach((k, v) -> parts.add(k + "=" + v));
        JsonNode exprs = sel.get("matchExpressions");
        if (exprs != null) {
            for (JsonNode e : exprs) {
                String key = e.path("key").asText();
                List<String> values = new ArrayList<>();
                e.path("values").forEach(v -> values.add(v.asText()));
                values.sort(null);
                switch (e.path("operator").asText()) {
                    case "In" -> parts.add(key + " in (" + String.join(",", values) + ")");
                    case "NotIn" -> parts.add(key + " notin (" + String.join(",", values) + ")");
                    case "Exists" -> parts.add(key);
                    case "DoesNotExist" -> parts.add("!" + key);
                    default -> { }
                }
            }
        }
        return String.join(",", parts);
    }
}
