package io.k3j.apiserver.registry.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Services: a cluster IP from the service CIDR (unless headless or ExternalName) and node ports from
 * 30000-32767 for NodePort and LoadBalancer Services, plus {@code spec.healthCheckNodePort} from the same range for
 * LoadBalancer Services with {@code externalTrafficPolicy: Local} (where the node's service proxy reports whether
 * it has local endpoints); never two Services with one value, and values freed when the Service goes away or
 * stops needing them.
 */
public final class ServiceStrategy extends BuiltinStrategy {
    private final Allocators.IpRange ips;
    private final Allocators.PortRange ports = new Allocators.PortRange(30000, 32767);
    /**
     * What the write in progress allocated, so a failed write gives it back. Keyed by object identity: the
     * object's content (its resourceVersion) changes between allocate and committed, and two writes may
     * carry equal objects.
     */
    private final Map<ObjectNode, List<Runnable>> pending = Collections.synchronizedMap(new IdentityHashMap<>());

    public ServiceStrategy(String serviceCidr) {
        super(Set.of());
        this.ips = new Allocators.IpRange(serviceCidr);
    }

    /** The address of the {@code kubernetes} Service (first of the range). */
    public String kubernetesServiceIp() {
        return ips.at(1);
    }

    /** Marks what stored Services use as taken (at start, before serving). */
    public void restore(Iterable<ObjectNode> services) {
        for (ObjectNode s : services) {
            String ip = Json.text(s.get("spec"), "clusterIP");
            if (!ip.isEmpty() && !ip.equals("None")) ips.restore(ip);
            for (int p : nodePorts(s)) ports.restore(p);
            if (healthCheckNodePort(s) > 0) ports.restore(healthCheckNodePort(s));
        }
    }

    @Override
    public void prepareForCreate(ResourceType type, ObjectNode obj) {
        obj.putObject("status").putObject("loadBalancer");
    }

