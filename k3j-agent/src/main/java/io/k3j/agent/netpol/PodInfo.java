package io.k3j.agent.netpol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What policies need to know of a pod: where it is, what it is labelled, its addresses and its named container
 * ports.
 *
 * @param ips      status.podIPs (or podIP), empty until the sandbox has an address
 * @param terminal Succeeded or Failed: its address may already belong to another pod
 */
record PodInfo(String namespace, String name, Map<String, String> labels, List<String> ips, String nodeName,
               boolean hostNetwork, boolean terminal, List<ContainerPort> ports) {

    /** A named container port ({@code spec.containers[].ports[]} with a name). */
    record ContainerPort(String name, String protocol, int port) { }

    PodInfo {
        labels = Map.copyOf(labels);
        ips = List.copyOf(ips);
        ports = List.copyOf(ports);
    }

    String key() {
        return namespace + "/" + name;
    }

    /**
     * Whether policies apply to this pod, as target or as peer: pods sharing the node's network have the node's
     * address, and a finished pod's address is free for reuse.
     */
    boolean participates() {
        return !hostNetwork && !terminal && !ips.isEmpty();
    }

    /** The port number a named port has in this pod for {@code protocol}, or -1. */
    int resolve(String portName, String protocol) {
        for (ContainerPort p : ports) {
            if (p.name().equals(portName) && p.protocol().equals(protocol)) return p.port();
        }
        return -1;
    }

    /** Reads a Pod (whole or {@link #slim slimmed}). */
    static PodInfo of(JsonNode pod) {
        JsonNode meta = pod.path("metadata");
        JsonNode spec = pod.path("spec");
        JsonNode status = pod.path("status");
        Map<String, String> labels = new LinkedHashMap<>();
        meta.path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        List<String> ips = new ArrayList<>();
        for (JsonNode ip : status.path("podIPs")) {
            String a = ip.path("ip").asText("");
            if (!a.isEmpty() && !ips.contains(a)) ips.add(a);
        }
        String single = status.path("podIP").asText("");
        if (!single.isEmpty() && !ips.contains(single)) ips.add(0, single);
        List<ContainerPort> ports = new ArrayList<>();
        for (JsonNode c : spec.path("containers")) {
            for (JsonNode p : c.path("ports")) {
                String name = p.path("name").asText("");
                if (name.isEmpty()) continue;
                ports.add(new ContainerPort(name, p.path("protocol").asText("TCP"), p.path("containerPort").asInt()));
            }
        }
        String phase = status.path("phase").asText("");
        return new PodInfo(Json.text(meta, "namespace"), Json.text(meta, "name"), labels, ips, spec.path("nodeName").asText(""),
                spec.path("hostNetwork").asBoolean(false), phase.equals("Succeeded") || phase.equals("Failed"), ports);
    }

    /**
     * The informer transform: namespace, name, labels, node, host network, named container ports, phase and
     * addresses. Everything else of a pod (status conditions, images, env) changes often and matters not here.
     */
    static ObjectNode slim(ObjectNode pod) {
        ObjectNode out = Json.object();
        if (pod.has("apiVersion")) out.set("apiVersion", pod.get("apiVersion"));
        if (pod.has("kind")) out.set("kind", pod.get("kind"));
        JsonNode meta = pod.path("metadata");
        ObjectNode m = out.putObject("metadata");
        for (String f : new String[] {"namespace", "name", "uid", "resourceVersion", "labels"}) {
            if (meta.has(f)) m.set(f, meta.get(f));
        }
        JsonNode spec = pod.path("spec");
        ObjectNode s = out.putObject("spec");
        if (spec.has("nodeName")) s.set("nodeName", spec.get("nodeName"));
        if (spec.path("hostNetwork").asBoolean(false)) s.put("hostNetwork", true);
        var containers = s.putArray("containers");
        for (JsonNode c : spec.path("containers")) {
            ObjectNode sc = containers.addObject();
            var ports = sc.putArray("ports");
            for (JsonNode p : c.path("ports")) {
                if (p.path("name").asText("").isEmpty()) continue;
                ObjectNode sp = ports.addObject();
                sp.set("name", p.get("name"));
                sp.put("containerPort", p.path("containerPort").asInt());
                sp.put("protocol", p.path("protocol").asText("TCP"));
            }
        }
        JsonNode status = pod.path("status");
        ObjectNode st = out.putObject("status");
        for (String f : new String[] {"phase", "podIP", "podIPs"}) {
            if (status.has(f)) st.set(f, status.get(f));
        }
        return out;
    }
}
