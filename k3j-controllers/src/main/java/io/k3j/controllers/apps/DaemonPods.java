package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import java.util.function.Predicate;

/**
 * Where a DaemonSet's pods belong (kube's daemon/util and the scheduler predicates the DaemonSet controller
 * evaluates itself): the tolerations every daemon pod gets, the node affinity that pins a pod to its node, and
 * whether a node should run (or may keep running) the pod.
 */
final class DaemonPods {
    /** {@code shouldRun}: place a pod there; {@code shouldContinueRunning}: a pod already there may stay. */
    record Placement(boolean shouldRun, boolean shouldContinueRunning) {
    }

    private DaemonPods() {
    }

    /**
     * AddOrUpdateDaemonPodTolerations: daemons keep running on nodes that are not ready, unreachable, under
     * pressure or cordoned; host-network daemons (often the network plugin itself) also where the network is not
     * up yet. NoExecute ones carry no tolerationSeconds, so they are never evicted.
     */
    static void addTolerations(ObjectNode podSpec) {
        tolerate(podSpec, "node.kubernetes.io/not-ready", "NoExecute");
        tolerate(podSpec, "node.kubernetes.io/unreachable", "NoExecute");
        tolerate(podSpec, "node.kubernetes.io/disk-pressure", "NoSchedule");
        tolerate(podSpec, "node.kubernetes.io/memory-pressure", "NoSchedule");
        tolerate(podSpec, "node.kubernetes.io/pid-pressure", "NoSchedule");
        tolerate(podSpec, "node.kubernetes.io/unschedulable", "NoSchedule");
        if (podSpec.path("hostNetwork").asBoolean(false)) tolerate(podSpec, "node.kubernetes.io/network-unavailable", "NoSchedule");
    }

    private static void tolerate(ObjectNode podSpec, String key, String effect) {
        ArrayNode tolerations = podSpec.path("tolerations").isArray() ? (ArrayNode) podSpec.get("tolerations") : podSpec.putArray("tolerations");
        for (JsonNode t : tolerations) {
            if (t.path("key").asText("").equals(key) && t.path("operator").asText("").equals("Exists")
                    && t.path("effect").asText("").equals(effect) && t.path("value").asText("").isEmpty()
                    && !t.has("tolerationSeconds")) {
                return;
            }
        }
        tolerations.addObject().put("key", key).put("operator", "Exists").put("effect", effect);
    }

    /**
     * ReplaceDaemonSetPodNodeNameNodeAffinity: the pod's required node affinity becomes the single term
     * {@code metadata.name In [node]}, so the default scheduler places it (kube ≥ 1.12) while honouring every
     * other scheduling rule. The controller has already checked the template's own affinity against the node.
     */
    static void pinToNode(ObjectNode podSpec, String node) {
        ObjectNode nodeAffinity = Json.obj(Json.obj(podSpec, "affinity"), "nodeAffinity");
        ObjectNode required = Json.obj(nodeAffinity, "requiredDuringSchedulingIgnoredDuringExecution");
        ArrayNode terms = required.putArray("nodeSelectorTerms");
        ObjectNode req = terms.addObject().putArray("matchFields").addObject();
        req.put("key", "metadata.name").put("operator", "In").putArray("values").add(node);
    }

    /** The node a daemon pod is for: spec.nodeName once bound, else its {@code metadata.name In [node]} affinity (GetTargetNodeName). */
    static String targetNode(JsonNode pod) {
        String bound = Json.text(pod.get("spec"), "nodeName");
        if (!bound.isEmpty()) return bound;
        JsonNode terms = pod.path("spec").path("affinity").path("nodeAffinity").path("requiredDuringSchedulingIgnoredDuringExecution")
                .path("nodeSelectorTerms");
        for (JsonNode term : terms) {
            for (JsonNode f : term.path("matchFields")) {
                if (f.path("key").asText().equals("metadata.name") && f.path("operator").asText().equals("In")
                        && f.path("values").size() == 1) {
                    return f.path("values").get(0).asText();
                }
            }
        }
        return "";
    }

