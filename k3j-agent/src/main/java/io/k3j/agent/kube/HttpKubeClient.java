package io.k3j.agent.kube;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/**
 * {@link KubeClient} over HTTP/2 and TLS on Netty (the transport the agent's CRI client and kubelet API use too, so
 * the agent carries one HTTP stack, not two): the cluster CA as the only trust anchor, the server's name or address
 * checked against its certificate, a client certificate (the node's) or a bearer token as credentials. Watches
 * stream newline-delimited JSON events, each read on its own virtual thread.
 *
 * <p>Thread-safe; one instance serves the whole agent (HTTP/2 multiplexes every request and watch over one
 * connection). The server must offer HTTP/2 by ALPN (k3j's and Kubernetes' API servers do).
 */
public final class HttpKubeClient implements KubeClient {
    /** Long enough for a slow list; a server that says nothing for this long is treated as unreachable. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final URI server;
    private final H2Connection http;
    private final String authorization;

    private HttpKubeClient(URI server, SslContext tls, String authorization) {
        this.server = stripSlash(requireNonNull(server, "server"));
        this.authorization = authorization;
        this.http = new H2Connection(this.server, tls);
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
        return new HttpKubeClient(server, tls(caPem, certPem, keyPem), null);
    }

    /** A client sending {@code Authorization: Bearer <token>}. */
    public static HttpKubeClient withBearerToken(URI server, String caPem, String token) {
        return new HttpKubeClient(server, tls(caPem, null, null), "Bearer " + requireNonNull(token, "token"));
    }

    /** A client sending HTTP basic credentials (a join token's {@code node:<password>}). */
    public static HttpKubeClient withBasicAuth(URI server, String caPem, String user, String password) {
        String basic = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return new HttpKubeClient(server, tls(caPem, null, null), "Basic " + basic);
    }

    /**
     * A client that accepts any server certificate and checks no name, and sends no credentials: only for
     * downloading a CA bundle whose hash is verified afterwards (k3s's {@code /cacerts} bootstrap). Never send a
     * secret with it.
     */
    public static HttpKubeClient trustingAnyServer(URI server) {
        try {
            return new HttpKubeClient(server, SslContextBuilder.forClient()
                    .trustManager(InsecureTrustManagerFactory.INSTANCE)
                    .endpointIdentificationAlgorithm(null)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .applicationProtocolConfig(H2_ONLY)
                    .build(), null);
        } catch (SSLException e) {
            throw new IllegalStateException("no TLS client context available", e);
        }
    }

