package io.k3j.apiserver.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.http.ApiRequest;
import io.k3j.apiserver.http.HttpExchange;
import io.k3j.apiserver.registry.ListOptions;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code metrics.k8s.io/v1beta1}, read-only, as metrics-server serves it: {@code nodes} (NodeMetrics) and
 * {@code pods} (PodMetrics), get and list, with label and field selectors applied to the Node and Pod objects the
 * metrics belong to (whose labels the metrics carry). Usage comes from each Ready node's kubelet
 * {@code /metrics/resource}: CPU over the last two scrapes (the {@code window}), memory as the latest working set.
 * A node or pod without usage yet is left out of lists and is NotFound to get.
 */
public final class MetricsApi implements AutoCloseable {
    public static final String GROUP = "metrics.k8s.io";
    public static final String VERSION = "v1beta1";
    /** metrics-server's default scrape interval ({@code --metric-resolution}). */
    public static final Duration RESOLUTION = Duration.ofSeconds(15);
    /** The resources served; register them so that discovery lists them (their objects are never stored). */
    public static final List<ResourceType> TYPES = List.of(
            new ResourceType(GROUP, VERSION, "NodeMetrics", "nodes", "", false, List.of(), List.of(), List.of("get", "list"), Set.of(), false, false),
            new ResourceType(GROUP, VERSION, "PodMetrics", "pods", "", true, List.of(), List.of(), List.of("get", "list"), Set.of(), false, false));

    /** The way to a node's kubelet (the API server's kubelet proxy client): GET a path, answer the body. */
    @FunctionalInterface
    public interface KubeletGetter {
        /** @throws IOException when the kubelet can't be reached or answers other than 200 */
        byte[] get(String nodeName, String path) throws IOException;
    }

    private final ObjectStore objects;
    private final ResourceType nodes;
    private final ResourceType pods;
    private final Clock clock;
    private final Scraper scraper;

    private MetricsApi(ObjectStore objects, ResourceRegistry registry, Scraper.Kubelets kubelets, Clock clock, Duration resolution,
                       Duration primeDelay) {
        this.objects = objects;
        this.nodes = registry.find("", "v1", "nodes").orElseThrow();
        this.pods = registry.find("", "v1", "pods").orElseThrow();
        this.clock = clock;
        this.scraper = new Scraper(this::readyNodes, kubelets, clock, resolution, Duration.ofMinutes(10), primeDelay, Duration.ofSeconds(10));
    }

    /**
     * The API, scraping through {@code kubelets} every {@link #RESOLUTION} while asked; nothing runs until the first
     * request.
     */
    public static MetricsApi create(ObjectStore objects, ResourceRegistry registry, KubeletGetter kubelets, Clock clock) {
        return create(objects, registry, kubelets, clock, RESOLUTION, Duration.ofSeconds(1));
    }

    /**
     * @param primeDelay the gap between the two scrapes the first request after an idle spell takes
     */
    public static MetricsApi create(ObjectStore objects, ResourceRegistry registry, KubeletGetter kubelets, Clock clock,
                                    Duration resolution, Duration primeDelay) {
        Objects.requireNonNull(kubelets, "kubelets");
        if (resolution.isNegative() || resolution.isZero()) throw new IllegalArgumentException("resolution : " + resolution + " (expected: > 0)");
        return new MetricsApi(objects, registry, kubelets::get, clock, resolution, primeDelay);
    }

    /** Whether {@code type} is one of {@link #TYPES}. */
    public static boolean serves(ResourceType type) {
        return type.group().equals(GROUP);
    }

    /**
     * Serves a get or list of {@code type} (one of {@link #TYPES}).
     *
     * @param namespace null for all namespaces (pods) and for nodes
     * @param name      null for a list
     * @throws ApiException 405 for verbs other than get and list, 404 for an unknown name or one without usage yet,
     *                      400 for a bad selector
     */
    public void serve(ApiRequest req, HttpExchange ex, ResourceType type, String namespace, String name) {
        if (!req.method().equals("GET") || isTrue(req.param("watch"))) {
            throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
        }
        if (name != null) {
            // a get decodes its resourceVersion as any get does
            String rv = req.param("resourceVersion");
            if (rv != null && !rv.isEmpty() && !rv.chars().allMatch(Character::isDigit)) {
                throw ApiException.badRequest("invalid resource version \"" + rv + "\"");
            }
        }
        ObjectNode out = type.namespaced() ? pods(req, namespace, name) : nodes(req, name);
        ex.send(200, "application/json", Json.bytes(out), Map.of());
    }

