package io.k3j.apiserver.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.http.ApiRequest;
import io.k3j.apiserver.http.HttpExchange;
import io.k3j.apiserver.pki.ClusterPki;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringEncoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLException;

/**
 * The API server's way to a pod's kubelet: {@code pods/log}, {@code pods/exec}, {@code pods/attach},
 * {@code pods/portforward} and {@code nodes/proxy}. It checks what kube-apiserver checks (pod exists, container
 * named or unambiguous, pod on a node, container started), finds the node's address and kubelet port, connects
 * with TLS (kubelet serving certificate signed by the server CA, unless {@code insecureSkipTLSVerifyBackend}) as
 * {@code system:apiserver} in {@code system:masters} (k3s's kube-apiserver kubelet-client identity), forwards
 * the request and streams the answer back. Upgrades (SPDY, WebSocket) are forwarded as they came; once the
 * kubelet answers 101 both connections are spliced byte for byte, so every streaming protocol the kubelet speaks
 * (SPDY/3.1, v5.channel.k8s.io, SPDY tunneled in WebSocket for port-forward) reaches kubectl unchanged.
 *
 * <p>Every failure reaches the client as a Status: a kubelet's non-JSON error text becomes its message, an
 * unreachable kubelet a 500 "error dialing backend: ...".
 */
public final class KubeletProxy implements AutoCloseable {
    /** kubelet's port when the Node doesn't say ({@code status.daemonEndpoints.kubeletEndpoint.Port}). */
    public static final int DEFAULT_KUBELET_PORT = 10250;
    /** The identity the API server presents to kubelets (k3s's client-kube-apiserver certificate). */
    public static final String CLIENT_NAME = "system:apiserver";
    private static final Set<String> POD_SUBRESOURCES = Set.of("log", "exec", "attach", "portforward");
    private static final int MAX_ERROR_BODY = 64 * 1024;

    private final ObjectStore objects;
    private final ResourceType pods;
    private final ResourceType nodes;
    private final SslContext verifying;
    private final SslContext insecure;
    private final KubeletClient client = new KubeletClient();

    private KubeletProxy(ObjectStore objects, ResourceRegistry registry, SslContext verifying, SslContext insecure) {
        this.objects = objects;
        this.pods = registry.find("", "v1", "pods").orElseThrow();
        this.nodes = registry.find("", "v1", "nodes").orElseThrow();
        this.verifying = verifying;
        this.insecure = insecure;
    }

    /**
     * A proxy presenting a fresh client certificate ({@value #CLIENT_NAME}, {@code system:masters}, signed by the
     * client CA, valid for {@link ClusterPki#LEAF_VALIDITY}) and trusting kubelets whose serving certificate the
     * server CA signed.
     *
     * @throws SSLException if the JDK rejects the key material
     */
    public static KubeletProxy create(ObjectStore objects, ResourceRegistry registry, ClusterPki pki) throws SSLException {
        ClusterPki.KeyAndChain client = pki.kubeletClientKeyAndChain();
        PrivateKey key = client.key();
        X509Certificate[] chain = client.chain();
        SslContext verifying = SslContextBuilder.forClient().keyManager(key, chain).keyStoreType(ClusterPki.IN_MEMORY_KEY_STORE).trustManager(pki.serverCaCertificate())
                .protocols("TLSv1.3", "TLSv1.2").build();
        SslContext insecure = SslContextBuilder.forClient().keyManager(key, chain).keyStoreType(ClusterPki.IN_MEMORY_KEY_STORE).trustManager(InsecureTrustManagerFactory.INSTANCE)
                .endpointIdentificationAlgorithm(null).protocols("TLSv1.3", "TLSv1.2").build();
        return new KubeletProxy(objects, registry, verifying, insecure);
    }

    /** Whether this proxy serves {@code subresource} of {@code type}. */
    public static boolean handles(ResourceType type, String subresource) {
        if (subresource == null || !type.group().isEmpty()) return false;
        return type.plural().equals("pods") && (POD_SUBRESOURCES.contains(subresource) || subresource.equals("proxy"))
                || type.plural().equals("nodes") && subresource.equals("proxy");
    }

