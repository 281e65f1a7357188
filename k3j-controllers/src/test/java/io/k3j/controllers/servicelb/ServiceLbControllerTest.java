package io.k3j.controllers.servicelb;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.deploy.ManifestDeployer;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.Kubectl;
import io.k3j.controllers.testing.TestCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ServiceLbControllerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private TestCluster cluster;
    private FakeNodes nodes;
    private ResourceType nodesType;
    private ResourceType servicesType;

    @BeforeEach
    void start() throws Exception {
        cluster = TestCluster.start(List.of(ServiceLb.loadBalancer(), ServiceLb.ingressStatus(), ManifestDeployer::new,
                ServiceLb.disabledAddons()));
        nodes = new FakeNodes(cluster.api());
        nodesType = cluster.type("", "v1", "nodes");
        servicesType = cluster.type("", "v1", "services");
    }

    @AfterEach
    void stop() {
        if (nodes != null) nodes.close();
        if (cluster != null) cluster.close();
    }

    /** A Ready node at {@code internal} (and {@code external} when not null). */
    private void node(String name, String internal, String external, Map<String, String> labels) {
        nodes.add(name, "4", "8Gi", labels);
        cluster.api().modify(nodesType, "", name, "status", n -> {
            ArrayNode a = Json.obj(n, "status").putArray("addresses");
            a.addObject().put("type", "InternalIP").put("address", internal);
            if (external != null) a.addObject().put("type", "ExternalIP").put("address", external);
            a.addObject().put("type", "Hostname").put("address", name);
            return n;
        });
    }

    private void lbService(String name, Map<String, String> labels, int... ports) {
        StringBuilder y = new StringBuilder("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: %s
                  namespace: default
                  labels: {app: %s%s}
                spec:
                  type: LoadBalancer
                  selector: {app: %s}
                  ports:
                """.formatted(name, name, labels.entrySet().stream().map(e -> ", \"" + e.getKey() + "\": \"" + e.getValue() + "\"")
                .reduce("", String::concat), name));
        for (int p : ports) y.append("  - {name: p").append(p).append(", port: ").append(p).append(", protocol: TCP}\n");
        cluster.create(y.toString());
    }

    private List<String> lbIps(String ns, String name) {
        ObjectNode svc = cluster.get("", "v1", "services", ns, name);
        List<String> out = new ArrayList<>();
        if (svc == null) return out;
        for (JsonNode i : svc.path("status").path("loadBalancer").path("ingress")) out.add(Json.text(i, "ip"));
        return out;
    }

    private void awaitIps(String name, List<String> ips) {
        cluster.await(name + " to get " + ips + " (has " + lbIps("default", name) + ")", WAIT, () -> lbIps("default", name).equals(ips));
    }

    private List<ObjectNode> events(String object, String reason) {
        return cluster.list("", "v1", "events", "default").stream()
                .filter(e -> object.equals(e.path("involvedObject").path("name").asText()) && reason.equals(Json.text(e, "reason")))
                .toList();
    }

    private String kubectl(String... args) {
        Kubectl.Result r = Kubectl.run(cluster.kubeconfig(), args);
        assertThat(r.exit()).as(r.out()).isZero();
        return r.out();
    }

    @Test
    @DisplayName("a LoadBalancer Service gets every Ready node's address (ExternalIP before InternalIP), sorted, as kubectl's EXTERNAL-IP; NotReady, cordoned and deleted nodes drop out")
    void statusFollowsNodes() {
        node("node-c", "10.0.0.3", "203.0.113.5", Map.of());
        node("node-a", "10.0.0.10", null, Map.of());
        node("node-b", "10.0.0.2", null, Map.of());
        lbService("web", Map.of(), 8080);
        awaitIps("web", List.of("10.0.0.2", "10.0.0.10", "203.0.113.5"));

        ObjectNode svc = cluster.get("", "v1", "services", "default", "web");
        assertThat(svc.at("/status/loadBalancer/ingress/0/ipMode").asText()).isEqualTo("VIP");
        // the API server allocated the rest: a cluster IP from the service CIDR and a node port
        assertThat(svc.at("/spec/clusterIP").asText()).startsWith("10.43.");
        assertThat(svc.at("/spec/ports/0/nodePort").asInt()).isBetween(30000, 32767);
        String out = kubectl("get", "svc", "web");
        assertThat(out).containsPattern("web\\s+LoadBalancer\\s+10\\.43\\.\\S+\\s+10\\.0\\.0\\.2,10\\.0\\.0\\.10,203\\.0\\.113\\.5\\s+8080:3\\d{4}/TCP");

        nodes.setReady("node-b", "False");
        awaitIps("web", List.of("10.0.0.10", "203.0.113.5"));
        nodes.setReady("node-b", "True");
        awaitIps("web", List.of("10.0.0.2", "10.0.0.10", "203.0.113.5"));
        assertThat(Kubectl.run(cluster.kubeconfig(), "cordon", "node-c").exit()).isZero();
        awaitIps("web", List.of("10.0.0.2", "10.0.0.10"));
        nodes.delete("node-a");
        awaitIps("web", List.of("10.0.0.2"));

        // no longer a LoadBalancer: the addresses go
        cluster.api().modify(servicesType, "default", "web", "", s -> {
            Json.obj(s, "spec").put("type", "ClusterIP");
            ((ObjectNode) s.at("/spec/ports/0")).remove("nodePort");
            return s;
        });
        awaitIps("web", List.of());
    }

    @Test
    @DisplayName("when a node carries enablelb=true only such nodes answer; a Service with an lbpool label only nodes of that pool; a Service with a loadBalancerClass is left alone")
    void enableLbAndPools() {
        node("node-a", "10.0.1.1", null, Map.of());
        node("node-b", "10.0.1.2", null, Map.of(Placement.ENABLE_LB, "true", Placement.LB_POOL, "blue"));
        node("node-c", "10.0.1.3", null, Map.of(Placement.ENABLE_LB, "true", Placement.LB_POOL, "green"));
        lbService("any", Map.of(), 80);
        lbService("blue", Map.of(Placement.LB_POOL, "blue"), 81);
        awaitIps("any", List.of("10.0.1.2", "10.0.1.3"));
        awaitIps("blue", List.of("10.0.1.2"));

        cluster.api().modify(nodesType, "", "node-a", "", n -> {
            Json.obj(Meta.metadata(n), "labels").put(Placement.ENABLE_LB, "true");
            return n;
        });
        awaitIps("any", List.of("10.0.1.1", "10.0.1.2", "10.0.1.3"));

        cluster.create("""
                apiVersion: v1
                kind: Service
                metadata: {name: other-lb, namespace: default}
                spec:
                  type: LoadBalancer
                  loadBalancerClass: example.com/metal
                  ports: [{port: 82}]
                """);
        // the class's own controller writes its status; ours must not touch it
        cluster.api().modify(servicesType, "default", "other-lb", "status", s -> {
            Json.obj(Json.obj(s, "status"), "loadBalancer").putArray("ingress").addObject().put("ip", "192.0.2.99");
            return s;
        });
        // a change that makes everyone recompute, after which other-lb must still have its own address
        lbService("late", Map.of(), 83);
        awaitIps("late", List.of("10.0.1.1", "10.0.1.2", "10.0.1.3"));
        assertThat(lbIps("default", "other-lb")).containsExactly("192.0.2.99");
    }

    @Test
    @DisplayName("a second Service on a port the first holds is Pending where the port is taken, with a Warning event naming the holder, and gets the nodes once the first is deleted")
    void portConflicts() {
        node("node-a", "10.0.2.1", null, Map.of(Placement.LB_POOL, "a"));
        node("node-b", "10.0.2.2", null, Map.of());
        lbService("first", Map.of(), 8080);
        awaitIps("first", List.of("10.0.2.1", "10.0.2.2"));
        lbService("second", Map.of(), 9090, 8080);
        cluster.await("the UnAvailableLoadBalancer event of second", WAIT, () -> !events("second", "UnAvailableLoadBalancer").isEmpty());
        ObjectNode event = events("second", "UnAvailableLoadBalancer").getFirst();
        assertThat(Json.text(event, "type")).isEqualTo("Warning");
        assertThat(Json.text(event, "message")).isEqualTo(
                "There are no available nodes for LoadBalancer: port 8080/TCP is already in use by Service default/first on all 2 eligible nodes");
        assertThat(lbIps("default", "second")).isEmpty();
        assertThat(kubectl("get", "svc", "second")).containsPattern("second\\s+LoadBalancer\\s+\\S+\\s+<pending>\\s+9090:\\d+/TCP,8080:\\d+/TCP");
        assertThat(kubectl("describe", "svc", "second")).contains("UnAvailableLoadBalancer").contains("default/first");

        // a Service of another port is not held up by either
        lbService("third", Map.of(), 7070);
        awaitIps("third", List.of("10.0.2.1", "10.0.2.2"));

        // first moves to pool "a" (node-a only): node-b is free for second
        cluster.api().modify(servicesType, "default", "first", "", s -> {
            Json.obj(Meta.metadata(s), "labels").put(Placement.LB_POOL, "a");
            return s;
        });
        awaitIps("first", List.of("10.0.2.1"));
        awaitIps("second", List.of("10.0.2.2"));

        cluster.api().deleteIfExists(servicesType, "default", "first", null, null);
        awaitIps("second", List.of("10.0.2.1", "10.0.2.2"));
        assertThat(events("second", "UnAvailableLoadBalancer")).hasSize(1);
    }

    @Test
    @DisplayName("no Ready node: the Service stays <pending> with kube's UnAvailableLoadBalancer message, and gets the address when a node comes")
    void noNodes() {
        lbService("lonely", Map.of(), 80);
        cluster.await("the UnAvailableLoadBalancer event of lonely", WAIT, () -> !events("lonely", "UnAvailableLoadBalancer").isEmpty());
        assertThat(Json.text(events("lonely", "UnAvailableLoadBalancer").getFirst(), "message"))
                .isEqualTo("There are no available nodes for LoadBalancer");
        node("node-a", "10.0.3.1", null, Map.of());
        awaitIps("lonely", List.of("10.0.3.1"));
    }

    @Test
    @DisplayName("the packaged manifests are applied: kube-dns on the cluster DNS address, k3j-ingress LoadBalancer with the nodes' addresses, the default IngressClass k3j; Ingresses of the class show its ADDRESS")
    void packagedManifestsAndIngressStatus() throws Exception {
        PackagedManifests.stage(cluster.dataDir().resolve("server/manifests"), "10.43.0.10", Set.of());
        node("node-a", "10.0.4.1", null, Map.of());
        cluster.await("kube-dns and k3j-ingress", WAIT, () -> cluster.get("", "v1", "services", "kube-system", "kube-dns") != null
                && cluster.get("", "v1", "services", "kube-system", "k3j-ingress") != null);
        ObjectNode dns = cluster.get("", "v1", "services", "kube-system", "kube-dns");
        assertThat(dns.at("/spec/clusterIP").asText()).isEqualTo("10.43.0.10");
        assertThat(dns.at("/metadata/annotations").path(PackagedManifests.NODE_LOCAL).asText()).isEqualTo("true");
        assertThat(dns.at("/metadata/labels/k8s-app").asText()).isEqualTo("kube-dns");
        cluster.await("k3j-ingress to get node-a", WAIT, () -> lbIps("kube-system", "k3j-ingress").equals(List.of("10.0.4.1")));

        String svcs = kubectl("get", "svc", "-A");
        assertThat(svcs).containsPattern("default\\s+kubernetes\\s+ClusterIP\\s+10\\.43\\.0\\.1\\s+<none>\\s+443/TCP");
        assertThat(svcs).containsPattern("kube-system\\s+kube-dns\\s+ClusterIP\\s+10\\.43\\.0\\.10\\s+<none>\\s+53/UDP,53/TCP");
        assertThat(svcs).containsPattern("kube-system\\s+k3j-ingress\\s+LoadBalancer\\s+10\\.43\\.\\S+\\s+10\\.0\\.4\\.1\\s+80:3\\d{4}/TCP,443:3\\d{4}/TCP");
        assertThat(kubectl("get", "ingressclass")).containsPattern("k3j\\s+k3j\\.io/ingress-controller");

        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: by-default, namespace: default}
                spec:
                  rules: [{host: a.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
                """);
        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: by-name, namespace: default}
                spec:
                  ingressClassName: k3j
                  defaultBackend: {service: {name: web, port: {number: 80}}}
                """);
        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: foreign, namespace: default}
                spec:
                  ingressClassName: nginx
                  defaultBackend: {service: {name: web, port: {number: 80}}}
                """);
        cluster.await("the k3j Ingresses to get 10.0.4.1", WAIT,
                () -> ingressIps("by-default").equals(List.of("10.0.4.1")) && ingressIps("by-name").equals(List.of("10.0.4.1")));
        assertThat(kubectl("get", "ingress", "by-name")).containsPattern("by-name\\s+k3j\\s+\\*\\s+10\\.0\\.4\\.1\\s+80");

        node("node-b", "10.0.4.2", null, Map.of());
        cluster.await("the Ingresses to follow node-b", WAIT, () -> ingressIps("by-default").equals(List.of("10.0.4.1", "10.0.4.2"))
                && ingressIps("by-name").equals(List.of("10.0.4.1", "10.0.4.2")));
        nodes.setReady("node-a", "False");
        nodes.setReady("node-b", "False");
        cluster.await("the Ingresses to lose their addresses", WAIT, () -> ingressIps("by-default").isEmpty() && ingressIps("by-name").isEmpty());
        assertThat(ingressIps("foreign")).isEmpty();
        assertThat(cluster.get("networking.k8s.io", "v1", "ingresses", "default", "foreign").at("/status/loadBalancer/ingress").isMissingNode()).isTrue();
    }

    private List<String> ingressIps(String name) {
        ObjectNode ing = cluster.get("networking.k8s.io", "v1", "ingresses", "default", name);
        List<String> out = new ArrayList<>();
        for (JsonNode i : ing.path("status").path("loadBalancer").path("ingress")) out.add(Json.text(i, "ip"));
        return out;
    }
}
