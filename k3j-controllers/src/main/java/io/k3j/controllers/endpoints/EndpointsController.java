package io.k3j.controllers.endpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * kube's endpoints controller (pkg/controller/endpoint): keeps the Endpoints object of every Service that has a
 * selector equal to the pods it selects — ready pods as {@code addresses}, the others as
 * {@code notReadyAddresses}, terminating pods left out — with named target ports resolved per pod. Services
 * without a selector (and so the API server's own {@code kubernetes} Service) keep Endpoints someone else wrote.
 */
final class EndpointsController implements ManagedController {
    /** Endpoints stops listing addresses past this many and says so in an annotation, as kube does. */
    static final int MAX_CAPACITY = 1000;
    static final String OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity";

    private final ApiClient api;
    private final ResourceType endpointsType;
    private final SharedInformer services;
    private final SharedInformer pods;
    private final SharedInformer endpoints;
    private final Controller controller;
    private final ServicePods.TriggerTimes triggerTimes = new ServicePods.TriggerTimes();

    EndpointsController(ControllerContext ctx) {
        this.api = ctx.api("endpoint-controller");
        this.endpointsType = api.type("", "v1", "endpoints");
        this.services = ctx.informer("", "v1", "services");
        this.pods = ctx.informer("", "v1", "pods");
        this.endpoints = ctx.informer("", "v1", "endpoints");
        this.controller = new Controller("endpoint-controller", ctx.clock(), 3, this::sync);
        services.addHandler(SharedInformer.Handler.onEvery(o -> controller.enqueue(Keys.of(o))));
        pods.addHandler(new PodToServices(services, controller::enqueue));
        endpoints.addHandler(new SharedInformer.Handler() {
            @Override
            public void onDelete(ObjectNode obj) {
                // someone deleted Endpoints the controller owns: write them again
                if (services.get(Keys.of(obj)) != null) controller.enqueue(Keys.of(obj));
            }
        });
    }

    @Override
    public void start() {
        controller.start();
        for (ObjectNode s : services.list()) controller.enqueue(Keys.of(s));
    }

    @Override
    public void close() {
        controller.close();
    }

    private Duration sync(String key) {
        String ns = Keys.namespace(key);
        String name = Keys.name(key);
        ObjectNode svc = services.get(key);
        if (svc == null) {
            // the Service is gone: so are its Endpoints (kube deletes them whoever wrote them)
            triggerTimes.forget(key);
            api.deleteIfExists(endpointsType, ns, name, null, null);
            return null;
        }
        LabelSelector selector = ServicePods.selector(svc);
        if (selector == null) return null;
        boolean tolerateUnready = ServicePods.publishNotReady(svc);
        List<ObjectNode> selected = ServicePods.selected(pods, svc, selector);

        // address -> the ports it serves, split by readiness; RepackSubsets groups addresses with equal port sets
        Map<String, Addr> addrs = new TreeMap<>();
        for (ObjectNode pod : selected) {
            if (!ServicePods.shouldBeInEndpoints(pod, tolerateUnready)) continue;
            boolean ready = tolerateUnready || Pods.ready(pod);
            ObjectNode address = Json.object();
            address.put("ip", Json.text(pod.get("status"), "podIP"));
            String hostname = ServicePods.hostname(pod, svc);
            if (!hostname.isEmpty()) address.put("hostname", hostname);
            String node = Json.text(pod.get("spec"), "nodeName");
            if (!node.isEmpty()) address.put("nodeName", node);
            address.set("targetRef", ServicePods.targetRef(pod));
            Addr a = new Addr(address, ready, new TreeMap<>());
            JsonNode svcPorts = svc.path("spec").path("ports");
            boolean any = false;
            for (JsonNode sp : svcPorts) {
                int port = ServicePods.targetPort(pod, sp);
                if (port < 0) continue; // this pod lacks the named port: it serves the others
                ObjectNode ep = Json.object();
                String portName = Json.text(sp, "name");
                if (!portName.isEmpty()) ep.put("name", portName);
                ep.put("port", port).put("protocol", sp.path("protocol").asText("TCP"));
                if (sp.hasNonNull("appProtocol")) ep.put("appProtocol", sp.get("appProtocol").asText());
                a.ports.put(portName + "/" + port + "/" + ep.path("protocol").asText(), ep);
                any = true;
            }
            // a headless Service without ports still publishes its pods' addresses
            if (!any && !(svcPorts.isEmpty() && ServicePods.headless(svc))) continue;
            addrs.put(Json.text(address, "ip") + "/" + Meta.uid(pod) + "/" + ready, a);
        }

        Map<String, ObjectNode> subsets = new TreeMap<>();
        int total = 0;
        boolean truncated = false;
        for (Addr a : addrs.values()) {
            if (total >= MAX_CAPACITY) {
                truncated = true;
                break;
            }
            total++;
            String portsKey = String.join(",", a.ports.keySet());
            ObjectNode subset = subsets.computeIfAbsent(portsKey, k -> {
                ObjectNode s = Json.object();
                s.putArray("addresses");
                s.putArray("notReadyAddresses");
                ArrayNode ps = s.putArray("ports");
                a.ports.values().forEach(ps::add);
                return s;
            });
            ((ArrayNode) subset.get(a.ready ? "addresses" : "notReadyAddresses")).add(a.address);
        }
        ArrayNode desiredSubsets = Json.array();
        for (ObjectNode s : subsets.values()) {
            sortByIp((ArrayNode) s.get("addresses"));
            sortByIp((ArrayNode) s.get("notReadyAddresses"));
            if (s.get("addresses").isEmpty()) s.remove("addresses");
            if (s.get("notReadyAddresses").isEmpty()) s.remove("notReadyAddresses");
            if (s.get("ports").isEmpty()) s.remove("ports");
            desiredSubsets.add(s);
        }
        String triggerTime = triggerTimes.compute(svc, selected);
        Map<String, String> labels = ServicePods.labels(svc);

        ObjectNode current = endpoints.get(key);
        if (current != null) {
            JsonNode curSubsets = current.path("subsets");
            boolean sameSubsets = curSubsets.isMissingNode() || curSubsets.isNull() ? desiredSubsets.isEmpty() : curSubsets.equals(desiredSubsets);
            boolean sameLabels = labelsOf(current).equals(labels);
            boolean sameCapacity = truncated == current.path("metadata").path("annotations").has(OVER_CAPACITY);
            if (sameSubsets && sameLabels && sameCapacity) return null;
        }
        ObjectNode desired = current == null ? Json.object() : current.deepCopy();
        desired.put("apiVersion", "v1").put("kind", "Endpoints");
        ObjectNode meta = Meta.metadata(desired);
        meta.put("name", name).put("namespace", ns);
        ObjectNode lbls = meta.putObject("labels");
        labels.forEach(lbls::put);
        ObjectNode ann = meta.has("annotations") && meta.get("annotations").isObject() ? (ObjectNode) meta.get("annotations") : meta.putObject("annotations");
        if (triggerTime != null) ann.put(ServicePods.TRIGGER_TIME, triggerTime);
        else ann.remove(ServicePods.TRIGGER_TIME);
        if (truncated) ann.put(OVER_CAPACITY, "truncated");
        else ann.remove(OVER_CAPACITY);
        if (ann.isEmpty()) meta.remove("annotations");
        desired.set("subsets", desiredSubsets);
        try {
            if (current == null) api.create(endpointsType, ns, desired);
            else api.update(endpointsType, desired);
        } catch (ApiException e) {
            // forget what this sync saw so the retry publishes the same trigger time
            triggerTimes.forget(key);
            throw e;
        }
        return null;
    }

    private record Addr(ObjectNode address, boolean ready, TreeMap<String, ObjectNode> ports) {}

    private static Map<String, String> labelsOf(JsonNode obj) {
        Map<String, String> out = new TreeMap<>();
        ServicePods.labelsOf(obj).properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private static void sortByIp(ArrayNode addrs) {
        List<JsonNode> l = new ArrayList<>();
        addrs.forEach(l::add);
        l.sort(Comparator.comparing((JsonNode a) -> ipKey(Json.text(a, "ip"))).thenComparing(a -> a.path("targetRef").path("uid").asText()));
        addrs.removeAll();
        l.forEach(addrs::add);
    }

    /** IPv4 addresses sort numerically; anything else after them, textually. */
    static String ipKey(String ip) {
        String[] parts = ip.split("\\.");
        if (parts.length != 4 || !ip.matches("[0-9.]+")) return "~" + ip;
        StringBuilder sb = new StringBuilder();
        for (String p : parts) sb.append(String.format("%03d", Integer.parseInt(p)));
        return sb.toString();
    }
}