    /**
     * The verb RBAC checks: {@code create} for exec, attach and portforward whatever the method (WebSocket
     * clients use GET; kube-apiserver checks create for them since 1.30), {@code get} for logs, and the method's
     * verb for proxy.
     */
    public static String verb(String subresource, String method) {
        return switch (subresource) {
            case "exec", "attach", "portforward" -> "create";
            case "log" -> "get";
            default -> switch (method) {
                case "GET", "HEAD", "OPTIONS" -> "get";
                case "POST" -> "create";
                case "PUT" -> "update";
                case "PATCH" -> "patch";
                case "DELETE" -> "delete";
                default -> method.toLowerCase(java.util.Locale.ROOT);
            };
        };
    }

    /**
     * Serves one request.
     *
     * @param rest the path after {@code /proxy} for nodes/proxy (may be empty)
     * @throws ApiException for the pod's or request's faults (404, 400) and for an unreachable kubelet (500)
     */
    public void serve(ApiRequest req, HttpExchange ex, ResourceType type, String namespace, String name, String subresource, String rest)
            throws IOException {
        if (type.plural().equals("nodes")) {
            nodeProxy(req, ex, name, rest == null ? "" : rest);
            return;
        }
        if (subresource.equals("proxy")) {
            podProxy(req, ex, namespace, name, rest == null ? "" : rest);
            return;
        }
        ObjectNode pod = objects.get(pods, namespace, name, "");
        switch (subresource) {
            case "log" -> log(req, ex, pod, namespace, name);
            case "exec", "attach" -> stream(req, ex, pod, namespace, name, subresource);
            case "portforward" -> {
                String node = requireNode(pod, name);
                forward(req, ex, node, "/portForward/" + namespace + "/" + name, req.query(), Set.of(), true);
            }
            default -> throw ApiException.notFoundPath("the server could not find the requested resource");
        }
    }

    // ------------------------------------------------------------------ pods/log

    private void log(ApiRequest req, HttpExchange ex, ObjectNode pod, String namespace, String name) throws IOException {
        if (!req.method().equals("GET")) throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
        String container = container(pod, name, req.param("container"));
        checkLogOptions(req);
        String node = Json.text(pod.path("spec"), "nodeName");
        if (node == null || node.isEmpty()) {
            // kube-apiserver answers an unscheduled pod's log with nothing: there is no kubelet to ask yet
            ex.send(200, "text/plain", new byte[0], Map.of());
            return;
        }
        JsonNode status = containerStatus(pod, container);
        if (status == null || status.path("state").has("waiting") && !status.path("lastState").has("terminated")) {
            String reason = status == null ? "ContainerCreating" : Json.text(status.path("state").path("waiting"), "reason");
            throw ApiException.badRequest("container \"" + container + "\" in pod \"" + name + "\" is waiting to start: "
                    + (reason == null || reason.isEmpty() ? "ContainerCreating" : reason));
        }
        Map<String, List<String>> query = new java.util.LinkedHashMap<>();
        for (String p : List.of("follow", "previous", "sinceSeconds", "sinceTime", "timestamps", "tailLines", "limitBytes")) {
            if (req.param(p) != null) query.put(p, List.of(req.param(p)));
        }
        forward(req, ex, node, "/containerLogs/" + namespace + "/" + name + "/" + container, query,
                Set.of(), !isTrue(req.param("insecureSkipTLSVerifyBackend")));
    }

    private static void checkLogOptions(ApiRequest req) {
        Long since = nonNegative(req, "sinceSeconds", 1);
        nonNegative(req, "tailLines", 0);
        nonNegative(req, "limitBytes", 1);
        String sinceTime = req.param("sinceTime");
        if (since != null && sinceTime != null) {
            throw ApiException.invalid("", "PodLogOptions", "", List.of(ApiException.Cause.forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified")));
        }
        if (sinceTime != null) {
            try {
                java.time.OffsetDateTime.parse(sinceTime);
            } catch (java.time.format.DateTimeParseException e) {
                throw ApiException.badRequest("sinceTime: invalid value \"" + sinceTime + "\": expected RFC 3339 time");
            }
        }
    }

    private static Long nonNegative(ApiRequest req, String param, long min) {
        String v = req.param(param);
        if (v == null) return null;
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest(param + ": invalid value \"" + v + "\": must be an integer");
        }
        if (n < min) {
            throw ApiException.invalid("", "PodLogOptions", "", List.of(ApiException.Cause.invalid(param, n,
                    min == 0 ? "must be greater than or equal to 0" : "must be greater than 0")));
        }
        return n;
    }

    // ------------------------------------------------------------------ pods/exec, pods/attach

    private void stream(ApiRequest req, HttpExchange ex, ObjectNode pod, String namespace, String name, String sub) throws IOException {
        String container = container(pod, name, req.param("container"));
        String node = requireNode(pod, name);
        String phase = Json.text(pod.path("status"), "phase");
        if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
            throw ApiException.badRequest("cannot " + (sub.equals("exec") ? "exec into" : "attach to")
                    + " a container in a completed pod; current phase is " + phase);
        }
        if (sub.equals("exec") && req.params("command").isEmpty()) throw ApiException.badRequest("you must specify at least 1 command");
        forward(req, ex, node, "/" + sub + "/" + namespace + "/" + name + "/" + container, req.query(), Set.of("container"), true);
    }

