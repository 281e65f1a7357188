package io.k3j.agent.ingress;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns the informers' objects into a {@link Routes} table and the SNI host → TLS secret map: which Ingresses are
 * ours (by class), their rules in order of age, and each backend resolved to the ready endpoints of its Service
 * port through the EndpointSlices.
 *
 * <p>Choices where the spec leaves room: a {@code resource} backend is not routed (Traefik drops such paths, so the
 * request falls to another rule or gets 404); a Service that is missing, of type ExternalName, without the named or
 * numbered port, or without ready endpoints gives 503, as ingress-nginx answers.
 */
final class RouteCompiler {
    static final String CLASS_ANNOTATION = "kubernetes.io/ingress.class";
    static final String DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";
    private static final System.Logger LOG = System.getLogger(RouteCompiler.class.getName());

    /** A TLS section's secret, by namespace and name. */
    record SecretRef(String namespace, String name) {
        @Override
        public String toString() {
            return namespace + "/" + name;
        }
    }

    /** The compiled result: the routes and, for each TLS host (exact or {@code *.wildcard}), its secret. */
    record Compiled(Routes routes, Map<String, SecretRef> tlsHosts) { }

    private final String className;
    private final String controllerName;

    RouteCompiler(String className, String controllerName) {
        this.className = className;
        this.controllerName = controllerName;
    }

    Compiled compile(List<ObjectNode> ingresses, List<ObjectNode> classes, List<ObjectNode> services, List<ObjectNode> slices) {
        Set<String> ours = new LinkedHashSet<>();
        ours.add(className);
        boolean oursIsDefault = false;
        for (ObjectNode c : classes) {
            if (!controllerName.equals(Json.text(c.path("spec"), "controller"))) continue;
            ours.add(Json.text(c.path("metadata"), "name"));
            if ("true".equals(annotation(c, DEFAULT_CLASS_ANNOTATION))) oursIsDefault = true;
        }
        Map<String, ObjectNode> svcs = new HashMap<>();
        for (ObjectNode s : services) svcs.put(key(s), s);
        Map<String, List<ObjectNode>> slicesBySvc = new HashMap<>();
        for (ObjectNode s : slices) {
            String svc = Json.text(s.path("metadata").path("labels"), "kubernetes.io/service-name");
            if (svc.isEmpty()) continue;
            slicesBySvc.computeIfAbsent(Json.text(s.path("metadata"), "namespace") + "/" + svc, k -> new ArrayList<>()).add(s);
        }

        List<ObjectNode> handled = new ArrayList<>();
        for (ObjectNode ing : ingresses) {
            if (isOurs(ing, ours, oursIsDefault)) handled.add(ing);
        }
        // the oldest Ingress wins a path, a TLS host and the default backend (what ingress-nginx and Traefik do)
        handled.sort(Comparator.comparing((ObjectNode i) -> Json.text(i.path("metadata"), "creationTimestamp"))
                .thenComparing(RouteCompiler::key));

        Map<String, Routes.Target> targets = new HashMap<>();
        Routes.Builder routes = new Routes.Builder();
        Map<String, SecretRef> tls = new LinkedHashMap<>();
        for (ObjectNode ing : handled) {
            String ns = Json.text(ing.path("metadata"), "namespace");
            JsonNode spec = ing.path("spec");
            for (JsonNode rule : spec.path("rules")) {
                String host = Json.text(rule, "host").toLowerCase(Locale.ROOT);
                routes.host(host);
                for (JsonNode p : rule.path("http").path("paths")) {
                    Routes.Target t = target(ns, p.path("backend"), svcs, slicesBySvc, targets);
                    if (t == null) continue;
                    String path = Json.text(p, "path");
                    if (path.isEmpty()) path = "/";
                    routes.add(host, "Exact".equals(Json.text(p, "pathType")), path, t);
                }
            }
            if (spec.has("defaultBackend")) {
                Routes.Target t = target(ns, spec.path("defaultBackend"), svcs, slicesBySvc, targets);
                if (t != null) routes.defaultBackend(t);
            }
            for (JsonNode t : spec.path("tls")) {
                String secret = Json.text(t, "secretName");
                if (secret.isEmpty()) continue;
                for (JsonNode h : t.path("hosts")) {
                    tls.putIfAbsent(h.asText().toLowerCase(Locale.ROOT), new SecretRef(ns, secret));
                }
            }
        }
        return new Compiled(routes.build(), Map.copyOf(tls));
    }

