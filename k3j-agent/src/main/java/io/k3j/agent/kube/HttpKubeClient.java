package io.k3j.agent.kube;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/**
 * {@link KubeClient} on the JDK's {@link HttpClient}: HTTP/2 over TLS when the server's ALPN offers it (k3j's does),
 * HTTP/1.1 otherwise; the cluster CA as the only trust anchor; a client certificate (the node's) or a bearer token
 * as credentials. Watches stream newline-delimited JSON events, each read on its own virtual thread.
 *
 * <p>Thread-safe; one instance serves the whole agent (HTTP/2 multiplexes every request and watch over one
 * connection).
 */
public final class HttpKubeClient implements KubeClient {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Long enough for a slow list; a server that says nothing for this long is treated as unreachable. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final URI server;
    private final HttpClient http;
    private final String authorization;
    private final java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

    private HttpKubeClient(URI server, SSLContext tls, String authorization) {
        this.server = stripSlash(requireNonNull(server, "server"));
        this.authorization = authorization;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_2)
                .sslContext(tls)
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .executor(executor)
                .build();
    }

    /**
     * A client authenticating with a client certificate.
     *
     * @param server  e.g. {@code https://10.0.0.1:6443}
     * @param caPem   the server CA bundle: the only certificates trusted
     * @param certPem the client certificate chain (leaf first)
     * @param keyPem  its private key
     * @throws IllegalArgumentException if a PEM cannot be read
     */
    public static HttpKubeClient withClientCertificate(URI server, String caPem, String certPem, String keyPem) {
        requireNonNull(certPem, "certPem");
        requireNonNull(keyPem, "keyPem");
        return new HttpKubeClient(server, TlsMaterial.context(caPem, certPem, keyPem), null);
    }

    /** A client sending {@code Authorization: Bearer <token>}. */
    public static HttpKubeClient withBearerToken(URI server, String caPem, String token) {
        return new HttpKubeClient(server, TlsMaterial.context(caPem, null, null), "Bearer " + requireNonNull(token, "token"));
    }

    /** A client sending HTTP basic credentials (a join token's {@code node:<password>}). */
    public static HttpKubeClient withBasicAuth(URI server, String caPem, String user, String password) {
        String basic = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return new HttpKubeClient(server, TlsMaterial.context(caPem, null, null), "Basic " + basic);
    }

    /** The server's base URI. */
    public URI server() {
        return server;
    }

    @Override
    public ObjectNode get(String path) {
        return json(send(request(path, Map.of()).GET()));
    }

    @Override
    public ObjectNode list(String collectionPath, Map<String, String> query) {
        return json(send(request(collectionPath, query).GET()));
    }

    @Override
    public ObjectNode create(String collectionPath, ObjectNode obj) {
        return json(send(request(collectionPath, Map.of()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Json.bytes(obj)))));
    }

    @Override
    public ObjectNode update(String path, ObjectNode obj) {
        return json(send(request(path, Map.of()).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(Json.bytes(obj)))));
    }

    @Override
    public ObjectNode patch(String path, String contentType, String body) {
        return json(send(request(path, Map.of()).header("Content-Type", requireNonNull(contentType, "contentType"))
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))));
    }

    @Override
    public void delete(String path, ObjectNode options) {
        HttpRequest.Builder b = request(path, Map.of());
        if (options == null) {
            b.DELETE();
        } else {
            b.header("Content-Type", "application/json").method("DELETE", HttpRequest.BodyPublishers.ofByteArray(Json.bytes(options)));
        }
        send(b);
    }

    /**
     * Sends any request and returns the raw body of a 2xx answer (for non-JSON endpoints such as pod logs).
     *
     * @throws ApiException for a 4xx/5xx answer; {@link Unreachable} when the server cannot be reached
     */
    public byte[] raw(String method, String path, Map<String, String> query, String contentType, byte[] body) {
        HttpRequest.Builder b = request(path, query);
        if (contentType != null) b.header("Content-Type", contentType);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        return send(b);
    }

    @Override
    public Watch watch(String collectionPath, Map<String, String> query, Consumer<WatchEvent> events, Consumer<Throwable> onClose) {
        requireNonNull(events, "events");
        requireNonNull(onClose, "onClose");
        java.util.LinkedHashMap<String, String> q = new java.util.LinkedHashMap<>(query);
        q.put("watch", "true");
        q.putIfAbsent("allowWatchBookmarks", "true");
        HttpRequest req = request(collectionPath, q).GET().timeout(REQUEST_TIMEOUT).build();
        StreamingWatch w = new StreamingWatch();
        w.thread = Thread.ofVirtual().name("watch " + collectionPath).start(() -> w.run(req, events, onClose));
        return w;
    }

    @Override
    public void close() {
        http.close();
        executor.close();
    }

    @Override
    public String toString() {
        return "HttpKubeClient[" + server + "]";
    }

    // ---- internals -------------------------------------------------------------------------------------------

    private final class StreamingWatch implements Watch {
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile InputStream body;
        private volatile Thread thread;

        void run(HttpRequest req, Consumer<WatchEvent> events, Consumer<Throwable> onClose) {
            Throwable cause = null;
            try {
                HttpResponse<InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
                body = resp.body();
                if (resp.statusCode() >= 300) {
                    byte[] bytes;
                    try (InputStream in = resp.body()) {
                        bytes = in.readAllBytes();
                    }
                    throw error(resp.statusCode(), bytes);
                }
                if (closed.get()) return;
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
                    for (String line = reader.readLine(); line != null && !closed.get(); line = reader.readLine()) {
                        if (line.isBlank()) continue;
                        ObjectNode ev = Json.parseObject(line.getBytes(StandardCharsets.UTF_8));
                        JsonNode obj = ev.get("object");
                        events.accept(new WatchEvent(Json.text(ev, "type"),
                                obj instanceof ObjectNode o ? o : Json.object()));
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                if (!closed.get()) cause = new Unreachable("watch of " + req.uri().getPath() + " failed: " + e, e);
            } catch (RuntimeException e) {
                if (!closed.get()) cause = e;
            } finally {
                if (!closed.get() || cause != null) onClose.accept(cause);
            }
        }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) return;
            InputStream in = body;
            if (in != null) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // the stream is being torn down anyway
                }
            }
            Thread t = thread;
            if (t != null) t.interrupt();
        }
    }

    private HttpRequest.Builder request(String path, Map<String, String> query) {
        StringBuilder uri = new StringBuilder(server.toString()).append(path.startsWith("/") ? "" : "/").append(path);
        char sep = path.contains("?") ? '&' : '?';
        for (Map.Entry<String, String> e : query.entrySet()) {
            uri.append(sep).append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
            sep = '&';
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(uri.toString()))
                .timeout(REQUEST_TIMEOUT)
                .header("Accept", "application/json")
                .header("User-Agent", "k3j-agent");
        if (authorization != null) b.header("Authorization", authorization);
        return b;
    }

    private byte[] send(HttpRequest.Builder b) {
        HttpRequest req = b.build();
        HttpResponse<byte[]> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new Unreachable(req.method() + " " + req.uri() + ": " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable(req.method() + " " + req.uri() + ": interrupted", e);
        }
        if (resp.statusCode() >= 300) throw error(resp.statusCode(), resp.body());
        return resp.body();
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        if (m == null && e.getCause() != null) m = e.getCause().toString();
        return e.getClass().getSimpleName() + (m == null ? "" : " " + m);
    }

    private static ObjectNode json(byte[] body) {
        if (body.length == 0) return Json.object();
        return Json.parseObject(body);
    }

    /** The server's Status as an ApiException; a body that is no Status keeps its text as the message. */
    static ApiException error(int code, byte[] body) {
        String reason = "";
        String message = new String(body, StandardCharsets.UTF_8).strip();
        try {
            JsonNode n = Json.MAPPER.readTree(body);
            if (n != null && "Status".equals(Json.text(n, "kind"))) {
                reason = Json.text(n, "reason");
                message = Json.text(n, "message");
                if (n.hasNonNull("code")) code = n.get("code").asInt(code);
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: keep the text
        }
        if (reason == null || reason.isEmpty()) reason = defaultReason(code);
        if (message == null || message.isEmpty()) message = reason;
        return ApiException.of(code, reason, message);
    }

    private static String defaultReason(int code) {
        return switch (code) {
            case 400 -> "BadRequest";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "NotFound";
            case 405 -> "MethodNotAllowed";
            case 409 -> "Conflict";
            case 410 -> "Expired";
            case 422 -> "Invalid";
            case 429 -> "TooManyRequests";
            case 503 -> "ServiceUnavailable";
            case 504 -> "Timeout";
            default -> code >= 500 ? "InternalError" : "Unknown";
        };
    }

    private static URI stripSlash(URI u) {
        String s = u.toString();
        return s.endsWith("/") ? URI.create(s.substring(0, s.length() - 1)) : u;
    }
}
