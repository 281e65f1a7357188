package io.k3j.controllers.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * kube's node IPAM controller with the range allocator: every Node without {@code spec.podCIDR} gets the next
 * free {@code nodeCidrMaskSize} block of the cluster CIDR (in {@code spec.podCIDR} and {@code spec.podCIDRs});
 * blocks of deleted nodes are released. What is taken is rebuilt from the nodes at start, so a restarted or newly
 * elected controller never hands out a block twice.
 */
final class NodeIpamController implements ManagedController {
    private static final System.Logger LOG = System.getLogger(NodeIpamController.class.getName());
    /** How soon a node that found the range exhausted looks again (a release also wakes it). */
    private static final Duration RETRY = Duration.ofSeconds(30);

    private final ApiClient api;
    private final ResourceType nodeType;
    private final SharedInformer nodes;
    private final EventRecorder events;
    private final Controller controller;
    private final CidrSet cidrs;
    /** The block each node holds, as this controller knows it (to release it when the node goes). */
    private final Map<String, String> held = new ConcurrentHashMap<>();

    NodeIpamController(ControllerContext ctx) {
        this.api = ctx.api("node-ipam-controller");
        this.nodeType = api.type("", "v1", "nodes");
        this.nodes = ctx.informer("", "v1", "nodes");
        this.events = ctx.events("cidrAllocator");
        this.cidrs = new CidrSet(ipv4(ctx.config().clusterCidr()), ctx.config().nodeCidrMaskSize());
        this.controller = new Controller("node-ipam-controller", ctx.clock(), 1, this::sync);
        nodes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                controller.enqueue(Meta.name(obj));
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                if (podCidr(newObj).isEmpty() || !podCidr(newObj).equals(held.get(Meta.name(newObj)))) controller.enqueue(Meta.name(newObj));
            }

            @Override
            public void onDelete(ObjectNode obj) {
                controller.enqueue(Meta.name(obj));
            }
        });
    }

    @Override
    public void start() {
        // occupy what nodes hold before allocating anything (kube's occupyCIDRs at start)
        for (ObjectNode n : nodes.list()) {
            String cidr = podCidr(n);
            if (cidr.isEmpty()) continue;
            if (cidrs.occupy(cidr)) held.put(Meta.name(n), cidr);
            else LOG.log(System.Logger.Level.WARNING, "node {0} has pod CIDR {1} outside the cluster CIDR", Meta.name(n), cidr);
        }
        controller.start();
        for (ObjectNode n : nodes.list()) controller.enqueue(Meta.name(n));
    }

    @Override
    public void close() {
        controller.close();
    }

    /** The IPv4 range of a (possibly dual-stack, comma-separated) cluster CIDR; IPv6 pod ranges are not allocated. */
    static String ipv4(String clusterCidr) {
        for (String c : clusterCidr.split(",")) {
            if (!c.isBlank() && !c.contains(":")) return c.trim();
        }
        throw new IllegalArgumentException("cluster CIDR " + clusterCidr + " has no IPv4 range (expected: e.g. 10.42.0.0/16)");
    }

    private static String podCidr(JsonNode node) {
        String c = Json.text(node.get("spec"), "podCIDR");
        if (!c.isEmpty()) return c;
        JsonNode list = node.path("spec").path("podCIDRs");
        return list.isArray() && !list.isEmpty() ? list.get(0).asText("") : "";
    }

    private Duration sync(String name) {
        ObjectNode node = nodes.get("", name);
        if (node == null || Meta.deleting(node)) {
            String cidr = held.remove(name);
            if (cidr != null) {
                cidrs.release(cidr);
                // nodes waiting for a block may have one now
                for (ObjectNode n : nodes.list()) if (podCidr(n).isEmpty()) controller.enqueue(Meta.name(n));
            }
            return null;
        }
        String have = podCidr(node);
        if (!have.isEmpty()) {
            String before = held.put(name, have);
            if (!have.equals(before)) {
                if (before != null) cidrs.release(before);
                cidrs.occupy(have);
            }
            return null;
        }
        String cidr = held.get(name);
        if (cidr == null) {
            cidr = cidrs.allocateNext();
            if (cidr == null) {
                events.event(node, "v1", "Node", "Normal", "CIDRNotAvailable", "Node " + name + " status is now: CIDRNotAvailable");
                return RETRY;
            }
            held.put(name, cidr);
        }
        String block = cidr;
        try {
            api.modify(nodeType, "", name, "", n -> {
                ObjectNode spec = Json.obj(n, "spec");
                String now = podCidr(n);
                if (!now.isEmpty() && !now.equals(block)) return n; // someone else set one meanwhile: the next sync adopts it
                spec.put("podCIDR", block);
                spec.putArray("podCIDRs").add(block);
                return n;
            });
        } catch (RuntimeException e) {
            events.event(node, "v1", "Node", "Warning", "CIDRAssignmentFailed", "Node " + name + " status is now: CIDRAssignmentFailed");
            // keep the block reserved for this node only while the node exists; the retry allocates again
            held.remove(name, block);
            cidrs.release(block);
            throw e;
        }
        return null;
    }
}