    /**
     * Before validation, as kube-apiserver's service storage does: values the client left out are patched in
     * from the stored Service ({@code patchAllocatedValues}, so a PUT of the original manifest keeps its IP and
     * node ports), and fields a type change makes meaningless are dropped when the client didn't touch them
     * ({@code dropTypeDependentFields}, so NodePort -> ClusterIP needs no hand-cleaning).
     */
    @Override
    public void prepareForUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        super.prepareForUpdate(type, obj, old);
        ObjectNode spec = Json.obj(obj, "spec");
        JsonNode oldSpec = old.path("spec");
        if (needsClusterIp(old) && needsClusterIp(obj)) {
            if (Json.text(spec, "clusterIP").isEmpty() && oldSpec.has("clusterIP")) spec.set("clusterIP", oldSpec.get("clusterIP").deepCopy());
            JsonNode ips = spec.get("clusterIPs");
            if ((ips == null || ips.isNull() || ips.isEmpty()) && oldSpec.path("clusterIPs").size() > 0) {
                spec.set("clusterIPs", oldSpec.get("clusterIPs").deepCopy());
            }
        }
        if (needsNodePorts(old) && needsNodePorts(obj)) {
            Set<Integer> used = new HashSet<>(nodePorts(old));
            used.retainAll(nodePorts(obj));
            Map<String, Integer> byName = new java.util.HashMap<>();
            old.path("spec").path("ports").forEach(p -> byName.put(p.path("name").asText(""), p.path("nodePort").asInt(0)));
            if (spec.get("ports") instanceof ArrayNode ports) {
                for (JsonNode p : ports) {
                    Integer was = byName.get(p.path("name").asText(""));
                    if (p instanceof ObjectNode port && port.path("nodePort").asInt(0) == 0 && was != null && was != 0 && !used.contains(was)) {
                        port.put("nodePort", was);
                    }
                }
            }
        }
        if (needsClusterIp(old) && !needsClusterIp(obj) && oldSpec.path("clusterIP").equals(spec.path("clusterIP"))
                && oldSpec.path("clusterIPs").equals(spec.path("clusterIPs"))) {
            spec.remove("clusterIP");
            spec.remove("clusterIPs");
        }
        if (needsNodePorts(old) && !needsNodePorts(obj) && new HashSet<>(nodePorts(old)).containsAll(nodePorts(obj))) {
            if (spec.get("ports") instanceof ArrayNode ports) ports.forEach(p -> ((ObjectNode) p).remove("nodePort"));
        }
        if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(obj) && healthCheckNodePort(obj) == 0 && healthCheckNodePort(old) > 0) {
            spec.put("healthCheckNodePort", healthCheckNodePort(old));
        }
        if (needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(obj) && healthCheckNodePort(obj) == healthCheckNodePort(old)) {
            spec.remove("healthCheckNodePort");
        }
        if (externallyAccessible(old) && !externallyAccessible(obj)
                && oldSpec.path("externalTrafficPolicy").equals(spec.path("externalTrafficPolicy"))) {
            spec.remove("externalTrafficPolicy");
        }
        if (!"LoadBalancer".equals(Json.text(spec, "type")) && obj.get("status") instanceof ObjectNode status) {
            status.putObject("loadBalancer");
        }
    }

    private static String typeOf(JsonNode svc) {
        String t = Json.text(svc.get("spec"), "type");
        return t.isEmpty() ? "ClusterIP" : t;
    }

    private static boolean needsClusterIp(JsonNode svc) {
        return !typeOf(svc).equals("ExternalName");
    }

    private static boolean needsNodePorts(JsonNode svc) {
        return typeOf(svc).equals("NodePort") || typeOf(svc).equals("LoadBalancer");
    }

    /** As kube-apiserver: only a LoadBalancer keeping the client's address has a port for health checks. */
    private static boolean needsHealthCheckNodePort(JsonNode svc) {
        return typeOf(svc).equals("LoadBalancer") && "Local".equals(Json.text(svc.get("spec"), "externalTrafficPolicy"));
    }

    private static int healthCheckNodePort(JsonNode svc) {
        return svc.path("spec").path("healthCheckNodePort").asInt(0);
    }

    private static boolean externallyAccessible(JsonNode svc) {
        return needsNodePorts(svc) || (typeOf(svc).equals("ClusterIP") && svc.path("spec").path("externalIPs").size() > 0);
    }

    /** A value printed as is in a field error, as Go's %#v prints a slice. */
    private record GoLiteral(String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    @Override
    public void allocate(ResourceType type, ObjectNode obj, ObjectNode old) {
        List<Runnable> undo = new ArrayList<>();
        List<Cause> causes = new ArrayList<>();
        ObjectNode spec = Json.obj(obj, "spec");
        String svcType = Json.text(spec, "type").isEmpty() ? "ClusterIP" : Json.text(spec, "type");
        String oldIp = old == null ? "" : Json.text(old.get("spec"), "clusterIP");
        if (svcType.equals("ExternalName")) {
            spec.remove("clusterIP");
            spec.remove("clusterIPs");
        } else if (old == null || oldIp.isEmpty()) {
            String ip = Json.text(spec, "clusterIP");
            try {
                if (ip.isEmpty()) {
                    String got = ips.allocateRandom();
                    spec.put("clusterIP", got);
                    undo.add(() -> ips.release(got));
                } else if (!ip.equals("None")) {
                    ips.allocate(ip);
                    undo.add(() -> ips.release(ip));
                }
                spec.putArray("clusterIPs").add(spec.get("clusterIP").asText());
            } catch (Allocators.AllocationException e) {
                causes.add(Cause.invalid("spec.clusterIPs", new GoLiteral("[]string{\"" + ip + "\"}"), e.getMessage()));
            }
        }
        Set<Integer> before = old == null ? Set.of() : new HashSet<>(nodePorts(old));
        boolean wantsNodePorts = svcType.equals("NodePort") || svcType.equals("LoadBalancer");
        JsonNode list = spec.get("ports");
        if (list instanceof ArrayNode arr) {
            for (int i = 0; i < arr.size(); i++) {
                if (!(arr.get(i) instanceof ObjectNode port)) continue;
                int np = port.path("nodePort").asInt(0);
                if (!wantsNodePorts) {
                    port.remove("nodePort");
                    continue;
                }
                try {
                    if (np == 0) {
                        int got = ports.allocateRandom();
                        port.put("nodePort", got);
                        undo.add(() -> ports.release(got));
                    } else if (!before.contains(np)) {
                        ports.allocate(np);
                        undo.add(() -> ports.release(np));
                    }
                } catch (Allocators.AllocationException e) {
                    causes.add(Cause.invalid("spec.ports[" + i + "].nodePort", np, e.getMessage()));
                }
            }
        }
        int hc = healthCheckNodePort(obj);
        int oldHc = old == null ? 0 : healthCheckNodePort(old);
        if (needsHealthCheckNodePort(obj)) {
            try {
                if (hc == 0) {
                    int got = ports.allocateRandom();
                    spec.put("healthCheckNodePort", got);
                    undo.add(() -> ports.release(got));
                } else if (hc != oldHc) {
                    ports.allocate(hc);
                    undo.add(() -> ports.release(hc));
                }
            } catch (Allocators.AllocationException e) {
                causes.add(Cause.invalid("spec.healthCheckNodePort", hc, e.getMessage()));
            }
        } else if (hc != 0) {
            causes.add(Cause.invalid("spec.healthCheckNodePort", hc,
                    "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
        }
        if (!causes.isEmpty()) {
            undo.forEach(Runnable::run);
            throw ApiException.invalid("", "Service", Meta.name(obj), causes);
        }
        if (old != null) {
            // what the old spec held and the new one doesn't is freed once the write succeeds
            Set<Integer> now = new HashSet<>(nodePorts(obj));
            List<Runnable> release = new ArrayList<>();
            for (int p : before) if (!now.contains(p)) release.add(() -> ports.release(p));
            if (oldHc > 0 && oldHc != healthCheckNodePort(obj)) release.add(() -> ports.release(oldHc));
            String newIp = Json.text(spec, "clusterIP");
            if (!oldIp.isEmpty() && !oldIp.equals("None") && !oldIp.equals(newIp)) release.add(() -> ips.release(oldIp));
            pendingRelease.put(obj, release);
        }
        pending.put(obj, undo);
    }

    /** What an update frees once it is stored (by object identity, like {@link #pending}). */
    private final Map<ObjectNode, List<Runnable>> pendingRelease = Collections.synchronizedMap(new IdentityHashMap<>());

    @Override
    public void abort(ResourceType type, ObjectNode obj, ObjectNode old) {
        List<Runnable> undo = pending.remove(obj);
        pendingRelease.remove(obj);
        if (undo != null) undo.forEach(Runnable::run);
    }

    @Override
    public void committed(ResourceType type, ObjectNode obj) {
        pending.remove(obj);
        List<Runnable> release = pendingRelease.remove(obj);
        if (release != null) release.forEach(Runnable::run);
    }

    @Override
    public void afterDelete(ResourceType type, ObjectNode obj) {
        String ip = Json.text(obj.get("spec"), "clusterIP");
        if (!ip.isEmpty() && !ip.equals("None")) ips.release(ip);
        for (int p : nodePorts(obj)) ports.release(p);
        if (healthCheckNodePort(obj) > 0) ports.release(healthCheckNodePort(obj));
    }

    private static List<Integer> nodePorts(ObjectNode svc) {
        List<Integer> out = new ArrayList<>();
        JsonNode list = Json.at(svc, "spec", "ports");
        if (list != null) list.forEach(p -> {
            if (p.path("nodePort").asInt(0) > 0) out.add(p.get("nodePort").asInt());
        });
        return out;
    }
}