    // ------------------------------------------------------------------ nodes/proxy

    private void nodeProxy(ApiRequest req, HttpExchange ex, String name, String rest) throws IOException {
        String nodeName = name;
        int colon = name.lastIndexOf(':');
        if (colon > 0) nodeName = name.substring(0, colon);
        forward(req, ex, nodeName, rest.isEmpty() ? "/" : rest, req.query(), Set.of(), true);
    }

    // ------------------------------------------------------------------ pods/proxy

    /**
     * {@code pods/[scheme:]name[:port]/proxy/path}: straight to the pod's IP (as kube-apiserver does, not through
     * the kubelet), plain HTTP unless the scheme says https (then without verifying the pod's certificate).
     */
    private void podProxy(ApiRequest req, HttpExchange ex, String namespace, String spec, String rest) throws IOException {
        String[] parts = spec.split(":", -1);
        String scheme = "http";
        String name;
        String port = "";
        switch (parts.length) {
            case 1 -> name = parts[0];
            case 2 -> {
                name = parts[0];
                port = parts[1];
            }
            case 3 -> {
                scheme = parts[0];
                name = parts[1];
                port = parts[2];
            }
            default -> throw ApiException.badRequest("invalid request \"" + spec + "\"");
        }
        if (!scheme.equals("http") && !scheme.equals("https")) throw ApiException.badRequest("invalid scheme \"" + scheme + "\"");
        ObjectNode pod = objects.get(pods, namespace, name, "");
        String ip = Json.text(pod.path("status"), "podIP");
        if (ip == null || ip.isEmpty()) throw ApiException.serviceUnavailable("pod " + name + " has no IP yet");
        int target = port.isEmpty() ? 80 : portOf(pod, port);
        SslContext ssl = scheme.equals("https") ? insecure : null;
        send(req, ex, ssl, new Endpoint(ip, target), rest.isEmpty() ? "/" : rest, req.query(), Set.of());
    }

    /** A port number, or the number of a named container port. */
    private static int portOf(ObjectNode pod, String port) {
        try {
            return Integer.parseInt(port);
        } catch (NumberFormatException e) {
            for (JsonNode c : pod.path("spec").path("containers")) {
                for (JsonNode p : c.path("ports")) {
                    if (port.equals(p.path("name").asText())) return p.path("containerPort").asInt();
                }
            }
            throw ApiException.badRequest("no such port \"" + port + "\" in pod " + Json.text(pod.path("metadata"), "name"));
        }
    }

    // ------------------------------------------------------------------ common

    /** The container a request means: the named one, or the pod's only container. */
    private static String container(ObjectNode pod, String podName, String named) {
        List<String> containers = names(pod.path("spec").path("containers"));
        List<String> init = names(pod.path("spec").path("initContainers"));
        List<String> ephemeral = names(pod.path("spec").path("ephemeralContainers"));
        if (named == null || named.isEmpty()) {
            if (containers.size() == 1) return containers.get(0);
            StringBuilder msg = new StringBuilder("a container name must be specified for pod " + podName + ", choose one of: " + goList(containers));
            if (!init.isEmpty()) msg.append(" or one of the init containers: ").append(goList(init));
            if (!ephemeral.isEmpty()) msg.append(" or one of the ephemeral containers: ").append(goList(ephemeral));
            throw ApiException.badRequest(msg.toString());
        }
        if (containers.contains(named) || init.contains(named) || ephemeral.contains(named)) return named;
        throw ApiException.badRequest("container " + named + " is not valid for pod " + podName);
    }

