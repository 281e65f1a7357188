package io.k3j.controllers.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.common.Pods;
import java.time.Instant;

/** Facts about Job status shared by the Job, CronJob and TTL controllers (kube's pkg/controller/job/util). */
final class JobStatuses {
    static final String COMPLETE = "Complete";
    static final String FAILED = "Failed";

    private JobStatuses() {
    }

    /** The condition of {@code type} in a Job's status, or null. */
    static JsonNode condition(JsonNode job, String type) {
        for (JsonNode c : job.path("status").path("conditions")) {
            if (c.path("type").asText().equals(type)) return c;
        }
        return null;
    }

    static boolean isTrue(JsonNode job, String type) {
        JsonNode c = condition(job, type);
        return c != null && c.path("status").asText().equals("True");
    }

    /** Complete or Failed with status True (IsJobFinished). */
    static boolean finished(JsonNode job) {
        return isTrue(job, COMPLETE) || isTrue(job, FAILED);
    }

    /** "Complete" or "Failed" for a finished Job, else null. */
    static String finishedType(JsonNode job) {
        if (isTrue(job, COMPLETE)) return COMPLETE;
        if (isTrue(job, FAILED)) return FAILED;
        return null;
    }

    /** When the Job finished: completionTime, else the finishing condition's lastTransitionTime; null if unfinished. */
    static Instant finishedAt(JsonNode job) {
        String type = finishedType(job);
        if (type == null) return null;
        Instant t = Pods.time(job.path("status").path("completionTime").asText(""));
        if (t != null && type.equals(COMPLETE)) return t;
        return Pods.time(condition(job, type).path("lastTransitionTime").asText(""));
    }

    /**
     * Sets a condition as kube's ensureJobConditionStatus does: a new condition is added unless its status is
     * False; an existing one changes (and its transition time) only when status, reason or message differ.
     *
     * @return whether the status changed
     */
    static boolean ensureCondition(ObjectNode status, String type, String value, String reason, String message, Instant now) {
        ArrayNode conds = status.has("conditions") && status.get("conditions").isArray()
                ? (ArrayNode) status.get("conditions") : null;
        String ts = Meta.timestamp(now);
        if (conds != null) {
            for (JsonNode c : conds) {
                if (!c.path("type").asText().equals(type)) continue;
                ObjectNode o = (ObjectNode) c;
                if (o.path("status").asText().equals(value) && o.path("reason").asText("").equals(reason)
                        && o.path("message").asText("").equals(message)) {
                    return false;
                }
                if (!o.path("status").asText().equals(value)) o.put("lastTransitionTime", ts);
                o.put("status", value).put("reason", reason).put("message", message).put("lastProbeTime", ts);
                return true;
            }
        }
        if (value.equals("False")) return false;
        if (conds == null) conds = status.putArray("conditions");
        conds.addObject().put("type", type).put("status", value).put("lastProbeTime", ts).put("lastTransitionTime", ts)
                .put("reason", reason).put("message", message);
        return true;
    }

    static int intOr(JsonNode n, String field, int dflt) {
        JsonNode v = n.get(field);
        return v != null && v.isNumber() ? v.asInt() : dflt;
    }

    static Integer intOrNull(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v != null && v.isNumber() ? v.asInt() : null;
    }

    static ObjectNode statusCopy(JsonNode job) {
        JsonNode s = job.get("status");
        return s instanceof ObjectNode o ? o.deepCopy() : Json.object();
    }
}
