package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.util.List;
import java.util.Map;

/** Builders for Node and Pod JSON as the API server would store them. */
final class Fixtures {

    private Fixtures() {
    }

    static NodeBuilder node(String name) {
        return new NodeBuilder(name);
    }

    static PodBuilder pod(String name) {
        return new PodBuilder(name);
    }

    static final class NodeBuilder {
        final ObjectNode o = Json.object();

        NodeBuilder(String name) {
            o.put("apiVersion", "v1").put("kind", "Node");
            o.putObject("metadata").put("name", name).putObject("labels").put("kubernetes.io/hostname", name);
            ObjectNode alloc = o.putObject("status").putObject("allocatable");
            alloc.put("cpu", "4").put("memory", "8Gi").put("pods", "110").put("ephemeral-storage", "100Gi");
            condition("Ready", "True");
        }

        NodeBuilder label(String k, String v) {
            ((ObjectNode) o.get("metadata").get("labels")).put(k, v);
            return this;
        }

        NodeBuilder zone(String z) {
            return label("topology.kubernetes.io/zone", z);
        }

        NodeBuilder alloc(String resource, String q) {
            ((ObjectNode) o.get("status").get("allocatable")).put(resource, q);
            return this;
        }

        NodeBuilder taint(String key, String value, String effect) {
            ObjectNode t = Json.obj(o, "spec").withArray("taints").addObject().put("key", key).put("effect", effect);
            if (value != null) t.put("value", value);
            return this;
        }

        NodeBuilder unschedulable() {
            Json.obj(o, "spec").put("unschedulable", true);
            return this;
        }

        NodeBuilder condition(String type, String status) {
            ArrayNode conds = ((ObjectNode) o.get("status")).withArray("conditions");
            for (int i = 0; i < conds.size(); i++) if (conds.get(i).path("type").asText().equals(type)) conds.remove(i);
            conds.addObject().put("type", type).put("status", status);
            return this;
        }

        ObjectNode json() {
            return o;
        }

        NodeInfo info() {
            return NodeInfo.of(o);
        }
    }

    static final class PodBuilder {
        final ObjectNode o = Json.object();
        final ObjectNode spec;
        final ObjectNode container;

        PodBuilder(String name) {
            o.put("apiVersion", "v1").put("kind", "Pod");
            o.putObject("metadata").put("name", name).put("namespace", "default").put("uid", "uid-" + name);
            spec = o.putObject("spec");
            container = spec.putArray("containers").addObject().put("name", "c").put("image", "busybox");
        }

        PodBuilder ns(String ns) {
            ((ObjectNode) o.get("metadata")).put("namespace", ns);
            return this;
        }

        PodBuilder label(String k, String v) {
            Json.obj((ObjectNode) o.get("metadata"), "labels").put(k, v);
            return this;
        }

        PodBuilder request(String resource, String q) {
            Json.obj(Json.obj(container, "resources"), "requests").put(resource, q);
            return this;
        }

        PodBuilder cpu(String q) {
            return request("cpu", q);
        }

        PodBuilder mem(String q) {
            return request("memory", q);
        }

        PodBuilder container(String cpu, String mem) {
            ObjectNode c = spec.withArray("containers").addObject().put("name", "c" + spec.get("containers").size());
            c.putObject("resources").putObject("requests").put("cpu", cpu).put("memory", mem);
            return this;
        }

        PodBuilder init(String cpu, String mem, boolean sidecar) {
            ObjectNode c = spec.withArray("initContainers").addObject().put("name", "i" + spec.withArray("initContainers").size());
            if (sidecar) c.put("restartPolicy", "Always");
            c.putObject("resources").putObject("requests").put("cpu", cpu).put("memory", mem);
            return this;
        }

        PodBuilder overhead(String cpu) {
            spec.putObject("overhead").put("cpu", cpu);
            return this;
        }

        PodBuilder nodeName(String n) {
            spec.put("nodeName", n);
            return this;
        }

        PodBuilder nodeSelector(String k, String v) {
            Json.obj(spec, "nodeSelector").put(k, v);
            return this;
        }

