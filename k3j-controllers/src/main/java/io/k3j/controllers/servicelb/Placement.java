package io.k3j.controllers.servicelb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.runtime.Keys;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which nodes answer each LoadBalancer Service, as klipper-lb's DaemonSet pods would land in k3s: a pod per
 * eligible node holding every port of its Service as a hostPort, so a node where another Service already holds
 * one of those ports (same number and protocol) can't take it. Here the older Service (creationTimestamp, then
 * namespace/name) holds the port, which keeps the answer a pure function of the cluster's state: the same on
 * every sync, on every server, after every restart.
 */
final class Placement {
    /** Nodes labelled with it, when any node is, are the only ones that answer LoadBalancer Services (k3s). */
    static final String ENABLE_LB = "svccontroller.k3s.cattle.io/enablelb";
    /** A Service labelled with a pool is answered only by nodes labelled with the same pool (k3s). */
    static final String LB_POOL = "svccontroller.k3s.cattle.io/lbpool";

    private Placement() {
    }

    /**
     * Where one Service is answered.
     *
     * @param nodes    the nodes that answer it, by name order
     * @param eligible how many nodes it could have had before other Services' ports were counted
     * @param port     when some eligible node was lost to a port conflict: the first such port ({@code 80/TCP})
     * @param holder   the Service ({@code namespace/name}) holding {@code port} there
     */
    record Assignment(List<ObjectNode> nodes, int eligible, String port, String holder) {}

    /** Whether the service load balancer answers {@code svc}: type LoadBalancer without a loadBalancerClass. */
    static boolean handled(JsonNode svc) {
        JsonNode spec = svc.path("spec");
        return "LoadBalancer".equals(Json.text(spec, "type")) && Json.text(spec, "loadBalancerClass").isEmpty()
                && !Meta.deleting(svc);
    }

    /** The assignment of every handled Service, by key. */
    static Map<String, Assignment> compute(Collection<ObjectNode> nodes, Collection<ObjectNode> services) {
        List<ObjectNode> ready = nodes.stream().filter(Placement::usable).sorted(Comparator.comparing(Meta::name)).toList();
        boolean labelled = nodes.stream().anyMatch(n -> "true".equals(Json.text(Meta.labels(n), ENABLE_LB)));
        List<ObjectNode> candidates = labelled ? ready.stream().filter(n -> "true".equals(Json.text(Meta.labels(n), ENABLE_LB))).toList() : ready;

        List<ObjectNode> ordered = services.stream().filter(Placement::handled)
                .sorted(Comparator.comparing((ObjectNode s) -> Json.text(s.get("metadata"), "creationTimestamp")).thenComparing((ObjectNode s) -> Keys.of(s)))
                .toList();
        // node name -> "port/protocol" -> the Service holding it there
        Map<String, Map<String, String>> held = new HashMap<>();
        Map<String, Assignment> out = new HashMap<>();
        for (ObjectNode svc : ordered) {
            String key = Keys.of(svc);
            String pool = Json.text(Meta.labels(svc), LB_POOL);
            Set<String> ports = ports(svc);
            List<ObjectNode> got = new ArrayList<>();
            int eligible = 0;
            String conflictPort = null;
            String conflictHolder = null;
            for (ObjectNode node : candidates) {
                if (!pool.isEmpty() && !pool.equals(Json.text(Meta.labels(node), LB_POOL))) continue;
                eligible++;
                Map<String, String> onNode = held.computeIfAbsent(Meta.name(node), n -> new HashMap<>());
                String taken = ports.stream().filter(onNode::containsKey).findFirst().orElse(null);
                if (taken != null) {
                    if (conflictPort == null) {
                        conflictPort = taken;
                        conflictHolder = onNode.get(taken);
                    }
                    continue;
                }
                for (String p : ports) onNode.put(p, key);
                got.add(node);
            }
            out.put(key, new Assignment(List.copyOf(got), eligible, conflictPort, conflictHolder));
        }
        return out;
    }

    /** Ready, schedulable and not being deleted: a node that would run a klipper-lb pod. */
    static boolean usable(JsonNode node) {
        if (Meta.deleting(node) || node.path("spec").path("unschedulable").asBoolean(false)) return false;
        for (JsonNode c : node.path("status").path("conditions")) {
            if ("Ready".equals(Json.text(c, "type"))) return "True".equals(Json.text(c, "status"));
        }
        return false;
    }

    /** The Service's ports as {@code port/protocol}, in spec order. */
    static Set<String> ports(JsonNode svc) {
        Set<String> out = new LinkedHashSet<>();
        for (JsonNode p : svc.path("spec").path("ports")) {
            out.add(p.path("port").asInt() + "/" + p.path("protocol").asText("TCP"));
        }
        return out;
    }

    /**
     * The addresses a node is reached at from outside: its ExternalIPs, else its InternalIPs (k3s's choice), of
     * the IP families the Service uses.
     */
    static List<String> addresses(JsonNode node, JsonNode svc) {
        List<String> external = new ArrayList<>();
        List<String> internal = new ArrayList<>();
        for (JsonNode a : node.path("status").path("addresses")) {
            String ip = Json.text(a, "address");
            if (ip.isEmpty()) continue;
            switch (Json.text(a, "type")) {
                case "ExternalIP" -> external.add(ip);
                case "InternalIP" -> internal.add(ip);
                default -> { }
            }
        }
        List<String> chosen = external.isEmpty() ? internal : external;
        Set<String> families = new LinkedHashSet<>();
        for (JsonNode f : svc.path("spec").path("ipFamilies")) families.add(f.asText());
        if (families.isEmpty()) return chosen;
        return chosen.stream().filter(ip -> families.contains(ip.contains(":") ? "IPv6" : "IPv4")).toList();
    }
}
