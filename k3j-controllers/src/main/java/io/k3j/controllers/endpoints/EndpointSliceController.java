package io.k3j.controllers.endpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.common.Owners;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * kube's EndpointSlice controller (pkg/controller/endpointslice): the pods a Service selects as
 * discovery.k8s.io/v1 EndpointSlices of at most {@value #MAX_ENDPOINTS} endpoints, one set of slices per
 * distinct port mapping (named ports may resolve differently per pod). Terminating pods stay, with
 * {@code ready=false}. Updates keep churn low as kube's reconciler does: an endpoint stays in the slice it is in,
 * slices that change take new endpoints first, and a slice is only written when its content differs.
 */
final class EndpointSliceController implements ManagedController {
    static final int MAX_ENDPOINTS = 100;
    static final String SERVICE_NAME = "kubernetes.io/service-name";
    static final String MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
    static final String CONTROLLER_NAME = "endpointslice-controller.k8s.io";
    static final String ZONE = "topology.kubernetes.io/zone";
    private static final String BY_SERVICE = "endpointslice-service";

    private final ApiClient api;
    private final ResourceType sliceType;
    private final SharedInformer services;
    private final SharedInformer pods;
    private final SharedInformer slices;
    private final SharedInformer nodes;
    private final Controller controller;
    private final ServicePods.TriggerTimes triggerTimes = new ServicePods.TriggerTimes();
    /**
     * What this controller last wrote per Service (slice name → resourceVersion, or "" for deleted), so a sync
     * waits for the informer to catch up instead of acting on slices it already changed (kube's
     * endpointSliceTracker) — acting on a stale view would create duplicate slices.
     */
    private final Map<String, Map<String, String>> written = new ConcurrentHashMap<>();

    EndpointSliceController(ControllerContext ctx) {
        this.api = ctx.api("endpointslice-controller");
        this.sliceType = api.type("discovery.k8s.io", "v1", "endpointslices");
        this.services = ctx.informer("", "v1", "services");
        this.pods = ctx.informer("", "v1", "pods");
        this.slices = ctx.informer("discovery.k8s.io", "v1", "endpointslices");
        this.nodes = ctx.informer("", "v1", "nodes");
        this.controller = new Controller("endpointslice-controller", ctx.clock(), 3, this::sync);
        slices.addIndexer(BY_SERVICE, s -> {
            String svc = ServicePods.labelsOf(s).path(SERVICE_NAME).asText("");
            return svc.isEmpty() ? List.of() : List.of(Keys.of(Meta.namespace(s), svc));
        });
        services.addHandler(SharedInformer.Handler.onEvery(o -> controller.enqueue(Keys.of(o))));
        pods.addHandler(new PodToServices(services, controller::enqueue));
        slices.addHandler(SharedInformer.Handler.onEvery(this::onSlice));
        nodes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                // endpoints carry their node's zone: a node that moves zone changes every Service with pods on it
                if (oldObj != newObj && !zoneOf(oldObj).equals(zoneOf(newObj))) {
                    for (ObjectNode s : services.list()) controller.enqueue(Keys.of(s));
                }
            }
        });
    }

    private void onSlice(ObjectNode slice) {
        if (!managed(slice)) return;
        String svc = ServicePods.labelsOf(slice).path(SERVICE_NAME).asText("");
        if (!svc.isEmpty()) controller.enqueue(Keys.of(Meta.namespace(slice), svc));
    }

    private static boolean managed(JsonNode slice) {
        return CONTROLLER_NAME.equals(ServicePods.labelsOf(slice).path(MANAGED_BY).asText(""));
    }

    private static String zoneOf(JsonNode node) {
        return node == null ? "" : ServicePods.labelsOf(node).path(ZONE).asText("");
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

    private List<ObjectNode> managedSlices(String key) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode s : slices.byIndex(BY_SERVICE, key)) if (managed(s)) out.add(s);
        out.sort((a, b) -> Meta.name(a).compareTo(Meta.name(b)));
        return out;
    }

    /** True when the informer shows every write this controller made for the Service. */
    private boolean caughtUp(String key) {
        Map<String, String> w = written.get(key);
        if (w == null) return true;
        String ns = Keys.namespace(key);
        for (Iterator<Map.Entry<String, String>> it = w.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, String> e = it.next();
            ObjectNode seen = slices.get(ns, e.getKey());
            boolean ok = e.getValue().isEmpty() ? seen == null : seen != null && newerOrSame(Meta.resourceVersion(seen), e.getValue());
            if (ok) it.remove();
            else return false;
        }
        written.remove(key, Map.of());
        return true;
    }

    private static boolean newerOrSame(String seen, String expected) {
        try {
            return Long.parseLong(seen) >= Long.parseLong(expected);
        } catch (NumberFormatException e) {
            return seen.equals(expected);
        }
    }

    private void remember(String key, String slice, String rv) {
        written.computeIfAbsent(key, k -> new ConcurrentHashMap<>()).put(slice, rv);
    }

    private Duration sync(String key) {
        String ns = Keys.namespace(key);
        ObjectNode svc = services.get(key);
        if (!caughtUp(key)) return Duration.ofMillis(50);
        List<ObjectNode> existing = managedSlices(key);
        if (svc == null) {
            // the garbage collector would remove them through the owner reference; no need to wait for it
            for (ObjectNode s : existing) {
                if (api.deleteIfExists(sliceType, ns, Meta.name(s), Meta.uid(s), null)) remember(key, Meta.name(s), "");
            }
            triggerTimes.forget(key);
            return null;
        }
        LabelSelector selector = ServicePods.selector(svc);
        if (selector == null) return null;
        List<ObjectNode> selected = ServicePods.selected(pods, svc, selector);

        // desired endpoints grouped by the ports they serve
        Map<String, Group> desired = new TreeMap<>();
        for (ObjectNode pod : selected) {
            if (!ServicePods.shouldBeInEndpoints(pod, true)) continue;
            ArrayNode addresses = Json.array();
            for (JsonNode ip : pod.path("status").path("podIPs")) {
                String a = ip.path("ip").asText("");
                if (!a.isEmpty() && !a.contains(":")) addresses.add(a);
            }
            if (addresses.isEmpty()) {
                String a = Json.text(pod.get("status"), "podIP");
                if (a.isEmpty() || a.contains(":")) continue;
                addresses.add(a);
            }
            ArrayNode ports = Json.array();
            for (JsonNode sp : svc.path("spec").path("ports")) {
                int port = ServicePods.targetPort(pod, sp);
                if (port < 0) continue;
                ObjectNode p = ports.addObject();
                p.put("name", Json.text(sp, "name")).put("port", port).put("protocol", sp.path("protocol").asText("TCP"));
                if (sp.hasNonNull("appProtocol")) p.put("appProtocol", sp.get("appProtocol").asText());
            }
            String pk = portsKey(ports);
            Group g = desired.computeIfAbsent(pk, k -> new Group(ports, new LinkedHashMap<>()));
            g.endpoints.put(Meta.uid(pod), endpoint(pod, svc, addresses));
        }

        String triggerTime = triggerTimes.compute(svc, selected);
        Map<String, String> labels = labels(svc);
        Plan plan = new Plan();
        Map<String, List<ObjectNode>> existingByPorts = new TreeMap<>();
        for (ObjectNode s : existing) existingByPorts.computeIfAbsent(portsKey(s.path("ports")), k -> new ArrayList<>()).add(s);

        int desiredCount = desired.values().stream().mapToInt(g -> g.endpoints.size()).sum();
        if (desiredCount == 0) {
            // kube keeps one empty "placeholder" slice for a Service that selects nothing
            ObjectNode keep = null;
            for (ObjectNode s : existing) {
                if (keep == null && s.path("endpoints").isEmpty() && s.path("ports").isEmpty()) keep = s;
                else plan.delete.add(s);
            }
            if (keep == null) plan.create.add(newSlice(svc, Json.array(), Json.array()));
            else if (!labelsOf(keep).equals(labels) || !ownedBy(keep, svc)) plan.update.add(keep.deepCopy());
        } else {
            for (Map.Entry<String, List<ObjectNode>> e : existingByPorts.entrySet()) {
                if (!desired.containsKey(e.getKey())) plan.delete.addAll(e.getValue());
            }
            for (Map.Entry<String, Group> e : desired.entrySet()) {
                reconcileGroup(svc, e.getValue(), existingByPorts.getOrDefault(e.getKey(), List.of()), labels, plan);
            }
        }
        apply(key, svc, plan, labels, triggerTime);
        return null;
    }

    private record Group(ArrayNode ports, LinkedHashMap<String, ObjectNode> endpoints) {}

    private static final class Plan {
        final List<ObjectNode> create = new ArrayList<>();
        final List<ObjectNode> update = new ArrayList<>();
        final List<ObjectNode> delete = new ArrayList<>();
    }

    /** kube's reconcileByAddressType for one port mapping: keep endpoints where they are, fill gaps, then add slices. */
    private void reconcileGroup(ObjectNode svc, Group group, List<ObjectNode> existing, Map<String, String> labels, Plan plan) {
        LinkedHashMap<String, ObjectNode> remaining = new LinkedHashMap<>(group.endpoints);
        List<ObjectNode> updating = new ArrayList<>();
        List<ObjectNode> unchanged = new ArrayList<>();
        for (ObjectNode s : existing) {
            ArrayNode kept = Json.array();
            boolean changed = false;
            for (JsonNode ep : s.path("endpoints")) {
                String uid = ep.path("targetRef").path("uid").asText("");
                ObjectNode want = remaining.remove(uid);
                if (want == null) {
                    changed = true;
                    continue;
                }
                if (!want.equals(ep)) changed = true;
                kept.add(want);
            }
            if (kept.isEmpty()) {
                plan.delete.add(s);
                continue;
            }
            if (changed || !labelsOf(s).equals(labels) || !ownedBy(s, svc)) {
                ObjectNode copy = s.deepCopy();
                copy.set("endpoints", kept);
                updating.add(copy);
            } else {
                unchanged.add(s);
            }
        }
        // new endpoints go first into slices that are written anyway, then into one unchanged slice with room
        Iterator<ObjectNode> todo = remaining.values().iterator();
        for (ObjectNode s : updating) {
            ArrayNode eps = (ArrayNode) s.get("endpoints");
            while (todo.hasNext() && eps.size() < MAX_ENDPOINTS) eps.add(todo.next());
        }
        for (ObjectNode s : unchanged) {
            if (!todo.hasNext()) break;
            if (s.path("endpoints").size() >= MAX_ENDPOINTS) continue;
            ObjectNode copy = s.deepCopy();
            ArrayNode eps = (ArrayNode) copy.get("endpoints");
            while (todo.hasNext() && eps.size() < MAX_ENDPOINTS) eps.add(todo.next());
            updating.add(copy);
        }
        while (todo.hasNext()) {
            ArrayNode eps = Json.array();
            while (todo.hasNext() && eps.size() < MAX_ENDPOINTS) eps.add(todo.next());
            plan.create.add(newSlice(svc, group.ports.deepCopy(), eps));
        }
        plan.update.addAll(updating);
    }

    private void apply(String key, ObjectNode svc, Plan plan, Map<String, String> labels, String triggerTime) {
        String ns = Meta.namespace(svc);
        // creates first, so a Service never lacks endpoints between a delete and a create
        for (ObjectNode s : plan.create) {
            stamp(s, svc, labels, triggerTime);
            ObjectNode created = api.create(sliceType, ns, s);
            remember(key, Meta.name(created), Meta.resourceVersion(created));
        }
        for (ObjectNode s : plan.update) {
            stamp(s, svc, labels, triggerTime);
            ObjectNode updated = api.update(sliceType, s);
            remember(key, Meta.name(updated), Meta.resourceVersion(updated));
        }
        for (ObjectNode s : plan.delete) {
            if (api.deleteIfExists(sliceType, ns, Meta.name(s), Meta.uid(s), null)) remember(key, Meta.name(s), "");
        }
    }

    private ObjectNode newSlice(ObjectNode svc, ArrayNode ports, ArrayNode endpoints) {
        ObjectNode s = Json.object();
        s.put("apiVersion", "discovery.k8s.io/v1").put("kind", "EndpointSlice");
        ObjectNode meta = s.putObject("metadata");
        meta.put("generateName", generateName(Meta.name(svc))).put("namespace", Meta.namespace(svc));
        s.put("addressType", "IPv4");
        s.set("endpoints", endpoints);
        s.set("ports", ports);
        return s;
    }

    /** {@code <service>-}, shortened so the server's five random characters still fit a name (kube's getEndpointSlicePrefix). */
    static String generateName(String svc) {
        String prefix = svc + "-";
        return prefix.length() > 58 ? svc.substring(0, 57) + "-" : prefix;
    }

    /** Labels, owner reference and trigger time every slice written carries. */
    private static void stamp(ObjectNode slice, ObjectNode svc, Map<String, String> labels, String triggerTime) {
        ObjectNode meta = Meta.metadata(slice);
        ObjectNode l = meta.putObject("labels");
        labels.forEach(l::put);
        meta.putArray("ownerReferences").add(Owners.reference(svc, "v1", "Service"));
        ObjectNode ann = meta.has("annotations") && meta.get("annotations").isObject() ? (ObjectNode) meta.get("annotations") : meta.putObject("annotations");
        if (triggerTime != null) ann.put(ServicePods.TRIGGER_TIME, triggerTime);
        else ann.remove(ServicePods.TRIGGER_TIME);
        if (ann.isEmpty()) meta.remove("annotations");
    }

    private static boolean ownedBy(JsonNode slice, JsonNode svc) {
        JsonNode ref = Owners.controllerRef(slice);
        return ref != null && ref.path("uid").asText().equals(Meta.uid(svc));
    }

    /** The Service's labels plus the two that name it and this controller (kube's setEndpointSliceLabels). */
    private static Map<String, String> labels(JsonNode svc) {
        Map<String, String> out = new TreeMap<>(ServicePods.labels(svc));
        out.put(SERVICE_NAME, Meta.name(svc));
        out.put(MANAGED_BY, CONTROLLER_NAME);
        return out;
    }

    private static Map<String, String> labelsOf(JsonNode obj) {
        Map<String, String> out = new TreeMap<>();
        ServicePods.labelsOf(obj).properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    /** An order-independent identity of a port list, tolerant of defaulted fields. */
    private static String portsKey(JsonNode ports) {
        List<String> parts = new ArrayList<>();
        for (JsonNode p : ports) {
            parts.add(p.path("name").asText("") + "/" + p.path("port").asInt() + "/" + p.path("protocol").asText("TCP") + "/"
                    + p.path("appProtocol").asText(""));
        }
        parts.sort(null);
        return String.join(",", parts);
    }

    private ObjectNode endpoint(ObjectNode pod, ObjectNode svc, ArrayNode addresses) {
        boolean serving = Pods.ready(pod);
        boolean terminating = Meta.deleting(pod);
        // ready is never true for a terminating pod unless the Service publishes not-ready addresses
        boolean ready = ServicePods.publishNotReady(svc) || (serving && !terminating);
        ObjectNode ep = Json.object();
        ep.set("addresses", addresses);
        ep.putObject("conditions").put("ready", ready).put("serving", serving).put("terminating", terminating);
        String hostname = ServicePods.hostname(pod, svc);
        if (!hostname.isEmpty()) ep.put("hostname", hostname);
        ep.set("targetRef", ServicePods.targetRef(pod));
        String nodeName = Json.text(pod.get("spec"), "nodeName");
        if (!nodeName.isEmpty()) {
            ep.put("nodeName", nodeName);
            String zone = zoneOf(nodes.get("", nodeName));
            if (!zone.isEmpty()) ep.put("zone", zone);
        }
        return ep;
    }

    @Override
    public String toString() {
        return "endpointslice-controller[" + Objects.requireNonNull(controller.name()) + "]";
    }
}
