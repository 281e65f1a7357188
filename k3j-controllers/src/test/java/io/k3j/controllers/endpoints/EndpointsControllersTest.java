package io.k3j.controllers.endpoints;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.testing.FakeKubelet;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.TestCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class EndpointsControllersTest {
    static TestCluster cluster;
    static FakeNodes nodes;
    static FakeKubelet kubelet;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of(EndpointControllers.endpoints(), EndpointControllers.endpointSlices()));
        nodes = new FakeNodes(cluster.api());
        kubelet = new FakeKubelet(cluster.api()).manage("n1", "n2");
        nodes.add("n1", "4", "8Gi", Map.of("topology.kubernetes.io/zone", "zone-a"));
        nodes.add("n2");
    }

    @AfterAll
    static void stop() {
        kubelet.close();
        nodes.close();
        cluster.close();
    }

    static void namespace(String ns) {
        cluster.create("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + ns + "\"}}");
    }

    static void pod(String ns, String name, String node, String labels, String extraSpec) {
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: %s, namespace: %s, labels: {%s}}
                spec:
                  nodeName: %s
                  %s
                  containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]}]
                """.formatted(name, ns, labels, node, extraSpec));
    }

    static ObjectNode endpoints(String ns, String name) {
        return cluster.get("", "v1", "endpoints", ns, name);
    }

    static List<ObjectNode> slices(String ns, String svc) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode s : cluster.list("discovery.k8s.io", "v1", "endpointslices", ns)) {
            if (svc.equals(Meta.labels(s).path("kubernetes.io/service-name").asText())) out.add(s);
        }
        return out;
    }

    static List<JsonNode> sliceEndpoints(String ns, String svc) {
        List<JsonNode> out = new ArrayList<>();
        for (ObjectNode s : slices(ns, svc)) s.path("endpoints").forEach(out::add);
        return out;
    }

    static List<String> ips(JsonNode ep, String field) {
        List<String> out = new ArrayList<>();
        for (JsonNode s : ep.path("subsets")) for (JsonNode a : s.path(field)) out.add(a.path("ip").asText());
        return out;
    }

    static int count(JsonNode ep, String field) {
        return ips(ep, field).size();
    }

    static void awaitEndpoints(String ns, String name, String what, Predicate<ObjectNode> ok) {
        cluster.await(what, Duration.ofSeconds(20), () -> {
            ObjectNode e = endpoints(ns, name);
            return e != null && ok.test(e);
        });
    }

    static void setReady(String ns, String pod, boolean ready) {
        cluster.api().modify(cluster.type("", "v1", "pods"), ns, pod, "status", p -> {
            for (JsonNode c : p.path("status").path("conditions")) {
                if (c.path("type").asText().equals("Ready") || c.path("type").asText().equals("ContainersReady")) {
                    ((ObjectNode) c).put("status", ready ? "True" : "False");
                }
            }
            return p;
        });
    }

    @Test
    @DisplayName("Endpoints and slices follow pod readiness, resolve named target ports per pod and keep terminating pods only in slices")
    void readiness() {
        namespace("ready");
        cluster.create("""
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: ready, labels: {tier: front}}
                spec:
                  selector: {app: web}
                  ports: [{name: http, port: 80, targetPort: http}, {name: metrics, port: 9000, targetPort: metrics}]
                """);
        pod("ready", "web-1", "n1", "app: web", "");
        pod("ready", "web-2", "n2", "app: web", "");
        pod("ready", "other", "n1", "app: other", "");
        awaitEndpoints("ready", "web", "two ready addresses", e -> count(e, "addresses") == 2);
        ObjectNode ep = endpoints("ready", "web");
        JsonNode subset = ep.path("subsets").get(0);
        assertThat(ep.path("subsets").size()).isEqualTo(1);
        assertThat(subset.path("ports").findValuesAsText("port")).containsExactlyInAnyOrder("8080", "9090");
        assertThat(subset.path("ports").findValuesAsText("name")).containsExactlyInAnyOrder("http", "metrics");
        JsonNode a = subset.path("addresses").get(0);
        assertThat(a.path("targetRef").path("kind").asText()).isEqualTo("Pod");
        assertThat(a.path("targetRef").path("name").asText()).startsWith("web-");
        assertThat(a.path("nodeName").asText()).isIn("n1", "n2");
        assertThat(Meta.labels(ep).path("tier").asText()).isEqualTo("front");
        assertThat(ep.path("metadata").path("annotations").has("endpoints.kubernetes.io/last-change-trigger-time")).isTrue();

        cluster.await("slices with two ready endpoints", Duration.ofSeconds(20),
                () -> sliceEndpoints("ready", "web").stream().filter(e -> e.path("conditions").path("ready").asBoolean()).count() == 2);
        ObjectNode slice = slices("ready", "web").get(0);
        assertThat(slices("ready", "web")).hasSize(1);
        assertThat(Meta.name(slice)).matches("web-[a-z0-9]{5}");
        assertThat(slice.path("addressType").asText()).isEqualTo("IPv4");
        assertThat(Meta.labels(slice).path("endpointslice.kubernetes.io/managed-by").asText()).isEqualTo("endpointslice-controller.k8s.io");
        assertThat(Meta.labels(slice).path("tier").asText()).isEqualTo("front");
        JsonNode owner = slice.path("metadata").path("ownerReferences").get(0);
        assertThat(owner.path("kind").asText()).isEqualTo("Service");
        assertThat(owner.path("uid").asText()).isEqualTo(Meta.uid(cluster.get("", "v1", "services", "ready", "web")));
        assertThat(slice.path("ports").findValuesAsText("port")).containsExactlyInAnyOrder("8080", "9090");
        JsonNode onN1 = sliceEndpoints("ready", "web").stream().filter(e -> e.path("nodeName").asText().equals("n1")).findFirst().orElseThrow();
        assertThat(onN1.path("zone").asText()).isEqualTo("zone-a");
        assertThat(onN1.path("targetRef").path("name").asText()).isEqualTo("web-1");

        // not ready: moves to notReadyAddresses, and ready=false serving=false in the slice
        setReady("ready", "web-1", false);
        awaitEndpoints("ready", "web", "web-1 not ready", e -> count(e, "addresses") == 1 && count(e, "notReadyAddresses") == 1);
        cluster.await("slice says web-1 is not ready", Duration.ofSeconds(20), () -> sliceEndpoints("ready", "web").stream()
                .anyMatch(e -> e.path("targetRef").path("name").asText().equals("web-1") && !e.path("conditions").path("ready").asBoolean()
                        && !e.path("conditions").path("serving").asBoolean()));
        setReady("ready", "web-1", true);
        awaitEndpoints("ready", "web", "web-1 ready again", e -> count(e, "addresses") == 2);

        // a pod whose container lacks the named port serves only the other port: a subset of its own
        cluster.create("""
                apiVersion: v1
                kind: Pod
                metadata: {name: web-3, namespace: ready, labels: {app: web}}
                spec:
                  nodeName: n1
                  containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8081}]}]
                """);
        awaitEndpoints("ready", "web", "web-3 in its own subset", e -> e.path("subsets").size() == 2);
        cluster.await("a second slice for the other port mapping", Duration.ofSeconds(20), () -> slices("ready", "web").size() == 2);
        ObjectNode single = slices("ready", "web").stream().filter(s -> s.path("ports").size() == 1).findFirst().orElseThrow();
        assertThat(single.path("ports").get(0).path("port").asInt()).isEqualTo(8081);

        // terminating on a node without a kubelet to finish the deletion: gone from Endpoints, terminating in the slice
        pod("ready", "web-4", "n9", "app: web", "terminationGracePeriodSeconds: 600");
        runManually("ready", "web-4", "10.99.0.4");
        awaitEndpoints("ready", "web", "web-4 listed", e -> ips(e, "addresses").contains("10.99.0.4"));
        cluster.api().delete(cluster.type("", "v1", "pods"), "ready", "web-4", DeleteOptions.DEFAULT);
        awaitEndpoints("ready", "web", "web-4 dropped while terminating", e -> count(e, "addresses") == 3 && count(e, "notReadyAddresses") == 0);
        cluster.await("slice keeps web-4 as terminating", Duration.ofSeconds(20), () -> sliceEndpoints("ready", "web").stream()
                .anyMatch(e -> e.path("targetRef").path("name").asText().equals("web-4") && e.path("conditions").path("terminating").asBoolean()
                        && !e.path("conditions").path("ready").asBoolean() && e.path("conditions").path("serving").asBoolean()));
        assertThat(cluster.get("", "v1", "pods", "ready", "web-4")).isNotNull();
    }

    @Test
    @DisplayName("a headless Service publishes hostnames and unnamed ports; publishNotReadyAddresses lists unready pods as ready")
    void headlessAndPublishNotReady() {
        namespace("headless");
        cluster.create("""
                apiVersion: v1
                kind: Service
                metadata: {name: db, namespace: headless}
                spec:
                  clusterIP: None
                  publishNotReadyAddresses: true
                  selector: {app: db}
                  ports: [{port: 5432, targetPort: 5432}]
                """);
        pod("headless", "db-0", "n1", "app: db", "hostname: db-0\n  subdomain: db");
        pod("headless", "db-1", "n2", "app: db", "hostname: db-1\n  subdomain: other");
        awaitEndpoints("headless", "db", "two addresses", e -> count(e, "addresses") == 2);
        setReady("headless", "db-0", false);
        cluster.await("db-0 reported not ready", Duration.ofSeconds(10),
                () -> !io.k3j.controllers.common.Pods.ready(cluster.get("", "v1", "pods", "headless", "db-0")));
        cluster.await("slice of db-0 still ready", Duration.ofSeconds(20), () -> sliceEndpoints("headless", "db").stream()
                .anyMatch(e -> e.path("targetRef").path("name").asText().equals("db-0") && e.path("conditions").path("ready").asBoolean()
                        && !e.path("conditions").path("serving").asBoolean()));
        ObjectNode ep = endpoints("headless", "db");
        assertThat(count(ep, "addresses")).isEqualTo(2);
        assertThat(count(ep, "notReadyAddresses")).isZero();
        assertThat(Meta.labels(ep).has("service.kubernetes.io/headless")).isTrue();
        JsonNode port = ep.path("subsets").get(0).path("ports").get(0);
        assertThat(port.has("name")).isFalse();
        assertThat(port.path("port").asInt()).isEqualTo(5432);
        List<String> hostnames = ep.path("subsets").get(0).path("addresses").findValuesAsText("hostname");
        assertThat(hostnames).containsExactly("db-0");
        JsonNode db0 = sliceEndpoints("headless", "db").stream().filter(e -> e.path("targetRef").path("name").asText().equals("db-0")).findFirst().orElseThrow();
        assertThat(db0.path("hostname").asText()).isEqualTo("db-0");
        assertThat(Meta.labels(slices("headless", "db").get(0)).has("service.kubernetes.io/headless")).isTrue();
    }

    @Test
    @DisplayName("150 pods make two slices (100 + 50); removing some rewrites only the slices that held them; a deleted Service takes its objects along")
    void manyPods() {
        namespace("many");
        cluster.create("""
                apiVersion: v1
                kind: Service
                metadata: {name: big, namespace: many}
                spec: {selector: {app: big}, ports: [{name: http, port: 80, targetPort: 8080}]}
                """);
        for (int i = 0; i < 150; i++) pod("many", "big-" + i, i % 2 == 0 ? "n1" : "n2", "app: big", "");
        awaitEndpoints("many", "big", "150 addresses", e -> count(e, "addresses") == 150);
        cluster.await("150 endpoints in slices", Duration.ofSeconds(30), () -> sliceEndpoints("many", "big").size() == 150);
        List<ObjectNode> before = slices("many", "big");
        assertThat(before).hasSize(2);
        assertThat(before.stream().map(s -> s.path("endpoints").size()).toList()).containsExactlyInAnyOrder(100, 50);

        // pods of the small slice go: the big one is not written
        ObjectNode small = before.stream().filter(s -> s.path("endpoints").size() == 50).findFirst().orElseThrow();
        ObjectNode large = before.stream().filter(s -> s.path("endpoints").size() == 100).findFirst().orElseThrow();
        List<String> smallPods = small.path("endpoints").findValuesAsText("name");
        for (String p : smallPods.subList(0, 10)) cluster.api().delete(cluster.type("", "v1", "pods"), "many", p, DeleteOptions.DEFAULT);
        cluster.await("140 endpoints", Duration.ofSeconds(30), () -> sliceEndpoints("many", "big").size() == 140);
        awaitEndpoints("many", "big", "140 addresses", e -> count(e, "addresses") == 140);
        List<ObjectNode> after = slices("many", "big");
        assertThat(after.stream().map(Meta::name).toList()).containsExactlyInAnyOrder(Meta.name(small), Meta.name(large));
        ObjectNode largeAfter = after.stream().filter(s -> Meta.name(s).equals(Meta.name(large))).findFirst().orElseThrow();
        assertThat(Meta.resourceVersion(largeAfter)).isEqualTo(Meta.resourceVersion(large));

        cluster.api().delete(cluster.type("", "v1", "services"), "many", "big", DeleteOptions.DEFAULT);
        cluster.await("Endpoints and slices gone", Duration.ofSeconds(20), () -> endpoints("many", "big") == null && slices("many", "big").isEmpty());
    }

    @Test
    @DisplayName("Services without a selector keep the Endpoints someone else wrote, and get no slices; the kubernetes Service is left alone")
    void noSelector() throws Exception {
        namespace("manual");
        cluster.create("""
                apiVersion: v1
                kind: Service
                metadata: {name: ext, namespace: manual}
                spec: {ports: [{port: 80}]}
                """);
        cluster.create("""
                apiVersion: v1
                kind: Endpoints
                metadata: {name: ext, namespace: manual}
                subsets: [{addresses: [{ip: 192.0.2.10}], ports: [{port: 80}]}]
                """);
        ObjectNode kubernetes = endpoints("default", "kubernetes");
        Thread.sleep(1500);
        assertThat(ips(endpoints("manual", "ext"), "addresses")).containsExactly("192.0.2.10");
        assertThat(slices("manual", "ext")).isEmpty();
        assertThat(Meta.resourceVersion(endpoints("default", "kubernetes"))).isEqualTo(Meta.resourceVersion(kubernetes));
        assertThat(slices("default", "kubernetes")).hasSize(1);
        assertThat(Meta.labels(slices("default", "kubernetes").get(0)).has("endpointslice.kubernetes.io/managed-by")).isFalse();
    }

    @Test
    @DisplayName("kubectl get endpoints and kubectl describe svc show the pods' addresses")
    void kubectl() throws Exception {
        namespace("cli");
        cluster.create("""
                apiVersion: v1
                kind: Service
                metadata: {name: api, namespace: cli}
                spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}]}
                """);
        pod("cli", "api-1", "n1", "app: api", "");
        awaitEndpoints("cli", "api", "one address", e -> count(e, "addresses") == 1);
        String ip = ips(endpoints("cli", "api"), "addresses").get(0);
        String get = kubectl("get", "endpoints", "api", "-n", "cli");
        assertThat(get).contains("NAME").contains("ENDPOINTS").contains(ip + ":8080");
        cluster.await("the slice", Duration.ofSeconds(20), () -> sliceEndpoints("cli", "api").size() == 1);
        String describe = kubectl("describe", "svc", "api", "-n", "cli");
        assertThat(describe).containsPattern("Endpoints:\\s+" + java.util.regex.Pattern.quote(ip + ":8080"));
        // steady state: nothing is rewritten when nothing changes
        String epRv = Meta.resourceVersion(endpoints("cli", "api"));
        String sliceRv = Meta.resourceVersion(slices("cli", "api").get(0));
        Thread.sleep(1000);
        assertThat(Meta.resourceVersion(endpoints("cli", "api"))).isEqualTo(epRv);
        assertThat(Meta.resourceVersion(slices("cli", "api").get(0))).isEqualTo(sliceRv);
        String slicesOut = kubectl("get", "endpointslices", "-n", "cli", "-l", "kubernetes.io/service-name=api");
        assertThat(slicesOut).contains("IPv4").contains("8080").contains(ip);
    }

    static String kubectl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/kubectl", "--kubeconfig", cluster.kubeconfig().toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError("kubectl timed out: " + cmd);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(out).isZero();
            return out;
        } finally {
            p.destroyForcibly();
        }
    }

    /** Plays the kubelet of a node FakeKubelet does not manage: the pod runs, ready, with {@code ip}. */
    static void runManually(String ns, String pod, String ip) {
        cluster.api().modify(cluster.type("", "v1", "pods"), ns, pod, "status", p -> {
            ObjectNode s = Json.obj(p, "status");
            s.put("phase", "Running").put("podIP", ip);
            s.putArray("podIPs").addObject().put("ip", ip);
            var conds = s.putArray("conditions");
            for (String t : new String[] {"Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
                conds.addObject().put("type", t).put("status", "True").put("lastTransitionTime", Meta.timestamp(java.time.Instant.now()));
            }
            return p;
        });
    }
}
