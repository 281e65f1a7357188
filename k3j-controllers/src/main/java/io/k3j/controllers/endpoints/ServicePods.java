package io.k3j.controllers.endpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.runtime.SharedInformer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What both endpoint controllers ask about a Service and its pods (kube's pkg/controller/util/endpoint). */
final class ServicePods {
    static final String HEADLESS_LABEL = "service.kubernetes.io/headless";
    static final String TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time";

    private ServicePods() {
    }

    /** The Service's pod selector, or null when it has none (its Endpoints are someone else's). */
    static LabelSelector selector(JsonNode svc) {
        JsonNode sel = svc.path("spec").path("selector");
        if (!sel.isObject() || sel.isEmpty()) return null;
        Map<String, String> m = new LinkedHashMap<>();
        sel.properties().forEach(e -> m.put(e.getKey(), e.getValue().asText()));
        return LabelSelector.fromMap(m);
    }

    static boolean headless(JsonNode svc) {
        return "None".equals(Json.text(svc.get("spec"), "clusterIP"));
    }

    static boolean publishNotReady(JsonNode svc) {
        return svc.path("spec").path("publishNotReadyAddresses").asBoolean(false);
    }

    /** The pods of {@code svc}'s namespace its selector matches. */
    static List<ObjectNode> selected(SharedInformer pods, JsonNode svc, LabelSelector selector) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode p : pods.list(Meta.namespace(svc))) {
            if (selector.matches(labelsOf(p))) out.add(p);
        }
        return out;
    }

    /**
     * endpointutil.ShouldPodBeInEndpoints: a pod with an IP that will run again; terminating pods only when
     * {@code includeTerminating}.
     */
    static boolean shouldBeInEndpoints(JsonNode pod, boolean includeTerminating) {
        if (Json.text(pod.get("status"), "podIP").isEmpty()) return false;
        if (!includeTerminating && Meta.deleting(pod)) return false;
        String restart = Json.text(pod.get("spec"), "restartPolicy");
        String phase = Pods.phase(pod);
        if (restart.equals("Never")) return !phase.equals("Failed") && !phase.equals("Succeeded");
        if (restart.equals("OnFailure")) return !phase.equals("Succeeded");
        return true;
    }

    /** The pod's hostname when it names this Service as its subdomain (endpointutil.ShouldSetHostname). */
    static String hostname(JsonNode pod, JsonNode svc) {
        String h = Json.text(pod.get("spec"), "hostname");
        if (!h.isEmpty() && Json.text(pod.get("spec"), "subdomain").equals(Meta.name(svc)) && Meta.namespace(pod).equals(Meta.namespace(svc))) {
            return h;
        }
        return "";
    }

    /**
     * The container port a Service port reaches on this pod (podutil.FindPort): a number as is, a name looked up
     * among the containers' ports of the same protocol; -1 when the pod has no such port.
     */
    static int targetPort(JsonNode pod, JsonNode svcPort) {
        JsonNode tp = svcPort.get("targetPort");
        if (tp == null || tp.isNull()) return svcPort.path("port").asInt();
        if (tp.isNumber()) return tp.asInt();
        String name = tp.asText();
        if (name.matches("[0-9]+")) return Integer.parseInt(name);
        String proto = svcPort.path("protocol").asText("TCP");
        for (String field : new String[] {"containers", "initContainers"}) {
            for (JsonNode c : pod.path("spec").path(field)) {
                // init containers count only as restartable sidecars, as in kube
                if (field.equals("initContainers") && !Json.text(c, "restartPolicy").equals("Always")) continue;
                for (JsonNode p : c.path("ports")) {
                    if (Json.text(p, "name").equals(name) && p.path("protocol").asText("TCP").equals(proto)) {
                        return p.path("containerPort").asInt();
                    }
                }
            }
        }
        return -1;
    }

    /** Labels of the endpoints objects: the Service's, plus the headless marker when it is headless. */
    static Map<String, String> labels(JsonNode svc) {
        Map<String, String> out = new LinkedHashMap<>(ServicePods.labelMap(svc));
        out.remove(HEADLESS_LABEL);
        if (headless(svc)) out.put(HEADLESS_LABEL, "");
        return out;
    }

    /** The object's labels; a missing node (never null) when it has none. */
    static JsonNode labelsOf(JsonNode obj) {
        return obj.path("metadata").path("labels");
    }

    static Map<String, String> labelMap(JsonNode obj) {
        Map<String, String> out = new LinkedHashMap<>();
        labelsOf(obj).properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    static ObjectNode targetRef(JsonNode pod) {
        ObjectNode ref = Json.object();
        ref.put("kind", "Pod").put("namespace", Meta.namespace(pod)).put("name", Meta.name(pod)).put("uid", Meta.uid(pod));
        return ref;
    }

    /**
     * kube's TriggerTimeTracker: the last-change-trigger-time of an endpoints object is the earliest change that
     * the sync publishes — a pod's Ready transition or the Service's creation — among those not yet published.
     */
    static final class TriggerTimes {
        private final Map<String, State> states = new HashMap<>();

        private record State(String svcCreated, Map<String, String> pods) {}

        /** The trigger time of this sync (null when nothing new), remembering what it saw. */
        synchronized String compute(JsonNode svc, List<ObjectNode> pods) {
            String key = Meta.namespace(svc) + "/" + Meta.name(svc);
            State prev = states.get(key);
            String created = svc.path("metadata").path("creationTimestamp").asText("");
            String min = null;
            if (prev == null || !prev.svcCreated.equals(created)) min = created.isEmpty() ? null : created;
            Map<String, String> now = new HashMap<>();
            for (ObjectNode p : pods) {
                JsonNode ready = Pods.condition(p, "Ready");
                String t = ready == null ? "" : ready.path("lastTransitionTime").asText("");
                if (t.isEmpty()) continue;
                now.put(Meta.uid(p), t);
                String before = prev == null ? null : prev.pods.get(Meta.uid(p));
                if (!t.equals(before) && (min == null || Pods.time(t).isBefore(Pods.time(min)))) min = t;
            }
            states.put(key, new State(created, now));
            return min;
        }

        synchronized void forget(String key) {
            states.remove(key);
        }
    }
}
