package io.k3j.apiserver.registry.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.Quantity;
import io.k3j.apiserver.resource.ResourceType;
import java.util.Set;

/**
 * Pods: start Pending with their QoS class, delete gracefully once on a node (the kubelet finishes the
 * deletion), and are selectable by node, phase and the other fields kube-apiserver supports.
 */
public final class PodStrategy extends BuiltinStrategy {
    /** The PriorityClasses a pod's priority comes from: by name, and the one marked globalDefault. */
    public interface PriorityClasses {
        JsonNode byName(String name);

        JsonNode globalDefault();
    }

    private volatile PriorityClasses priorityClasses;

    public PodStrategy() {
        super(Set.of("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
                "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"));
    }

    @Override
    public void prepareForCreate(ResourceType type, ObjectNode obj) {
        ObjectNode status = obj.putObject("status");
        status.put("phase", "Pending");
    }

    /** Where the Priority admission plugin reads PriorityClasses (set once the watch cache runs). */
    public void usePriorityClasses(PriorityClasses classes) {
        this.priorityClasses = classes;
    }

    @Override
    public void admit(ResourceType type, ObjectNode obj) {
        resolvePriority(obj);
        super.admit(type, obj);
        Json.obj(obj, "status").put("qosClass", qosClass(obj));
    }

    /**
     * The Priority admission plugin's lookup: {@code priorityClassName} gives {@code priority} and, unless set,
     * {@code preemptionPolicy}; without a name the globalDefault class (if any) applies; an unknown name is
     * refused (403, as kube-apiserver words it). The built-in system classes are handled by {@code Admission}.
     */
    private void resolvePriority(ObjectNode pod) {
        PriorityClasses classes = priorityClasses;
        if (classes == null) return;
        ObjectNode spec = Json.obj(pod, "spec");
        String name = spec.path("priorityClassName").asText("");
        if (name.startsWith("system-")) return;
        JsonNode pc;
        if (name.isEmpty()) {
            pc = classes.globalDefault();
            if (pc == null) return;
            spec.put("priorityClassName", pc.path("metadata").path("name").asText());
        } else {
            pc = classes.byName(name);
            if (pc == null) {
                throw io.k3j.api.ApiException.forbidden("pods \"" + pod.path("metadata").path("name").asText(pod.path("metadata")
                        .path("generateName").asText()) + "\" is forbidden: no PriorityClass with name " + name + " was found");
            }
        }
        if (!spec.hasNonNull("priority")) spec.put("priority", pc.path("value").asLong(0));
        if (!spec.hasNonNull("preemptionPolicy") && pc.hasNonNull("preemptionPolicy")) {
            spec.put("preemptionPolicy", pc.get("preemptionPolicy").asText());
        }
    }

    @Override
    public String fieldValue(ObjectNode obj, String field) {
        if (field.equals("spec.hostNetwork")) {
            JsonNode h = Json.at(obj, "spec", "hostNetwork");
            return h != null && h.asBoolean() ? "true" : "false";
        }
        if (field.equals("status.podIPs")) {
            JsonNode ips = Json.at(obj, "status", "podIPs");
            return ips != null && ips.isArray() && !ips.isEmpty() ? ips.get(0).path("ip").asText() : "";
        }
        return super.fieldValue(obj, field);
    }

    /**
     * Pods on a node end gracefully: the kubelet stops them and then deletes them for good. Unscheduled and
     * terminated pods go at once, whatever grace period is asked for (podStrategy.CheckGracefulDelete).
     */
    @Override
    public boolean deletesGracefully(ObjectNode pod) {
        String phase = Json.text(pod.get("status"), "phase");
        return !Json.text(pod.get("spec"), "nodeName").isEmpty() && !phase.equals("Succeeded") && !phase.equals("Failed");
    }

    @Override
    public long defaultGracePeriodSeconds(ObjectNode pod) {
        if (!deletesGracefully(pod)) return 0;
        JsonNode grace = Json.at(pod, "spec", "terminationGracePeriodSeconds");
        return grace == null ? 30 : grace.asLong();
    }

    /** Guaranteed when every container limits cpu and memory with requests equal to limits, BestEffort with none. */
    static String qosClass(ObjectNode pod) {
        boolean any = false;
        boolean guaranteed = true;
        JsonNode spec = pod.get("spec");
        for (String list : new String[] {"initContainers", "containers"}) {
            JsonNode cs = spec == null ? null : spec.get(list);
            if (cs == null) continue;
            for (JsonNode c : cs) {
                JsonNode req = c.path("resources").path("requests");
                JsonNode lim = c.path("resources").path("limits");
                for (String r : new String[] {"cpu", "memory"}) {
                    JsonNode q = req.get(r) != null ? req.get(r) : lim.get(r);
                    if (q != null && isPositive(q.asText())) any = true;
                    JsonNode l = lim.get(r);
                    JsonNode rq = req.get(r);
                    if (l == null || !isPositive(l.asText())) guaranteed = false;
                    else if (rq != null && Quantity.parse(rq.asText()).compareTo(Quantity.parse(l.asText())) != 0) guaranteed = false;
                }
            }
        }
        if (!any) return "BestEffort";
        return guaranteed ? "Guaranteed" : "Burstable";
    }

    private static boolean isPositive(String q) {
        try {
            return Quantity.parse(q).signum() > 0;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
