package io.k3j.controllers.common;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import java.time.Instant;
import java.time.OffsetDateTime;

/** Facts about pods that every workload controller asks (kube's podutil). */
public final class Pods {
    private Pods() {
    }

    public static String phase(JsonNode pod) {
        return Json.text(pod.get("status"), "phase");
    }

    /** Succeeded or Failed: its containers will not run again. */
    public static boolean terminal(JsonNode pod) {
        String p = phase(pod);
        return p.equals("Succeeded") || p.equals("Failed");
    }

    /** Not terminal and not being deleted (controller.IsPodActive). */
    public static boolean active(JsonNode pod) {
        return !terminal(pod) && !Meta.deleting(pod);
    }

    /** The pod's condition of {@code type}, or null. */
    public static JsonNode condition(JsonNode pod, String type) {
        for (JsonNode c : pod.path("status").path("conditions")) {
            if (c.path("type").asText().equals(type)) return c;
        }
        return null;
    }

    public static boolean ready(JsonNode pod) {
        JsonNode c = condition(pod, "Ready");
        return c != null && c.path("status").asText().equals("True");
    }

    /** Ready for at least {@code minReadySeconds} at {@code now} (podutil.IsPodAvailable). */
    public static boolean available(JsonNode pod, int minReadySeconds, Instant now) {
        if (!ready(pod)) return false;
        if (minReadySeconds == 0) return true;
        Instant since = time(condition(pod, "Ready").path("lastTransitionTime").asText(""));
        return since != null && !since.plusSeconds(minReadySeconds).isAfter(now);
    }

    /** When a pod that is ready becomes available, or null when it is not ready. */
    public static Instant availableAt(JsonNode pod, int minReadySeconds) {
        if (!ready(pod)) return null;
        Instant since = time(condition(pod, "Ready").path("lastTransitionTime").asText(""));
        return since == null ? Instant.EPOCH : since.plusSeconds(minReadySeconds);
    }

    public static Instant time(String rfc3339) {
        if (rfc3339 == null || rfc3339.isEmpty()) return null;
        try {
            return OffsetDateTime.parse(rfc3339).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    public static Instant created(JsonNode obj) {
        Instant t = time(obj.path("metadata").path("creationTimestamp").asText(""));
        return t == null ? Instant.EPOCH : t;
    }

    /** Sum of container restarts. */
    public static int restarts(JsonNode pod) {
        int n = 0;
        for (JsonNode cs : pod.path("status").path("containerStatuses")) n += cs.path("restartCount").asInt(0);
        return n;
    }

    public static ObjectNode copy(ObjectNode pod) {
        return pod.deepCopy();
    }
}
