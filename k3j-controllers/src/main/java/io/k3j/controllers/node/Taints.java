package io.k3j.controllers.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.List;

/** Taints and tolerations as kube's v1 helpers treat them. */
final class Taints {
    static final String NOT_READY = "node.kubernetes.io/not-ready";
    static final String UNREACHABLE = "node.kubernetes.io/unreachable";
    static final String UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
    static final String MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
    static final String DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
    static final String PID_PRESSURE = "node.kubernetes.io/pid-pressure";
    static final String NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";
    static final String OUT_OF_SERVICE = "node.kubernetes.io/out-of-service";
    static final String NO_EXECUTE = "NoExecute";
    static final String NO_SCHEDULE = "NoSchedule";

    private Taints() {
    }

    /** The node's taints with {@code effect}. */
    static List<JsonNode> withEffect(JsonNode node, String effect) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode t : node.path("spec").path("taints")) if (effect.equals(Json.text(t, "effect"))) out.add(t);
        return out;
    }

    static boolean has(JsonNode node, String key, String effect) {
        for (JsonNode t : node.path("spec").path("taints")) {
            if (key.equals(Json.text(t, "key")) && effect.equals(Json.text(t, "effect"))) return true;
        }
        return false;
    }

    static ObjectNode taint(String key, String effect, String timeAdded) {
        ObjectNode t = Json.object();
        t.put("key", key).put("effect", effect);
        if (timeAdded != null) t.put("timeAdded", timeAdded);
        return t;
    }

    /** The node's taints as a (new) array node, creating {@code spec.taints} when absent. */
    static ArrayNode array(ObjectNode node) {
        ObjectNode spec = Json.obj(node, "spec");
        JsonNode t = spec.get("taints");
        return t != null && t.isArray() ? (ArrayNode) t : spec.putArray("taints");
    }

    /** v1.Toleration.ToleratesTaint. */
    static boolean tolerates(JsonNode toleration, JsonNode taint) {
        String effect = Json.text(toleration, "effect");
        if (!effect.isEmpty() && !effect.equals(Json.text(taint, "effect"))) return false;
        String key = Json.text(toleration, "key");
        if (!key.isEmpty() && !key.equals(Json.text(taint, "key"))) return false;
        String op = Json.text(toleration, "operator");
        return switch (op) {
            case "Exists" -> true;
            case "", "Equal" -> Json.text(toleration, "value").equals(Json.text(taint, "value"));
            default -> false;
        };
    }

    /**
     * For each taint the first toleration that tolerates it (v1helper.GetMatchingTolerations); null when some
     * taint is not tolerated.
     */
    static List<JsonNode> matchingTolerations(List<JsonNode> taints, JsonNode tolerations) {
        List<JsonNode> used = new ArrayList<>();
        for (JsonNode taint : taints) {
            JsonNode found = null;
            for (JsonNode tol : tolerations) {
                if (tolerates(tol, taint)) {
                    found = tol;
                    break;
                }
            }
            if (found == null) return null;
            used.add(found);
        }
        return used;
    }

    /**
     * The shortest tolerationSeconds among {@code used} (taint manager's getMinTolerationTime): 0 for none used
     * or a non-positive one, -1 when none has a limit (tolerated forever).
     */
    static long minTolerationSeconds(List<JsonNode> used) {
        if (used.isEmpty()) return 0;
        long min = Long.MAX_VALUE;
        for (JsonNode t : used) {
            JsonNode s = t.get("tolerationSeconds");
            if (s == null || s.isNull()) continue;
            if (s.asLong() <= 0) return 0;
            min = Math.min(min, s.asLong());
        }
        return min == Long.MAX_VALUE ? -1 : min;
    }
}