        PodBuilder requiredNode(String key, String op, String... values) {
            ObjectNode na = Json.obj(Json.obj(spec, "affinity"), "nodeAffinity");
            ObjectNode req = Json.obj(na, "requiredDuringSchedulingIgnoredDuringExecution");
            ObjectNode e = req.withArray("nodeSelectorTerms").addObject().withArray("matchExpressions").addObject();
            e.put("key", key).put("operator", op);
            ArrayNode vs = e.putArray("values");
            for (String v : values) vs.add(v);
            return this;
        }

        PodBuilder preferredNode(int weight, String key, String value) {
            ObjectNode na = Json.obj(Json.obj(spec, "affinity"), "nodeAffinity");
            ObjectNode p = na.withArray("preferredDuringSchedulingIgnoredDuringExecution").addObject().put("weight", weight);
            ObjectNode e = p.putObject("preference").withArray("matchExpressions").addObject();
            e.put("key", key).put("operator", "In").putArray("values").add(value);
            return this;
        }

        PodBuilder tolerate(String key, String op, String value, String effect) {
            ObjectNode t = spec.withArray("tolerations").addObject();
            if (key != null) t.put("key", key);
            if (op != null) t.put("operator", op);
            if (value != null) t.put("value", value);
            if (effect != null) t.put("effect", effect);
            return this;
        }

        PodBuilder hostPort(int port) {
            container.withArray("ports").addObject().put("containerPort", port).put("hostPort", port);
            return this;
        }

        PodBuilder priority(int p) {
            spec.put("priority", p);
            return this;
        }

        PodBuilder preemptNever() {
            spec.put("preemptionPolicy", "Never");
            return this;
        }

        PodBuilder startTime(String t) {
            Json.obj(o, "status").put("startTime", t);
            return this;
        }

        PodBuilder owner(String uid) {
            ((ObjectNode) o.get("metadata")).putArray("ownerReferences").addObject()
                    .put("apiVersion", "apps/v1").put("kind", "ReplicaSet").put("name", "rs").put("uid", uid).put("controller", true);
            return this;
        }

        PodBuilder spread(int maxSkew, String key, boolean hard, String labelKey, String labelValue) {
            ObjectNode c = spec.withArray("topologySpreadConstraints").addObject();
            c.put("maxSkew", maxSkew).put("topologyKey", key).put("whenUnsatisfiable", hard ? "DoNotSchedule" : "ScheduleAnyway");
            c.putObject("labelSelector").putObject("matchLabels").put(labelKey, labelValue);
            return this;
        }

        PodBuilder podAffinity(boolean anti, boolean required, int weight, String topologyKey, String labelKey, String labelValue) {
            ObjectNode a = Json.obj(Json.obj(spec, "affinity"), anti ? "podAntiAffinity" : "podAffinity");
            ObjectNode term = Json.object();
            term.put("topologyKey", topologyKey).putObject("labelSelector").putObject("matchLabels").put(labelKey, labelValue);
            if (required) {
                a.withArray("requiredDuringSchedulingIgnoredDuringExecution").add(term);
            } else {
                a.withArray("preferredDuringSchedulingIgnoredDuringExecution").addObject().put("weight", weight).set("podAffinityTerm", term);
            }
            return this;
        }

        PodBuilder claim(String name) {
            spec.withArray("volumes").addObject().put("name", "v-" + name).putObject("persistentVolumeClaim").put("claimName", name);
            return this;
        }

        ObjectNode json() {
            return o;
        }

        PodInfo info() {
            return PodInfo.of(o);
        }
    }

    /** A snapshot of the given nodes with pods placed by name: {@code placed.get(node)}. */
    static Snapshot snapshot(List<NodeBuilder> nodes, Map<String, List<PodBuilder>> placed) {
        List<NodeInfo> infos = new java.util.ArrayList<>();
        for (NodeBuilder n : nodes) {
            NodeInfo ni = n.info();
            for (PodBuilder p : placed.getOrDefault(ni.name(), List.of())) ni.addPod(p.nodeName(ni.name()).info());
            infos.add(ni);
        }
        return Snapshot.of(infos, null, null);
    }

    static Snapshot snapshot(NodeBuilder... nodes) {
        return snapshot(List.of(nodes), Map.of());
    }
}
