package io.k3j.controllers.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.runtime.ApiClient;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Node objects whose status the test maintains, standing in for kubelets: registered Ready with the given
 * capacity, heart-beating through their Lease in kube-node-lease and their Ready condition until
 * {@link #stopHeartbeat} (a node that lost its uplink).
 */
public final class FakeNodes implements AutoCloseable {
    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private final ApiClient api;
    private final ResourceType nodes;
    private final ResourceType leases;
    private final Clock clock;
    private final Set<String> beating = ConcurrentHashMap.newKeySet();
    private final Thread heart;
    private volatile boolean closed;

    public FakeNodes(ApiClient api, Clock clock, long heartbeatMillis) {
        this.api = api.as("fake-kubelet");
        this.nodes = api.type("", "v1", "nodes");
        this.leases = api.type("coordination.k8s.io", "v1", "leases");
        this.clock = clock;
        this.heart = Thread.ofVirtual().name("fake-node-heartbeats").start(() -> {
            while (!closed) {
                try {
                    Thread.sleep(heartbeatMillis);
                } catch (InterruptedException e) {
                    return;
                }
                for (String n : beating) {
                    try {
                        heartbeat(n);
                    } catch (RuntimeException e) {
                        // the node may have been deleted by the test
                    }
                }
            }
        });
    }

    public FakeNodes(ApiClient api) {
        this(api, api.clock(), 1000);
    }

    /** Registers a Ready node with {@code cpu} cores, {@code memory} (a quantity), 110 pods, and labels. */
    public ObjectNode add(String name, String cpu, String memory, Map<String, String> labels) {
        ObjectNode node = Json.object();
        ObjectNode meta = node.putObject("metadata");
        meta.put("name", name);
        ObjectNode l = meta.putObject("labels");
        l.put("kubernetes.io/hostname", name).put("kubernetes.io/os", "linux").put("kubernetes.io/arch", "amd64");
        labels.forEach(l::put);
        api.create(nodes, "", node);
        ObjectNode status = statusOf(cpu, memory);
        ObjectNode updated = api.modify(nodes, "", name, "status", n -> {
            n.set("status", status);
            return n;
        });
        beating.add(name);
        heartbeat(name);
        return updated;
    }

    public ObjectNode add(String name) {
        return add(name, "4", "8Gi", Map.of());
    }

    private ObjectNode statusOf(String cpu, String memory) {
        ObjectNode status = Json.object();
        for (String f : new String[] {"capacity", "allocatable"}) {
            status.putObject(f).put("cpu", cpu).put("memory", memory).put("pods", "110").put("ephemeral-storage", "100Gi");
        }
        ArrayNode conds = status.putArray("conditions");
        String now = Meta.timestamp(clock.instant());
        condition(conds, "MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", now);
        condition(conds, "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", now);
        condition(conds, "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", now);
        condition(conds, "Ready", "True", "KubeletReady", "kubelet is posting ready status", now);
        status.putArray("addresses").addObject().put("type", "InternalIP").put("address", "127.0.0.1");
        ObjectNode info = status.putObject("nodeInfo");
        info.put("kubeletVersion", "v1.32.0+k3j").put("containerRuntimeVersion", "fake://1.0").put("operatingSystem", "linux")
                .put("architecture", "amd64").put("osImage", "fake").put("kernelVersion", "6.1.0").put("machineID", "")
                .put("systemUUID", "").put("bootID", "").put("kubeProxyVersion", "");
        return status;
    }

    private static void condition(ArrayNode conds, String type, String status, String reason, String message, String now) {
        conds.addObject().put("type", type).put("status", status).put("lastHeartbeatTime", now).put("lastTransitionTime", now)
                .put("reason", reason).put("message", message);
    }

    /** Renews the node's Lease and the Ready condition's heartbeat, as the kubelet does every 10 s. */
    public void heartbeat(String name) {
        String now = MICRO.format(clock.instant());
        try {
            api.modify(leases, "kube-node-lease", name, "", l -> {
                Json.obj(l, "spec").put("renewTime", now);
                return l;
            });
        } catch (ApiException e) {
            if (e.code() != 404) throw e;
            ObjectNode lease = Json.object();
            lease.putObject("metadata").put("name", name).put("namespace", "kube-node-lease");
            lease.putObject("spec").put("holderIdentity", name).put("leaseDurationSeconds", 40).put("renewTime", now);
            api.create(leases, "kube-node-lease", lease);
        }
    }

    /** Sets the node's Ready condition (True, False, Unknown) as its kubelet would report it. */
    public void setReady(String name, String status) {
        String now = Meta.timestamp(clock.instant());
        api.modify(nodes, "", name, "status", n -> {
            for (var c : n.path("status").path("conditions")) {
                if (c.path("type").asText().equals("Ready")) {
                    ((ObjectNode) c).put("status", status).put("lastHeartbeatTime", now).put("lastTransitionTime", now);
                }
            }
            return n;
        });
    }

    /** The node stops renewing its Lease (lost uplink, power). */
    public void stopHeartbeat(String name) {
        beating.remove(name);
    }

    public void startHeartbeat(String name) {
        beating.add(name);
        heartbeat(name);
    }

    public void delete(String name) {
        beating.remove(name);
        api.deleteIfExists(nodes, "", name, null, null);
    }

    @Override
    public void close() {
        closed = true;
        heart.interrupt();
    }
}