    private boolean isOurs(ObjectNode ing, Set<String> ours, boolean oursIsDefault) {
        String cls = Json.text(ing.path("spec"), "ingressClassName");
        if (!cls.isEmpty()) return ours.contains(cls);
        String legacy = annotation(ing, CLASS_ANNOTATION);
        if (!legacy.isEmpty()) return ours.contains(legacy);
        return oursIsDefault;
    }

    /** The backend's target, shared between rules naming the same Service port; null for a resource backend. */
    private Routes.Target target(String ns, JsonNode backend, Map<String, ObjectNode> svcs, Map<String, List<ObjectNode>> slices,
            Map<String, Routes.Target> targets) {
        JsonNode svc = backend.path("service");
        if (svc.isMissingNode()) {
            if (backend.has("resource")) {
                LOG.log(System.Logger.Level.DEBUG, "ingress backend in " + ns + " names a resource; not routed");
            }
            return null;
        }
        String name = Json.text(svc, "name");
        JsonNode port = svc.path("port");
        String portKey = port.has("name") ? Json.text(port, "name") : Integer.toString(port.path("number").asInt());
        String k = ns + "/" + name + ":" + portKey;
        return targets.computeIfAbsent(k, x -> new Routes.Target(k, endpoints(ns, name, port, svcs, slices)));
    }

    private static List<InetSocketAddress> endpoints(String ns, String name, JsonNode port, Map<String, ObjectNode> svcs,
            Map<String, List<ObjectNode>> slices) {
        ObjectNode svc = svcs.get(ns + "/" + name);
        if (svc == null || "ExternalName".equals(Json.text(svc.path("spec"), "type"))) return List.of();
        JsonNode servicePort = null;
        for (JsonNode sp : svc.path("spec").path("ports")) {
            boolean hit = port.has("name") ? Json.text(port, "name").equals(Json.text(sp, "name"))
                    : port.path("number").asInt() == sp.path("port").asInt();
            if (hit) {
                servicePort = sp;
                break;
            }
        }
        if (servicePort == null) return List.of();
        String portName = Json.text(servicePort, "name");
        String protocol = servicePort.has("protocol") ? Json.text(servicePort, "protocol") : "TCP";
        Set<InetSocketAddress> out = new LinkedHashSet<>();
        for (ObjectNode slice : slices.getOrDefault(ns + "/" + name, List.of())) {
            int number = -1;
            for (JsonNode p : slice.path("ports")) {
                String proto = p.has("protocol") ? Json.text(p, "protocol") : "TCP";
                if (Json.text(p, "name").equals(portName) && proto.equals(protocol) && p.has("port")) {
                    number = p.path("port").asInt();
                    break;
                }
            }
            if (number <= 0) continue;
            for (JsonNode ep : slice.path("endpoints")) {
                // ready unset means ready (EndpointSlice API: "nil should be interpreted as true")
                JsonNode ready = ep.path("conditions").path("ready");
                if (ready.isBoolean() && !ready.asBoolean()) continue;
                for (JsonNode a : ep.path("addresses")) {
                    InetSocketAddress addr = literal(a.asText(), number);
                    if (addr != null) out.add(addr);
                }
            }
        }
        return new ArrayList<>(out);
    }

    /** An IP literal as an address without any name lookup; null (skipped) for anything else, such as an FQDN slice. */
    private static InetSocketAddress literal(String ip, int port) {
        if (ip.isEmpty() || !(Character.digit(ip.charAt(0), 16) >= 0 || ip.startsWith(":"))) return null;
        if (!ip.contains(":") && !ip.chars().allMatch(c -> c == '.' || Character.isDigit(c))) return null;
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static String annotation(ObjectNode obj, String name) {
        return Json.text(obj.path("metadata").path("annotations"), name);
    }

    private static String key(ObjectNode obj) {
        return Json.text(obj.path("metadata"), "namespace") + "/" + Json.text(obj.path("metadata"), "name");
    }
}