    private ObjectNode nodes(ApiRequest req, String name) {
        Map<String, Scraper.History> h = scraper.current();
        if (name != null) {
            ObjectNode node = objects.find(nodes, null, name).orElseThrow(() -> ApiException.notFound(GROUP, "nodemetrics", name));
            Usage u = usage(h.get(name));
            if (u == null) throw ApiException.notFound(GROUP, "nodemetrics", name);
            return nodeMetrics(node, u);
        }
        ObjectNode list = list("NodeMetricsList");
        ArrayNode items = list.putArray("items");
        for (ObjectNode node : objects.list(nodes, null, options(req)).items()) {
            Usage u = usage(h.get(Json.text(node.path("metadata"), "name")));
            if (u != null) items.add(nodeMetrics(node, u));
        }
        return list;
    }

    private static Usage usage(Scraper.History h) {
        return h == null ? null : Usage.node(h.previous(), h.last());
    }

    private ObjectNode pods(ApiRequest req, String namespace, String name) {
        Map<String, Usage.Pod> usage = new HashMap<>();
        for (Scraper.History h : scraper.current().values()) usage.putAll(Usage.pods(h.previous(), h.last()));
        if (name != null) {
            String key = namespace + "/" + name;
            ObjectNode pod = objects.find(pods, namespace, name).orElseThrow(() -> ApiException.notFound(GROUP, "podmetrics", name));
            Usage.Pod u = usage.get(key);
            if (u == null) throw ApiException.notFound(GROUP, "podmetrics", name);
            return podMetrics(pod, u);
        }
        ObjectNode list = list("PodMetricsList");
        ArrayNode items = list.putArray("items");
        for (ObjectNode pod : objects.list(pods, namespace, options(req)).items()) {
            JsonNode meta = pod.path("metadata");
            Usage.Pod u = usage.get(Json.text(meta, "namespace") + "/" + Json.text(meta, "name"));
            if (u != null) items.add(podMetrics(pod, u));
        }
        return list;
    }

    /** Every list parameter is decoded and checked as for any resource; limit and continue page the nodes or pods. */
    private static ListOptions options(ApiRequest req) {
        return io.k3j.apiserver.endpoints.ListParameters.parse(req);
    }

    private ObjectNode nodeMetrics(ObjectNode node, Usage u) {
        ObjectNode m = object("NodeMetrics", node);
        m.put("timestamp", time(u.timeMillis()));
        m.put("window", Usage.window(u.windowMillis()));
        usage(m.putObject("usage"), u);
        return m;
    }

    private ObjectNode podMetrics(ObjectNode pod, Usage.Pod u) {
        ObjectNode m = object("PodMetrics", pod);
        m.put("timestamp", time(u.timeMillis()));
        m.put("window", Usage.window(u.windowMillis()));
        ArrayNode containers = m.putArray("containers");
        u.containers().forEach((name, cu) -> {
            ObjectNode c = containers.addObject();
            c.put("name", name);
            usage(c.putObject("usage"), cu);
        });
        return m;
    }

    private static void usage(ObjectNode o, Usage u) {
        o.put("cpu", Usage.cpuQuantity(u.nanoCores()));
        o.put("memory", Usage.memoryQuantity(u.memoryBytes()));
    }

    /** The object's head: the metrics' name, namespace and labels are the Node's or Pod's; created now. */
    private ObjectNode object(String kind, ObjectNode of) {
        ObjectNode m = Json.object();
        m.put("kind", kind);
        m.put("apiVersion", GROUP + "/" + VERSION);
        ObjectNode meta = m.putObject("metadata");
        JsonNode src = of.path("metadata");
        meta.put("name", Json.text(src, "name"));
        if (src.hasNonNull("namespace")) meta.put("namespace", Json.text(src, "namespace"));
        meta.put("creationTimestamp", time(clock.millis()));
        if (src.path("labels").isObject() && !src.path("labels").isEmpty()) meta.set("labels", src.get("labels").deepCopy());
        return m;
    }

    private static ObjectNode list(String kind) {
        ObjectNode list = Json.object();
        list.put("kind", kind);
        list.put("apiVersion", GROUP + "/" + VERSION);
        list.putObject("metadata");
        return list;
    }

    private static String time(long millis) {
        return Instant.ofEpochMilli(millis).truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** Nodes whose Ready condition is True: the ones worth scraping. */
    private List<String> readyNodes() {
        List<String> out = new ArrayList<>();
        for (ObjectNode node : objects.list(nodes, null, ListOptions.ALL).items()) {
            for (JsonNode c : node.path("status").path("conditions")) {
                if ("Ready".equals(Json.text(c, "type")) && "True".equals(Json.text(c, "status"))) {
                    out.add(Json.text(node.path("metadata"), "name"));
                    break;
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        scraper.close();
    }

    private static boolean isTrue(String v) {
        return v != null && (v.equals("true") || v.equals("1"));
    }
}
