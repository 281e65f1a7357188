package io.k3j.controllers.servicelb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The status half of k3s's ServiceLB (klipper-lb): every node's service proxy answers LoadBalancer ports on the
 * node's own addresses, and this controller publishes which nodes those are for each Service in
 * {@code status.loadBalancer.ingress} ({@code {ip, ipMode: VIP}}, sorted), which {@code kubectl get svc} prints
 * as EXTERNAL-IP. Node choice is {@link Placement}'s. A Service no node can answer keeps an empty status
 * ({@code <pending>}) and gets a Warning event saying why; a Service that stops being of type LoadBalancer has
 * its status cleared. Node ports and cluster IPs are the API server's; nothing else is allocated here.
 */
final class ServiceLbController implements ManagedController {
    static final String NAME = "service-lb-controller";
    static final String UNAVAILABLE = "UnAvailableLoadBalancer";

    private final ApiClient api;
    private final ResourceType servicesType;
    private final SharedInformer services;
    private final SharedInformer nodes;
    private final EventRecorder events;
    private final Controller controller;
    /** The last warning each Pending Service got, so a resync doesn't repeat it. */
    private final Map<String, String> warned = new ConcurrentHashMap<>();

    ServiceLbController(ControllerContext ctx) {
        this.api = ctx.api(NAME);
        this.servicesType = api.type("", "v1", "services");
        this.services = ctx.informer("", "v1", "services");
        this.nodes = ctx.informer("", "v1", "nodes");
        this.events = ctx.events(NAME);
        this.controller = new Controller(NAME, ctx.clock(), 2, this::sync);
        services.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                if (Placement.handled(obj)) enqueueAll();
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                // a Service's ports, type or pool change who holds which port on which node: everyone may move
                if (Placement.handled(oldObj) != Placement.handled(newObj) || !placementInputs(oldObj).equals(placementInputs(newObj))) {
                    enqueueAll();
                }
                controller.enqueue(Keys.of(newObj));
            }

            @Override
            public void onDelete(ObjectNode obj) {
                warned.remove(Keys.of(obj));
                if (Placement.handled(obj)) enqueueAll();
            }
        });
        nodes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                enqueueAll();
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                // heartbeats rewrite conditions every few seconds; only what changes placement matters
                if (!nodeInputs(oldObj).equals(nodeInputs(newObj))) enqueueAll();
            }

            @Override
            public void onDelete(ObjectNode obj) {
                enqueueAll();
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

    private void enqueueAll() {
        for (ObjectNode s : services.list()) {
            if (Placement.handled(s)) controller.enqueue(Keys.of(s));
        }
    }

    private Duration sync(String key) {
        ObjectNode svc = services.get(key);
        if (svc == null) {
            warned.remove(key);
            return null;
        }
        JsonNode current = Json.at(svc, "status", "loadBalancer", "ingress");
        if (!Placement.handled(svc)) {
            warned.remove(key);
            // a Service that stopped being ours loses the addresses we gave it (kube's service controller does
            // the same when the type changes); one with a loadBalancerClass belongs to another implementation
            boolean ours = !"LoadBalancer".equals(Json.text(svc.get("spec"), "type"));
            if (ours && current != null && !current.isEmpty()) writeStatus(key, Json.array());
            return null;
        }
        Placement.Assignment a = Placement.compute(nodes.list(), services.list()).get(key);
        ArrayNode desired = ingress(a.nodes(), svc);
        if (current == null ? !desired.isEmpty() : !current.equals(desired)) writeStatus(key, desired);
        if (desired.isEmpty()) {
            String message = whyPending(a);
            if (!message.equals(warned.put(key, message))) {
                events.event(svc, "v1", "Service", "Warning", UNAVAILABLE, message);
            }
        } else {
            warned.remove(key);
        }
        return null;
    }

    /** The event message of a Service no node answers. */
    static String whyPending(Placement.Assignment a) {
        if (a.eligible() == 0 || a.port() == null) return "There are no available nodes for LoadBalancer";
        return "There are no available nodes for LoadBalancer: port " + a.port() + " is already in use by Service " + a.holder()
                + " on " + (a.eligible() == 1 ? "the only eligible node" : "all " + a.eligible() + " eligible nodes");
    }

    /** {@code status.loadBalancer.ingress} for the nodes: their addresses, each once, sorted. */
    static ArrayNode ingress(List<ObjectNode> chosen, JsonNode svc) {
        TreeSet<String> ips = new TreeSet<>(Comparator.comparing(ServiceLbController::ipKey));
        for (ObjectNode n : chosen) ips.addAll(Placement.addresses(n, svc));
        ArrayNode out = Json.array();
        for (String ip : ips) out.addObject().put("ip", ip).put("ipMode", "VIP");
        return out;
    }

    private void writeStatus(String key, ArrayNode ingress) {
        api.modify(servicesType, Keys.namespace(key), Keys.name(key), "status", cur -> {
            ObjectNode lb = Json.obj(Json.obj(cur, "status"), "loadBalancer");
            if (ingress.isEmpty()) lb.remove("ingress");
            else lb.set("ingress", ingress);
            return cur;
        });
    }

    /** What of a Service decides placement, so other updates (status, annotations) don't move anyone. */
    private static List<Object> placementInputs(JsonNode svc) {
        return List.of(Placement.ports(svc).toString(), Json.text(Meta.labels(svc), Placement.LB_POOL),
                Objects.toString(svc.path("spec").path("ipFamilies")));
    }

    private static List<Object> nodeInputs(JsonNode node) {
        List<Object> out = new ArrayList<>();
        out.add(Placement.usable(node));
        out.add(Json.text(Meta.labels(node), Placement.ENABLE_LB));
        out.add(Json.text(Meta.labels(node), Placement.LB_POOL));
        out.add(Objects.toString(node.path("status").path("addresses")));
        return out;
    }

    /** IPv4 addresses sort numerically, IPv6 after them textually (a stable order kubectl prints as is). */
    static String ipKey(String ip) {
        String[] parts = ip.split("\\.");
        if (parts.length != 4 || !ip.matches("[0-9.]+")) return "~" + ip;
        StringBuilder sb = new StringBuilder();
        for (String p : parts) sb.append(String.format("%03d", Integer.parseInt(p)));
        return sb.toString();
    }
}
