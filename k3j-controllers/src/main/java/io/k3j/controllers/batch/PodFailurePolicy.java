package io.k3j.controllers.batch;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.apiserver.registry.Meta;

/**
 * A Job's {@code spec.podFailurePolicy} applied to one failed pod (kube's matchPodFailurePolicy): the first
 * rule whose {@code onExitCodes} (a non-zero exit code of a terminated container, In or NotIn the values) or
 * {@code onPodConditions} (a pod condition of that type and status) matches decides what the failure means.
 */
final class PodFailurePolicy {
    enum Action { FAIL_JOB, IGNORE, COUNT }

    /** The verdict: the action, and for FailJob the message the Job's condition carries. */
    record Verdict(Action action, String message) {}

    private PodFailurePolicy() {
    }

    /** What the policy makes of a failed pod; Count when no rule matches or there is no policy. */
    static Verdict evaluate(JsonNode job, JsonNode pod) {
        JsonNode rules = job.path("spec").path("podFailurePolicy").path("rules");
        int index = 0;
        for (JsonNode rule : rules) {
            String action = rule.path("action").asText();
            String message = null;
            boolean matched = false;
            if (rule.hasNonNull("onExitCodes")) {
                JsonNode cs = matchExitCodes(pod, rule.get("onExitCodes"));
                if (cs != null) {
                    matched = true;
                    message = "Container " + cs.path("name").asText() + " for pod " + Meta.namespace(pod) + "/" + Meta.name(pod)
                            + " failed with exit code " + cs.path("state").path("terminated").path("exitCode").asInt()
                            + " matching " + action + " rule at index " + index;
                }
            } else if (rule.hasNonNull("onPodConditions")) {
                String type = matchConditions(pod, rule.get("onPodConditions"));
                if (type != null) {
                    matched = true;
                    message = "Pod " + Meta.namespace(pod) + "/" + Meta.name(pod) + " has condition " + type + " matching " + action
                            + " rule at index " + index;
                }
            }
            if (matched) {
                switch (action) {
                    case "FailJob":
                        return new Verdict(Action.FAIL_JOB, message);
                    case "Ignore":
                        return new Verdict(Action.IGNORE, null);
                    case "Count":
                        return new Verdict(Action.COUNT, null);
                    default:
                        break; // FailIndex (backoffLimitPerIndex) is not supported: fall through to later rules
                }
            }
            index++;
        }
        return new Verdict(Action.COUNT, null);
    }

    private static JsonNode matchExitCodes(JsonNode pod, JsonNode req) {
        JsonNode found = matchStatuses(pod.path("status").path("containerStatuses"), req);
        return found != null ? found : matchStatuses(pod.path("status").path("initContainerStatuses"), req);
    }

    private static JsonNode matchStatuses(JsonNode statuses, JsonNode req) {
        String container = req.path("containerName").asText("");
        boolean in = req.path("operator").asText().equals("In");
        for (JsonNode cs : statuses) {
            if (!container.isEmpty() && !container.equals(cs.path("name").asText())) continue;
            JsonNode term = cs.path("state").path("terminated");
            if (term.isMissingNode() || term.isNull()) continue;
            int code = term.path("exitCode").asInt(0);
            if (code == 0) continue; // only failures are matched
            boolean listed = false;
            for (JsonNode v : req.path("values")) listed |= v.asInt() == code;
            if (listed == in) return cs;
        }
        return null;
    }

    private static String matchConditions(JsonNode pod, JsonNode patterns) {
        for (JsonNode c : pod.path("status").path("conditions")) {
            for (JsonNode p : patterns) {
                if (c.path("type").asText().equals(p.path("type").asText())
                        && c.path("status").asText().equals(p.path("status").asText("True"))) {
                    return c.path("type").asText();
                }
            }
        }
        return null;
    }
}