    private static List<String> names(JsonNode list) {
        List<String> out = new ArrayList<>();
        for (JsonNode c : list) out.add(c.path("name").asText());
        return out;
    }

    /** How Go's %s prints a []string. */
    private static String goList(List<String> names) {
        return "[" + String.join(" ", names) + "]";
    }

    private static JsonNode containerStatus(ObjectNode pod, String container) {
        for (String field : List.of("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses")) {
            for (JsonNode s : pod.path("status").path(field)) {
                if (container.equals(s.path("name").asText())) return s;
            }
        }
        return null;
    }

    private static String requireNode(ObjectNode pod, String name) {
        String node = Json.text(pod.path("spec"), "nodeName");
        if (node == null || node.isEmpty()) throw ApiException.badRequest("pod " + name + " does not have a host assigned");
        return node;
    }

    /** Where a node's kubelet listens: its first InternalIP (then ExternalIP, Hostname) and its kubelet port. */
    private Endpoint kubelet(String nodeName) {
        ObjectNode node = objects.find(nodes, null, nodeName).orElseThrow(() -> ApiException.notFound("", "nodes", nodeName));
        JsonNode status = node.path("status");
        String address = null;
        for (String kind : List.of("InternalIP", "ExternalIP", "Hostname")) {
            for (JsonNode a : status.path("addresses")) {
                if (kind.equals(a.path("type").asText()) && !a.path("address").asText().isEmpty()) {
                    address = a.path("address").asText();
                    break;
                }
            }
            if (address != null) break;
        }
        if (address == null) throw ApiException.internal("node " + nodeName + " has no address to reach its kubelet at");
        int port = status.path("daemonEndpoints").path("kubeletEndpoint").path("Port").asInt(0);
        return new Endpoint(address, port > 0 ? port : DEFAULT_KUBELET_PORT);
    }

    private record Endpoint(String host, int port) {
    }

    /**
     * Sends the request to the node's kubelet at {@code path} with {@code query}, then streams the answer back, or
     * splices both connections after a 101.
     */
    private void forward(ApiRequest req, HttpExchange ex, String nodeName, String path, Map<String, List<String>> query,
                         Set<String> dropParams, boolean verify) throws IOException {
        send(req, ex, verify ? verifying : insecure, kubelet(nodeName), path, query, dropParams);
    }

