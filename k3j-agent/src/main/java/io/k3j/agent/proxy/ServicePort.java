package io.k3j.agent.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One port of one Service with everything the rules need: where traffic arrives (cluster IP, node port, external and
 * load-balancer IPs) and the endpoints it may go to. Built from the informers' shared trees without changing them.
 *
 * @param affinitySeconds 0 without sessionAffinity ClientIP
 * @param nodeLocal       the Service carries {@code k3j.io/node-local: "true"}: its one endpoint is this node's pod gateway
 * @param sourceRanges    the IPv4 CIDRs of spec.loadBalancerSourceRanges (host bits cleared); empty admits everyone
 */
record ServicePort(String namespace, String name, String protocol, int port, List<String> clusterIps, int nodePort,
                   List<String> externalIps, List<String> loadBalancerIps, List<Endpoint> endpoints, int affinitySeconds,
                   boolean internalLocal, boolean externalLocal, boolean nodeLocal, List<String> sourceRanges) {

    static final String NODE_LOCAL_ANNOTATION = "k3j.io/node-local";
    static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
    static final int DEFAULT_AFFINITY_SECONDS = 10800;

    /** An endpoint address and port with its EndpointSlice conditions (nil ready/serving read as true, as the API says). */
    record Endpoint(String ip, int port, String nodeName, boolean ready, boolean serving, boolean terminating) {
    }

    /** {@code ns/name/tcp/80}: unique per table, used in chain names. */
    String id() {
        return namespace + "/" + name + "/" + protocol + "/" + port;
    }

    /**
     * The ports of {@code service} that get rules, empty for ExternalName and headless Services and Services without
     * an allocated cluster IP.
     *
     * @param slices         the service's EndpointSlices (any order)
     * @param gatewayAddress this node's pod gateway address (the target of node-local Services), or null when unknown
     */
    static List<ServicePort> of(ObjectNode service, List<ObjectNode> slices, String gatewayAddress) {
        JsonNode meta = service.path("metadata");
        JsonNode spec = service.path("spec");
        String type = Json.text(spec, "type");
        if ("ExternalName".equals(type)) return List.of();
        List<String> clusterIps = new ArrayList<>();
        if (spec.path("clusterIPs").isArray() && !spec.path("clusterIPs").isEmpty()) {
            for (JsonNode ip : spec.path("clusterIPs")) clusterIps.add(ip.asText());
        } else if (!Json.text(spec, "clusterIP").isEmpty()) {
            clusterIps.add(Json.text(spec, "clusterIP"));
        }
        if (clusterIps.contains("None")) return List.of(); // headless: DNS answers with the pods themselves
        clusterIps.removeIf(ip -> !isIpv4(ip));
        // an IPv6 single-stack Service is not this IPv4 proxy's business (kube-proxy's IPv4 proxier skips it too):
        // without this its node ports would be claimed here and rejected, as it has no IPv4 endpoints
        if (clusterIps.isEmpty()) return List.of();
        boolean nodeLocal = "true".equals(Json.text(meta.path("annotations"), NODE_LOCAL_ANNOTATION));
        if (nodeLocal && gatewayAddress == null) return List.of();
        boolean exposesNodePorts = "NodePort".equals(type) || "LoadBalancer".equals(type);
        List<String> externalIps = ipv4s(spec.path("externalIPs"), null);
        List<String> lbIps = new ArrayList<>();
        if ("LoadBalancer".equals(type)) {
            for (JsonNode ingress : service.path("status").path("loadBalancer").path("ingress")) {
                // ipMode Proxy (KEP-1860): the load balancer proxies itself, so its IP must not be short-circuited here
                if ("Proxy".equals(Json.text(ingress, "ipMode"))) continue;
                String ip = Json.text(ingress, "ip");
                if (isIpv4(ip) && !lbIps.contains(ip)) lbIps.add(ip);
            }
        }
        int affinity = 0;
        if ("ClientIP".equals(Json.text(spec, "sessionAffinity"))) {
            JsonNode t = spec.path("sessionAffinityConfig").path("clientIP").path("timeoutSeconds");
            affinity = t.canConvertToInt() && t.asInt() > 0 ? t.asInt() : DEFAULT_AFFINITY_SECONDS;
        }
        boolean internalLocal = "Local".equals(Json.text(spec, "internalTrafficPolicy"));
        boolean externalLocal = "Local".equals(Json.text(spec, "externalTrafficPolicy"));
        String namespace = Json.text(meta, "namespace");
        String name = Json.text(meta, "name");
        List<String> sourceRanges = lbIps.isEmpty() ? List.of() : sourceRanges(service);

        List<ServicePort> out = new ArrayList<>();
        for (JsonNode p : spec.path("ports")) {
            String protocol = protocol(p);
            if (protocol == null) continue;
            int port = p.path("port").asInt();
            if (port <= 0) continue;
            String portName = Json.text(p, "name");
            int nodePort = exposesNodePorts ? p.path("nodePort").asInt(0) : 0;
            List<Endpoint> endpoints;
            if (nodeLocal) {
                JsonNode tp = p.path("targetPort");
                int target = tp.isInt() ? tp.asInt() : tp.isTextual() && tp.asText().matches("[0-9]+") ? Integer.parseInt(tp.asText()) : port;
                endpoints = List.of(new Endpoint(gatewayAddress, target, null, true, true, false));
            } else {
                endpoints = endpoints(slices, portName, protocol);
            }
            out.add(new ServicePort(namespace, name, protocol.toLowerCase(Locale.ROOT), port, List.copyOf(clusterIps), nodePort,
                    externalIps, List.copyOf(lbIps), endpoints, affinity, internalLocal, externalLocal, nodeLocal, sourceRanges));
        }
        return out;
    }

    /**
     * spec.loadBalancerSourceRanges, or when empty the older annotation {@code service.beta.kubernetes.io/load-balancer-source-ranges}
     * (comma-separated), as kube-proxy reads them: IPv4 CIDRs with their host bits cleared; IPv6 and malformed ones
     * are left out (the API server validates the field; the annotation is free text).
     */
    static List<String> sourceRanges(JsonNode service) {
        List<String> raw = new ArrayList<>();
        for (JsonNode r : service.path("spec").path("loadBalancerSourceRanges")) raw.add(r.asText().strip());
        if (raw.isEmpty()) {
            String ann = Json.text(service.path("metadata").path("annotations"), "service.beta.kubernetes.io/load-balancer-source-ranges");
            for (String r : ann.split(",")) if (!r.isBlank()) raw.add(r.strip());
        }
        List<String> out = new ArrayList<>();
        for (String r : raw) {
            String cidr = ipv4Cidr(r);
            if (cidr != null && !out.contains(cidr)) out.add(cidr);
        }
        return List.copyOf(out);
    }

    /** {@code 10.1.2.3/8} → {@code 10.0.0.0/8} (nft refuses host bits in a prefix); null when not an IPv4 CIDR. */
    static String ipv4Cidr(String s) {
        int slash = s.indexOf('/');
        String ip = slash < 0 ? s : s.substring(0, slash);
        String len = slash < 0 ? "32" : s.substring(slash + 1);
        if (!isIpv4(ip) || !len.matches("[0-9]{1,2}") || Integer.parseInt(len) > 32) return null;
        int prefix = Integer.parseInt(len);
        int addr = 0;
        for (String part : ip.split("\\.")) addr = (addr << 8) | Integer.parseInt(part);
        int masked = prefix == 0 ? 0 : addr & (-1 << (32 - prefix));
        return (masked >>> 24) + "." + ((masked >> 16) & 255) + "." + ((masked >> 8) & 255) + "." + (masked & 255) + "/" + prefix;
    }

    private static String protocol(JsonNode port) {
        String p = Json.text(port, "protocol");
        if (p.isEmpty()) return "TCP";
        return switch (p) {
            case "TCP", "UDP", "SCTP" -> p;
            default -> null;
        };
    }

    /** The endpoints of the slices' port with this name and protocol, one per address and port (slices may overlap). */
    private static List<Endpoint> endpoints(List<ObjectNode> slices, String portName, String protocol) {
        Map<String, Endpoint> byTarget = new LinkedHashMap<>();
        for (ObjectNode slice : slices) {
            if (!"IPv4".equals(Json.text(slice, "addressType"))) continue;
            int target = -1;
            for (JsonNode sp : slice.path("ports")) {
                String spProtocol = Json.text(sp, "protocol").isEmpty() ? "TCP" : Json.text(sp, "protocol");
                if (Json.text(sp, "name").equals(portName) && spProtocol.equals(protocol) && sp.path("port").canConvertToInt()) {
                    target = sp.path("port").asInt();
                    break;
                }
            }
            if (target <= 0) continue;
            for (JsonNode ep : slice.path("endpoints")) {
                JsonNode addresses = ep.path("addresses");
                if (addresses.isEmpty() || !isIpv4(addresses.get(0).asText())) continue;
                String ip = addresses.get(0).asText(); // like kube-proxy: the first address is the endpoint
                JsonNode c = ep.path("conditions");
                boolean ready = !c.path("ready").isBoolean() || c.path("ready").asBoolean();
                boolean serving = c.path("serving").isBoolean() ? c.path("serving").asBoolean() : ready;
                boolean terminating = c.path("terminating").asBoolean(false);
                String node = ep.path("nodeName").isTextual() ? ep.path("nodeName").asText() : null;
                byTarget.putIfAbsent(ip + ":" + target, new Endpoint(ip, target, node, ready, serving, terminating));
            }
        }
        List<Endpoint> list = new ArrayList<>(byTarget.values());
        list.sort(java.util.Comparator.comparing(Endpoint::ip).thenComparingInt(Endpoint::port));
        return List.copyOf(list);
    }

    private static List<String> ipv4s(JsonNode array, List<String> into) {
        List<String> out = into == null ? new ArrayList<>() : into;
        for (JsonNode n : array) {
            if (isIpv4(n.asText()) && !out.contains(n.asText())) out.add(n.asText());
        }
        return List.copyOf(out);
    }

    static boolean isIpv4(String s) {
        if (s == null || s.isEmpty()) return false;
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) return false;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) return false;
            if (Integer.parseInt(part) > 255) return false;
        }
        return true;
    }
}