    /** NodeShouldRunDaemonPod for a pod spec made from the DaemonSet's template (tolerations added). */
    static Placement placement(JsonNode podSpec, JsonNode node) {
        String nodeName = Json.text(podSpec, "nodeName");
        if (!nodeName.isEmpty() && !nodeName.equals(Meta.name(node))) return new Placement(false, false);
        if (!nodeSelectorMatches(podSpec, node) || !requiredAffinityMatches(podSpec, node)) return new Placement(false, false);
        JsonNode taints = node.path("spec").path("taints");
        JsonNode tolerations = podSpec.path("tolerations");
        if (!untolerated(taints, tolerations, t -> t.equals("NoSchedule") || t.equals("NoExecute"))) return new Placement(true, true);
        // a pod already there only has to leave for a NoExecute taint it does not tolerate
        return new Placement(false, !untolerated(taints, tolerations, t -> t.equals("NoExecute")));
    }

    private static boolean untolerated(JsonNode taints, JsonNode tolerations, Predicate<String> effects) {
        for (JsonNode taint : taints) {
            if (!effects.test(taint.path("effect").asText())) continue;
            boolean tolerated = false;
            for (JsonNode t : tolerations) {
                if (tolerates(t, taint)) {
                    tolerated = true;
                    break;
                }
            }
            if (!tolerated) return true;
        }
        return false;
    }

    /** Toleration.ToleratesTaint. */
    static boolean tolerates(JsonNode toleration, JsonNode taint) {
        String effect = toleration.path("effect").asText("");
        if (!effect.isEmpty() && !effect.equals(taint.path("effect").asText(""))) return false;
        String key = toleration.path("key").asText("");
        String op = toleration.path("operator").asText("");
        if (!key.isEmpty() && !key.equals(taint.path("key").asText(""))) return false;
        if (op.equals("Exists")) return true;
        if (op.isEmpty() || op.equals("Equal")) return toleration.path("value").asText("").equals(taint.path("value").asText(""));
        return false;
    }

    private static boolean nodeSelectorMatches(JsonNode podSpec, JsonNode node) {
        JsonNode labels = node.path("metadata").path("labels");
        for (var e : podSpec.path("nodeSelector").properties()) {
            if (!labels.has(e.getKey()) || !labels.get(e.getKey()).asText().equals(e.getValue().asText())) return false;
        }
        return true;
    }

    /** requiredDuringSchedulingIgnoredDuringExecution: any term matches; a term needs all its requirements; an empty term matches nothing. */
    private static boolean requiredAffinityMatches(JsonNode podSpec, JsonNode node) {
        JsonNode required = podSpec.path("affinity").path("nodeAffinity").path("requiredDuringSchedulingIgnoredDuringExecution");
        if (!required.isObject()) return true;
        JsonNode terms = required.path("nodeSelectorTerms");
        for (JsonNode term : terms) {
            JsonNode exprs = term.path("matchExpressions");
            JsonNode fields = term.path("matchFields");
            if (exprs.isEmpty() && fields.isEmpty()) continue;
            boolean ok = true;
            for (JsonNode r : exprs) ok &= requirementMatches(r, node.path("metadata").path("labels"));
            for (JsonNode r : fields) {
                ObjectNode f = Json.object();
                f.put("metadata.name", Meta.name(node));
                ok &= r.path("key").asText().equals("metadata.name") && requirementMatches(r, f);
            }
            if (ok) return true;
        }
        return false;
    }

    private static boolean requirementMatches(JsonNode r, JsonNode labels) {
        String key = r.path("key").asText();
        boolean has = labels.has(key);
        String value = has ? labels.get(key).asText() : null;
        boolean in = false;
        for (JsonNode v : r.path("values")) in |= v.asText().equals(value);
        return switch (r.path("operator").asText()) {
            case "In" -> has && in;
            case "NotIn" -> !in;
            case "Exists" -> has;
            case "DoesNotExist" -> !has;
            case "Gt", "Lt" -> {
                if (!has || r.path("values").size() != 1) yield false;
                try {
                    long have = Long.parseLong(value);
                    long want = Long.parseLong(r.path("values").get(0).asText());
                    yield r.path("operator").asText().equals("Gt") ? have > want : have < want;
                } catch (NumberFormatException e) {
                    yield false;
                }
            }
            default -> false;
        };
    }
}