    private void send(ApiRequest req, HttpExchange ex, SslContext ssl, Endpoint kubelet, String path, Map<String, List<String>> query,
                      Set<String> dropParams) throws IOException {
        QueryStringEncoder uri = new QueryStringEncoder(encodePath(path));
        query.forEach((k, values) -> {
            if (!dropParams.contains(k)) for (String v : values) uri.addParam(k, v);
        });
        FullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(req.method()), uri.toString(),
                Unpooled.wrappedBuffer(req.body()));
        req.headers().forEach(h -> {
            String n = h.getKey().toLowerCase(java.util.Locale.ROOT);
            if (n.equals("authorization") || n.startsWith("impersonate-") || n.equals("host") || n.equals("content-length")
                    || n.equals("transfer-encoding") || n.equals("accept-encoding") || n.startsWith(":")) return;
            out.headers().add(h.getKey(), h.getValue());
        });
        out.headers().set(HttpHeaderNames.HOST, hostHeader(kubelet));
        HttpUtil.setContentLength(out, req.body().length);
        KubeletClient.Call call;
        try {
            call = client.send(ssl, kubelet.host, kubelet.port, out);
        } catch (IOException e) {
            throw ApiException.internal("error dialing backend: " + e.getMessage());
        }
        HttpResponse head = call.head();
        int code = head.status().code();
        if (code == 101) {
            Channel raw = ex.takeOver();
            if (raw == null) {
                call.close();
                throw ApiException.badRequest("protocol upgrades need HTTP/1.1");
            }
            KubeletClient.Upgraded up = call.upgraded();
            raw.writeAndFlush(Unpooled.wrappedBuffer(responseHead(head))).awaitUninterruptibly();
            Splice.join(raw, up.channel(), up.early());
            return;
        }
        if (code >= 300) {
            try (call) {
                relayError(ex, code, head, call.readAll(MAX_ERROR_BODY));
            }
            return;
        }
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        head.headers().forEach(h -> {
            String n = h.getKey().toLowerCase(java.util.Locale.ROOT);
            if (n.equals("content-length") || n.equals("transfer-encoding") || n.equals("connection") || n.equals("content-type")
                    || n.equals("keep-alive")) return;
            headers.put(h.getKey(), h.getValue());
        });
        String contentType = head.headers().get(HttpHeaderNames.CONTENT_TYPE, "text/plain");
        try (call; HttpExchange.Stream stream = ex.stream(code, contentType, headers)) {
            stream.onClose(call::close);
            for (byte[] chunk; (chunk = call.read()) != null; ) {
                if (chunk.length > 0) stream.write(chunk);
            }
        } catch (IOException e) {
            // the client went away or the kubelet's connection broke mid-stream: nothing more can be said
        }
    }

    private static String encodePath(String path) {
        StringBuilder out = new StringBuilder();
        for (String seg : path.split("/", -1)) {
            if (!out.isEmpty() || path.startsWith("/")) out.append('/');
            out.append(URLEncoder.encode(seg, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        String s = out.toString();
        return s.startsWith("//") ? s.substring(1) : s;
    }

    private static String hostHeader(Endpoint e) {
        return (e.host.contains(":") ? "[" + e.host + "]" : e.host) + ":" + e.port;
    }

    private static byte[] responseHead(HttpResponse head) {
        StringBuilder sb = new StringBuilder("HTTP/1.1 ").append(head.status().code()).append(' ').append(head.status().reasonPhrase()).append("\r\n");
        head.headers().forEach(h -> sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n"));
        sb.append("\r\n");
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A kubelet's error as a Status: passed through when it is one, else its text becomes the message. */
    private static void relayError(HttpExchange ex, int code, HttpResponse head, byte[] body) {
        String contentType = head.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        if (contentType.startsWith("application/json")) {
            try {
                ObjectNode status = Json.parseObject(body);
                if ("Status".equals(Json.text(status, "kind"))) {
                    ex.send(code, "application/json", body, Map.of());
                    return;
                }
            } catch (RuntimeException e) {
                // not a Status: wrapped below
            }
        }
        String text = new String(body, StandardCharsets.UTF_8).trim();
        if (text.isEmpty()) text = "the kubelet answered " + code + " " + head.status().reasonPhrase();
        String reason = switch (code) {
            case 400 -> "BadRequest";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "NotFound";
            case 405 -> "MethodNotAllowed";
            case 409 -> "Conflict";
            case 429 -> "TooManyRequests";
            case 503 -> "ServiceUnavailable";
            case 504 -> "Timeout";
            default -> code >= 500 ? "InternalError" : "";
        };
        ex.send(code, "application/json", Json.bytes(ApiException.of(code, reason, text).toStatus()), Map.of());
    }

    private static boolean isTrue(String v) {
        return v != null && (v.equals("true") || v.equals("1") || v.equalsIgnoreCase("t"));
    }

    /**
     * GETs {@code path} from a node's kubelet (TLS verified, as {@value #CLIENT_NAME}) and answers the body, for the
     * API server's own scrapes (io.k3j.apiserver.metrics).
     *
     * @param maxBytes the most of the body kept
     * @throws IOException naming the kubelet when it can't be reached or answers other than 200
     * @throws ApiException 404 when the node doesn't exist, 500 when it has no address
     */
    public byte[] get(String nodeName, String path, int maxBytes) throws IOException {
        Endpoint kubelet = kubelet(nodeName);
        FullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path, Unpooled.EMPTY_BUFFER);
        out.headers().set(HttpHeaderNames.HOST, hostHeader(kubelet));
        HttpUtil.setContentLength(out, 0);
        try (KubeletClient.Call call = client.send(verifying, kubelet.host, kubelet.port, out)) {
            byte[] body = call.readAll(maxBytes);
            int code = call.head().status().code();
            if (code != 200) {
                throw new IOException("kubelet " + hostHeader(kubelet) + " answered " + path + " with " + code + ": "
                        + new String(body, 0, Math.min(body.length, 512), StandardCharsets.UTF_8).trim());
            }
            return body;
        }
    }

    @Override
    public void close() {
        client.close();
    }

    // ------------------------------------------------------------------ PEM
}