    private static final ApplicationProtocolConfig H2_ONLY = new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "h2");

    /** Netty's TLS (BoringSSL when netty-tcnative is on the class path, the JDK's engine otherwise). */
    private static SslContext tls(String caPem, String certPem, String keyPem) {
        requireNonNull(caPem, "caPem");
        SslContextBuilder b = SslContextBuilder.forClient()
                .trustManager(TlsMaterial.certificates(caPem).toArray(X509Certificate[]::new))
                .endpointIdentificationAlgorithm("HTTPS")
                .protocols("TLSv1.3", "TLSv1.2")
                .applicationProtocolConfig(H2_ONLY);
        if (certPem != null && keyPem != null) {
            b.keyManager(TlsMaterial.privateKey(keyPem), TlsMaterial.certificates(certPem).toArray(X509Certificate[]::new));
        }
        try {
            return b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("building a TLS context from PEM: " + e.getMessage(), e);
        }
    }

    /** The server's base URI. */
    public URI server() {
        return server;
    }

    @Override
    public ObjectNode get(String path) {
        return json(send("GET", path, Map.of(), null, null));
    }

    @Override
    public ObjectNode list(String collectionPath, Map<String, String> query) {
        return json(send("GET", collectionPath, query, null, null));
    }

    @Override
    public ObjectNode create(String collectionPath, ObjectNode obj) {
        return json(send("POST", collectionPath, Map.of(), "application/json", Json.bytes(obj)));
    }

    @Override
    public ObjectNode update(String path, ObjectNode obj) {
        return json(send("PUT", path, Map.of(), "application/json", Json.bytes(obj)));
    }

    @Override
    public ObjectNode patch(String path, String contentType, String body) {
        return json(send("PATCH", path, Map.of(), requireNonNull(contentType, "contentType"), body.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void delete(String path, ObjectNode options) {
        if (options == null) send("DELETE", path, Map.of(), null, null);
        else send("DELETE", path, Map.of(), "application/json", Json.bytes(options));
    }

    /**
     * Sends any request and returns the raw body of a 2xx answer (for non-JSON endpoints such as pod logs).
     *
     * @throws ApiException for a 4xx/5xx answer; {@link Unreachable} when the server cannot be reached
     */
    public byte[] raw(String method, String path, Map<String, String> query, String contentType, byte[] body) {
        return send(method, path, query, contentType, body);
    }

    /** An answer whatever its status. */
    public record Answer(int status, byte[] body) {
    }

    /**
     * Sends any request with extra {@code headers} (this client's credentials are added) and returns the answer
     * whatever its status: for endpoints that are no Kubernetes API, such as k3s's join endpoints.
     *
     * @throws Unreachable when the server cannot be reached or does not answer within {@code timeout}
     */
    public Answer exchange(String method, String path, Map<String, String> headers, byte[] body, Duration timeout) {
        H2Connection.Request req = request(method, path, Map.of(), headers, body);
        try {
            H2Connection.Response resp = http.exchange(req, timeout.toMillis());
            return new Answer(resp.status(), resp.body());
        } catch (IOException e) {
            throw new Unreachable(method + " " + server + req.path() + ": " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable(method + " " + server + req.path() + ": interrupted", e);
        }
    }

    @Override
    public Watch watch(String collectionPath, Map<String, String> query, Consumer<WatchEvent> events, Consumer<Throwable> onClose) {
        requireNonNull(events, "events");
        requireNonNull(onClose, "onClose");
        LinkedHashMap<String, String> q = new LinkedHashMap<>(query);
        q.put("watch", "true");
        q.putIfAbsent("allowWatchBookmarks", "true");
        H2Connection.Request req = request("GET", collectionPath, q, Map.of(), null);
        StreamingWatch w = new StreamingWatch();
        w.thread = Thread.ofVirtual().name("watch " + collectionPath).start(() -> w.run(req, events, onClose));
        return w;
    }

    @Override
    public void close() {
        http.close();
    }

    @Override
    public String toString() {
        return "HttpKubeClient[" + server + "]";
    }

    // ---- internals -------------------------------------------------------------------------------------------

    private final class StreamingWatch implements Watch {
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile H2Connection.Stream stream;
        private volatile Thread thread;

        void run(H2Connection.Request req, Consumer<WatchEvent> events, Consumer<Throwable> onClose) {
            Throwable cause = null;
            try {
                H2Connection.Stream s = http.open(req, System.nanoTime() + REQUEST_TIMEOUT.toNanos());
                stream = s;
                try (s) {
                    if (s.status() >= 300) throw error(s.status(), s.readAll(System.nanoTime() + REQUEST_TIMEOUT.toNanos()));
                    if (closed.get()) return;
                    Lines lines = new Lines();
                    for (byte[] chunk = s.next(0); chunk != null && !closed.get(); chunk = s.next(0)) {
                        lines.feed(chunk, line -> {
                            if (closed.get()) return;
                            ObjectNode ev = Json.parseObject(line);
                            JsonNode obj = ev.get("object");
                            events.accept(new WatchEvent(Json.text(ev, "type"), obj instanceof ObjectNode o ? o : Json.object()));
                        });
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                if (!closed.get()) cause = new Unreachable("watch of " + pathOnly(req.path()) + " failed: " + describe(e), e);
            } catch (RuntimeException e) {
                if (!closed.get()) cause = e;
            } finally {
                if (!closed.get() || cause != null) onClose.accept(cause);
            }
        }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) return;
            H2Connection.Stream s = stream;
            if (s != null) s.close();
            Thread t = thread;
            if (t != null) t.interrupt();
        }
    }

    /** Splits a byte stream into its non-blank lines (a line may span chunks). */
    static final class Lines {
        private static final byte[] EMPTY = new byte[0];
        private byte[] partial = EMPTY;

        void feed(byte[] chunk, Consumer<byte[]> line) {
            int from = 0;
            for (int i = 0; i < chunk.length; i++) {
                if (chunk[i] != '\n') continue;
                byte[] l = take(chunk, from, i);
                if (!blank(l)) line.accept(l);
                from = i + 1;
            }
            partial = take(chunk, from, chunk.length);
        }

        /** What is left over plus {@code chunk[from, to)}; nothing is left over after. */
        private byte[] take(byte[] chunk, int from, int to) {
            byte[] out = new byte[partial.length + (to - from)];
            System.arraycopy(partial, 0, out, 0, partial.length);
            System.arraycopy(chunk, from, out, partial.length, to - from);
            partial = EMPTY;
            return out;
        }

        private static boolean blank(byte[] l) {
            for (byte b : l) if (b != ' ' && b != '\t' && b != '\r') return false;
            return true;
        }
    }

    private static String pathOnly(String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        return q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
    }

    private H2Connection.Request request(String method, String path, Map<String, String> query, Map<String, String> headers, byte[] body) {
        StringBuilder uri = new StringBuilder(path.startsWith("/") ? "" : "/").append(path);
        char sep = path.contains("?") ? '&' : '?';
        for (Map.Entry<String, String> e : query.entrySet()) {
            uri.append(sep).append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
            sep = '&';
        }
        Map<String, String> h = new LinkedHashMap<>();
        h.put("accept", "application/json");
        h.put("user-agent", "k3j-agent");
        if (authorization != null) h.put("authorization", authorization);
        headers.forEach((k, v) -> h.put(k.toLowerCase(java.util.Locale.ROOT), v));
        return new H2Connection.Request(method, server.getRawPath() + uri, h, body);
    }

    private byte[] send(String method, String path, Map<String, String> query, String contentType, byte[] body) {
        H2Connection.Request req = request(method, path, query, contentType == null ? Map.of() : Map.of("content-type", contentType), body);
        H2Connection.Response resp;
        try {
            resp = http.exchange(req, REQUEST_TIMEOUT.toMillis());
        } catch (IOException e) {
            throw new Unreachable(method + " " + server + req.path() + ": " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable(method + " " + server + req.path() + ": interrupted", e);
        }
        if (resp.status() >= 300) throw error(resp.status(), resp.body());
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
