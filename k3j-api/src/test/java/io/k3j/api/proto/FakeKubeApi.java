package io.k3j.api.proto;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Just enough of an API server on 127.0.0.1 for kubectl to send its create, run, auth, token and drain
 * requests: legacy (non-aggregated) discovery, one node with one pod for drain, and every POST answered 201
 * with {@code {}} after its body is recorded. Everything is JSON, which kubectl accepts.
 */
final class FakeKubeApi implements AutoCloseable {
    record Post(String path, String contentType, byte[] body) {}

    private static final Map<String, String> GROUP_RESOURCES = Map.of(
            "apps/v1", resources("apps/v1", "deployments:Deployment:true", "replicasets:ReplicaSet:true",
                    "deployments/scale:Scale:true:autoscaling:v1"),
            "autoscaling/v1", resources("autoscaling/v1", "horizontalpodautoscalers:HorizontalPodAutoscaler:true"),
            "autoscaling/v2", resources("autoscaling/v2", "horizontalpodautoscalers:HorizontalPodAutoscaler:true"),
            "batch/v1", resources("batch/v1", "jobs:Job:true", "cronjobs:CronJob:true"),
            "rbac.authorization.k8s.io/v1", resources("rbac.authorization.k8s.io/v1", "roles:Role:true",
                    "clusterroles:ClusterRole:false", "rolebindings:RoleBinding:true", "clusterrolebindings:ClusterRoleBinding:false"),
            "policy/v1", resources("policy/v1", "poddisruptionbudgets:PodDisruptionBudget:true"),
            "networking.k8s.io/v1", resources("networking.k8s.io/v1", "ingresses:Ingress:true"),
            "scheduling.k8s.io/v1", resources("scheduling.k8s.io/v1", "priorityclasses:PriorityClass:false"),
            "authorization.k8s.io/v1", resources("authorization.k8s.io/v1", "selfsubjectaccessreviews:SelfSubjectAccessReview:false"),
            "authentication.k8s.io/v1", resources("authentication.k8s.io/v1", "selfsubjectreviews:SelfSubjectReview:false"));

    private static final String CORE_RESOURCES = """
            {"kind":"APIResourceList","groupVersion":"v1","resources":[
              {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","get","list","patch","update","watch"]},
              {"name":"pods/eviction","singularName":"","namespaced":true,"group":"policy","version":"v1","kind":"Eviction","verbs":["create"]},
              {"name":"nodes","singularName":"node","namespaced":false,"kind":"Node","verbs":["get","list","patch","update"]},
              {"name":"configmaps","singularName":"configmap","namespaced":true,"kind":"ConfigMap","verbs":["create","get","list"]},
              {"name":"secrets","singularName":"secret","namespaced":true,"kind":"Secret","verbs":["create","get","list"]},
              {"name":"services","singularName":"service","namespaced":true,"kind":"Service","verbs":["create","get","list"]},
              {"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","verbs":["create","get","list"]},
              {"name":"serviceaccounts","singularName":"serviceaccount","namespaced":true,"kind":"ServiceAccount","verbs":["create","get","list"]},
              {"name":"serviceaccounts/token","singularName":"","namespaced":true,"group":"authentication.k8s.io","version":"v1","kind":"TokenRequest","verbs":["create"]},
              {"name":"resourcequotas","singularName":"resourcequota","namespaced":true,"kind":"ResourceQuota","verbs":["create","get","list"]}]}""";

    private static final String NODE = """
            {"kind":"Node","apiVersion":"v1","metadata":{"name":"n1","uid":"u-n1","resourceVersion":"1"},"spec":{}}""";

    private static final String POD_LIST = """
            {"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[
              {"metadata":{"name":"p","namespace":"default","uid":"u-p","resourceVersion":"1"},
               "spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}]},"status":{"phase":"Running"}}]}""";

    private static final String DEPLOYMENT = """
            {"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"default","uid":"u-web","resourceVersion":"1"},
             "spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
               "spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":8080}]}]}}}}""";

    private final HttpServer server;
    private final List<Post> posts = new ArrayList<>();

    FakeKubeApi() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    synchronized List<Post> posts() {
        return List.copyOf(posts);
    }

    synchronized void clear() {
        posts.clear();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            if (method.equals("POST")) {
                synchronized (this) {
                    posts.add(new Post(exchange.getRequestURI().toString(), exchange.getRequestHeaders().getFirst("Content-Type"), body));
                }
                respond(exchange, 201, "{}");
                return;
            }
            String answer = switch (path) {
                case "/api" -> "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[]}";
                case "/apis" -> groupList();
                case "/api/v1" -> CORE_RESOURCES;
                case "/api/v1/nodes/n1" -> NODE;
                case "/api/v1/pods" -> POD_LIST;
                case "/apis/apps/v1/namespaces/default/deployments/web" -> DEPLOYMENT;
                default -> path.startsWith("/apis/") ? GROUP_RESOURCES.get(path.substring("/apis/".length())) : null;
            };
            if (answer == null) {
                respond(exchange, 404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                        + "\"message\":\"not found\",\"reason\":\"NotFound\",\"code\":404}");
            } else {
                respond(exchange, 200, answer);
            }
        } catch (RuntimeException e) {
            throw new UncheckedIOException(new IOException("fake API server failed on " + exchange.getRequestURI(), e));
        }
    }

    private static String groupList() {
        StringBuilder groups = new StringBuilder();
        for (String gv : GROUP_RESOURCES.keySet()) {
            String group = gv.substring(0, gv.indexOf('/'));
            if (!groups.isEmpty()) groups.append(',');
            groups.append("{\"name\":\"").append(group).append("\",\"versions\":[{\"groupVersion\":\"").append(gv)
                    .append("\",\"version\":\"v1\"}],\"preferredVersion\":{\"groupVersion\":\"").append(gv)
                    .append("\",\"version\":\"v1\"}}");
        }
        return "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" + groups + "]}";
    }

    /** {@code plural:Kind:namespaced[:group:version]} entries as an APIResourceList. */
    private static String resources(String groupVersion, String... triples) {
        StringBuilder list = new StringBuilder();
        for (String triple : triples) {
            String[] p = triple.split(":");
            if (!list.isEmpty()) list.append(',');
            list.append("{\"name\":\"").append(p[0]).append("\",\"singularName\":\"").append(p[1].toLowerCase())
                    .append("\",\"namespaced\":").append(p[2]).append(",\"kind\":\"").append(p[1])
                    .append(p.length == 5 ? "\",\"group\":\"" + p[3] + "\",\"version\":\"" + p[4] : "")
                    .append("\",\"verbs\":[\"create\",\"get\",\"list\"]}");
        }
        return "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"" + groupVersion + "\",\"resources\":[" + list + "]}";
    }

    private static void respond(HttpExchange exchange, int code, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(code, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
