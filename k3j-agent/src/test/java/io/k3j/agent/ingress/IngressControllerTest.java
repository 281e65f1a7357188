package io.k3j.agent.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.agent.kube.Informer;
import io.k3j.apiserver.pki.CertAndKey;
import io.k3j.controllers.testing.TestCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The ingress controller against a real control plane: Ingresses, Services, EndpointSlices and TLS secrets written
 * through the API, read back by informers over HTTPS, and real HTTP (JDK client, curl, raw sockets) through the
 * proxy to backends on loopback.
 */
class IngressControllerTest {
    static TestCluster cluster;
    static HttpKubeClient client;
    static List<Informer> informers = new ArrayList<>();
    static IngressController ingress;
    static Backend a;
    static Backend b;
    static Backend c;
    static Backend.WebSocketEcho ws;
    static int http;
    static int https;
    static final HttpClient jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of());
        CertAndKey admin = cluster.controlPlane().pki().adminCredentials();
        client = HttpKubeClient.withClientCertificate(URI.create("https://127.0.0.1:" + cluster.controlPlane().port()),
                cluster.controlPlane().pki().serverCaPem(), admin.certificatePem(), admin.privateKeyPem());
        a = new Backend("a", "127.0.0.1", 0);
        b = new Backend("b", "127.0.0.1", 0);
        c = new Backend("c", "127.0.0.1", 0);
        ws = new Backend.WebSocketEcho("127.0.0.1");
        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata:
                  name: k3j
                  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
                spec: {controller: k3j.io/ingress-controller}
                """);
        backendService("svc-a", a.port());
        backendService("svc-b", b.port());
        backendService("svc-c", c.port());
        backendService("svc-ws", ws.port());
        // hostless paths for the JDK client, which cannot send a Host header of its choice
        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: anyhost, namespace: default}
                spec:
                  rules:
                  - http:
                      paths:
                      - {path: /headers, pathType: Prefix, backend: {service: {name: svc-a, port: {number: 80}}}}
                      - {path: /upload, pathType: Prefix, backend: {service: {name: svc-b, port: {name: http}}}}
                      - {path: /ws, pathType: Exact, backend: {service: {name: svc-ws, port: {number: 80}}}}
                """);
        informers.add(new Informer(client, IngressController.INGRESSES, Map.of(), null));
        informers.add(new Informer(client, IngressController.INGRESS_CLASSES, Map.of(), null));
        informers.add(new Informer(client, IngressController.SERVICES, Map.of(), null));
        informers.add(new Informer(client, IngressController.ENDPOINT_SLICES, Map.of(), null));
        informers.add(IngressController.tlsSecrets(client, null));
        ingress = new IngressController(IngressConfig.of(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0)),
                informers.get(0), informers.get(1), informers.get(2), informers.get(3), informers.get(4)).start();
        for (Informer i : informers) {
            i.start();
            assertTrue(i.awaitSynced(Duration.ofSeconds(20)), "informer synced");
        }
        http = ingress.httpAddress().getPort();
        https = ingress.httpsAddress().getPort();
        awaitStatus(200, "http://127.0.0.1:" + http + "/headers", Duration.ofSeconds(5));
    }

    @AfterAll
    static void stop() {
        if (ingress != null) ingress.close();
        informers.forEach(Informer::close);
        for (AutoCloseable x : new AutoCloseable[] {a, b, c, ws}) {
            try {
                if (x != null) x.close();
            } catch (Exception e) {
                // keep closing the rest
            }
        }
        if (client != null) client.close();
        if (cluster != null) cluster.close();
    }

    // ---- fixtures ----------------------------------------------------------------------------------------------

    /** A selector-less Service (port 80, named http) with an EndpointSlice pointing at 127.0.0.1:port. */
    static void backendService(String name, int port) {
        service(name);
        slice(name, name, port, "127.0.0.1");
    }

    static void service(String name) {
        cluster.create("""
                apiVersion: v1
                kind: Service
                metadata: {name: %s, namespace: default}
                spec:
                  ports: [{name: http, port: 80, protocol: TCP}]
                """.formatted(name));
    }

    static void slice(String slice, String service, int port, String... ips) {
        StringBuilder eps = new StringBuilder();
        for (String ip : ips) eps.append("  - addresses: [\"").append(ip).append("\"]\n    conditions: {ready: true}\n");
        cluster.create("""
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: %s
                  namespace: default
                  labels: {kubernetes.io/service-name: %s}
                addressType: IPv4
                ports: [{name: http, port: %d, protocol: TCP}]
                endpoints:
                %s""".formatted(slice, service, port, eps));
    }

    record Reply(int status, String body, String version) {
        String field(String name) {
            for (String l : body.split("\n")) {
                if (l.startsWith(name + "=")) return l.substring(name.length() + 1);
            }
            return null;
        }
    }

    /** curl to {@code host} resolved to 127.0.0.1 (never a DNS query), printing status and HTTP version last. */
    static Reply curl(String scheme, String host, String path, String... extra) throws Exception {
        int port = scheme.equals("https") ? https : http;
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/curl", "-s", "-S", "--max-time", "10", "--noproxy", "*",
                "--resolve", host + ":" + port + ":127.0.0.1", "-w", "\n%{http_code} %{http_version}"));
        cmd.addAll(List.of(extra));
        cmd.add(scheme + "://" + host + ":" + port + path);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(15, TimeUnit.SECONDS), "curl finished");
        int nl = out.lastIndexOf('\n');
        String[] tail = out.substring(nl + 1).split(" ");
        return new Reply(Integer.parseInt(tail[0]), out.substring(0, nl), tail.length > 1 ? tail[1] : "");
    }

    static Reply get(String url) throws Exception {
        HttpResponse<String> r = jdk.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r.version().toString());
    }

    static void awaitStatus(int status, String url, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = get(url).status();
            if (last == status) return;
            Thread.sleep(20);
        }
        throw new AssertionError("expected " + status + " from " + url + " within " + timeout + ", last " + last);
    }

    /** Polls curl until the status is seen; returns how long it took. */
    static Duration awaitCurl(int status, String scheme, String host, String path, Duration timeout) throws Exception {
        long t0 = System.nanoTime();
        int last = -1;
        while (System.nanoTime() - t0 < timeout.toNanos()) {
            last = curl(scheme, host, path).status();
            if (last == status) return Duration.ofNanos(System.nanoTime() - t0);
            Thread.sleep(10);
        }
        throw new AssertionError("expected " + status + " from " + host + path + " within " + timeout + ", last " + last);
    }

    // ---- routing -----------------------------------------------------------------------------------------------

    @Test
    @DisplayName("host and path rules: longest prefix wins, element-wise; Exact beats Prefix; unknown host is 404")
    void hostAndPathRouting() throws Exception {
        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: myapp, namespace: default}
                spec:
                  rules:
                  - host: myapp.k3d.localhost
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: svc-a, port: {number: 80}}}}
                      - {path: /api, pathType: Prefix, backend: {service: {name: svc-b, port: {number: 80}}}}
                      - {path: /api/exact, pathType: Exact, backend: {service: {name: svc-c, port: {name: http}}}}
                      - {path: /impl, pathType: ImplementationSpecific, backend: {service: {name: svc-c, port: {number: 80}}}}
                """);
        awaitCurl(200, "http", "myapp.k3d.localhost", "/", Duration.ofSeconds(5));
        assertEquals("a", curl("http", "myapp.k3d.localhost", "/").field("name"));
        assertEquals("b", curl("http", "myapp.k3d.localhost", "/api").field("name"));
        assertEquals("b", curl("http", "myapp.k3d.localhost", "/api/").field("name"));
        assertEquals("b", curl("http", "myapp.k3d.localhost", "/api/v1?x=1").field("name"));
        assertEquals("a", curl("http", "myapp.k3d.localhost", "/apiary").field("name"), "prefixes match whole path elements");
        assertEquals("c", curl("http", "MyApp.K3D.localhost", "/api/exact").field("name"), "hosts compare case-insensitively");
        assertEquals("b", curl("http", "myapp.k3d.localhost", "/api/exact/more").field("name"));
        assertEquals("c", curl("http", "myapp.k3d.localhost", "/impl/x").field("name"));
        Reply r = curl("http", "myapp.k3d.localhost", "/api/v1?x=1");
        assertEquals("/api/v1?x=1", r.field("path"), "the request URI reaches the backend unchanged");

        Reply unknown = curl("http", "nobody.k3d.localhost", "/");
        assertEquals(404, unknown.status());
        assertEquals("404 page not found\n", unknown.body(), "Traefik's body");
        client.delete("/apis/networking.k8s.io/v1/namespaces/default/ingresses/myapp", null);
        awaitCurl(404, "http", "myapp.k3d.localhost", "/", Duration.ofSeconds(2));
    }

    @Test
    @DisplayName("a *.wildcard host matches exactly one label; an exact host wins over it")
    void wildcardHost() throws Exception {
        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: wild, namespace: default}
                spec:
                  rules:
                  - host: "*.wild.localhost"
                    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: svc-a, port: {number: 80}}}}]}
                  - host: exact.wild.localhost
                    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: svc-b, port: {number: 80}}}}]}
                """);
        awaitCurl(200, "http", "x.wild.localhost", "/", Duration.ofSeconds(5));
        assertEquals("a", curl("http", "foo.wild.localhost", "/").field("name"));
        assertEquals("b", curl("http", "exact.wild.localhost", "/").field("name"));
        assertEquals(404, curl("http", "a.b.wild.localhost", "/").status(), "two labels deep");
        assertEquals(404, curl("http", "wild.localhost", "/").status(), "the bare domain");
        client.delete("/apis/networking.k8s.io/v1/namespaces/default/ingresses/wild", null);
    }

    @Test
    @DisplayName("defaultBackend takes what no rule matches; Ingresses of another class are ignored; legacy annotation works")
    void defaultBackendAndClasses() throws Exception {
        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: other-class, namespace: default}
                spec:
                  ingressClassName: nginx
                  rules:
                  - host: other.localhost
                    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: svc-a, port: {number: 80}}}}]}
                """);
        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: legacy
                  namespace: default
                  annotations: {kubernetes.io/ingress.class: k3j}
                spec:
                  rules:
                  - host: legacy.localhost
                    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: svc-c, port: {number: 80}}}}]}
                """);
        awaitCurl(200, "http", "legacy.localhost", "/", Duration.ofSeconds(5));
        assertEquals(404, curl("http", "other.localhost", "/").status());

        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: fallback, namespace: default}
                spec:
                  defaultBackend: {service: {name: svc-b, port: {number: 80}}}
                """);
        awaitCurl(200, "http", "anything.localhost", "/whatever", Duration.ofSeconds(5));
        assertEquals("b", curl("http", "anything.localhost", "/whatever").field("name"));
        assertEquals("b", curl("http", "other.localhost", "/").field("name"));
        assertEquals("c", curl("http", "legacy.localhost", "/").field("name"), "rules still win over the default backend");
        for (String n : List.of("fallback", "legacy", "other-class")) {
            client.delete("/apis/networking.k8s.io/v1/namespaces/default/ingresses/" + n, null);
        }
        awaitCurl(404, "http", "anything.localhost", "/whatever", Duration.ofSeconds(2));
    }

    @Test
    @DisplayName("503 while the backend has no ready endpoint, 200 within 1 s of one appearing; 502 when it refuses")
    void endpointsAppearing() throws Exception {
        service("svc-late");
        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: late, namespace: default}
                spec:
                  rules:
                  - host: late.localhost
                    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: svc-late, port: {number: 80}}}}]}
                  - host: refused.localhost
                    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: svc-refused, port: {number: 80}}}}]}
                """);
        awaitCurl(503, "http", "late.localhost", "/", Duration.ofSeconds(5));
        slice("svc-late-1", "svc-late", c.port(), "127.0.0.1");
        Duration took = awaitCurl(200, "http", "late.localhost", "/", Duration.ofSeconds(1));
        assertTrue(took.toMillis() <= 1000, "took " + took);

        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        service("svc-refused");
        slice("svc-refused-1", "svc-refused", closed, "127.0.0.1");
        awaitCurl(502, "http", "refused.localhost", "/", Duration.ofSeconds(5));
        client.delete("/apis/networking.k8s.io/v1/namespaces/default/ingresses/late", null);
    }

    @Test
    @DisplayName("endpoints are used round-robin, not-ready ones skipped")
    void roundRobin() throws Exception {
        try (Backend r1 = new Backend("r1", "127.0.0.2", 0); Backend r2 = new Backend("r2", "127.0.0.3", r1.port())) {
            service("svc-rr");
            cluster.create("""
                    apiVersion: discovery.k8s.io/v1
                    kind: EndpointSlice
                    metadata:
                      name: svc-rr-1
                      namespace: default
                      labels: {kubernetes.io/service-name: svc-rr}
                    addressType: IPv4
                    ports: [{name: http, port: %d, protocol: TCP}]
                    endpoints:
                    - addresses: ["127.0.0.2"]
                    - addresses: ["127.0.0.3"]
                      conditions: {ready: true}
                    - addresses: ["127.0.0.4"]
                      conditions: {ready: false}
                    """.formatted(r1.port()));
            cluster.create("""
                    apiVersion: networking.k8s.io/v1
                    kind: Ingress
                    metadata: {name: rr, namespace: default}
                    spec:
                      rules:
                      - host: rr.localhost
                        http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: svc-rr, port: {number: 80}}}}]}
                    """);
            awaitCurl(200, "http", "rr.localhost", "/", Duration.ofSeconds(5));
            Map<String, Integer> seen = new HashMap<>();
            for (int i = 0; i < 10; i++) seen.merge(curl("http", "rr.localhost", "/").field("name"), 1, Integer::sum);
            assertEquals(Map.of("r1", 5, "r2", 5), seen);
            client.delete("/apis/networking.k8s.io/v1/namespaces/default/ingresses/rr", null);
        }
    }

    // ---- headers, connections, bodies --------------------------------------------------------------------------

    @Test
    @DisplayName("the backend sees X-Forwarded-For (appended), -Proto, -Host, -Port and X-Real-Ip")
    void forwardedHeaders() throws Exception {
        HttpResponse<String> r = jdk.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/headers"))
                .header("X-Forwarded-For", "203.0.113.7").build(), HttpResponse.BodyHandlers.ofString());
        Reply reply = new Reply(r.statusCode(), r.body(), "");
        assertEquals(200, reply.status());
        assertEquals("203.0.113.7, 127.0.0.1", reply.field("xff"));
        assertEquals("http", reply.field("proto"));
        assertEquals("127.0.0.1:" + http, reply.field("xhost"));
        assertEquals(Integer.toString(http), reply.field("xport"));
        assertEquals("127.0.0.1", reply.field("realip"));
        assertEquals("127.0.0.1:" + http, reply.field("host"), "the Host header is passed on");
    }

    @Test
    @DisplayName("keep-alive: requests on one client connection, served over one pooled upstream connection; pipelining in order")
    void keepAlive() throws Exception {
        try (Socket s = new Socket("127.0.0.1", http)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            Set<String> upstreamPorts = new HashSet<>();
            for (int i = 0; i < 5; i++) {
                out.write(("GET /headers/" + i + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Reply r = readResponse(in);
                assertEquals(200, r.status());
                assertEquals("/headers/" + i, r.field("path"));
                upstreamPorts.add(r.field("conn"));
            }
            assertEquals(1, upstreamPorts.size(), "one upstream connection reused: " + upstreamPorts);

            // pipelined: three requests in one write are answered in order
            StringBuilder three = new StringBuilder();
            for (int i = 0; i < 3; i++) three.append("GET /headers/p").append(i).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            out.write(three.toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
            for (int i = 0; i < 3; i++) assertEquals("/headers/p" + i, readResponse(in).field("path"));
        }
    }

    /** Reads one HTTP/1.1 response with a Content-Length or chunked body. */
    static Reply readResponse(InputStream in) throws IOException {
        String status = line(in);
        Map<String, String> headers = new HashMap<>();
        for (String l = line(in); !l.isEmpty(); l = line(in)) {
            int colon = l.indexOf(':');
            headers.put(l.substring(0, colon).trim().toLowerCase(), l.substring(colon + 1).trim());
        }
        byte[] body;
        if (headers.containsKey("content-length")) {
            body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        } else {
            var buf = new java.io.ByteArrayOutputStream();
            for (int n = Integer.parseInt(line(in), 16); n > 0; n = Integer.parseInt(line(in), 16)) {
                buf.write(in.readNBytes(n));
                line(in);
            }
            line(in);
            body = buf.toByteArray();
        }
        return new Reply(Integer.parseInt(status.split(" ")[1]), new String(body, StandardCharsets.UTF_8), status.split(" ")[0]);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int ch = in.read(); ch != '\n'; ch = in.read()) {
            if (ch < 0) throw new IOException("connection closed");
            if (ch != '\r') sb.append((char) ch);
        }
        return sb.toString();
    }

    @Test
    @DisplayName("a large chunked upload streams through: the backend has bytes before the client has sent them all")
    void streamedUpload() throws Exception {
        long total = 64L << 20;
        PipedInputStream pipeIn = new PipedInputStream(1 << 20);
        PipedOutputStream pipeOut = new PipedOutputStream(pipeIn);
        b.uploaded.set(0);
        CompletableFuture<HttpResponse<String>> done = jdk.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/upload"))
                        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> pipeIn)).build(),
                HttpResponse.BodyHandlers.ofString());
        byte[] chunk = new byte[256 * 1024];
        java.util.Arrays.fill(chunk, (byte) 'x');
        long sent = 0;
        // the first 4 MiB, then wait until the backend has received them before sending the rest: a proxy that
        // buffered whole bodies would never pass this point
        while (sent < (4 << 20)) {
            pipeOut.write(chunk);
            sent += chunk.length;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (b.uploaded.get() < (2 << 20)) {
            assertTrue(System.nanoTime() < deadline, "backend received " + b.uploaded.get() + " bytes of the first 4 MiB");
            Thread.sleep(5);
        }
        while (sent < total) {
            pipeOut.write(chunk);
            sent += chunk.length;
        }
        pipeOut.close();
        HttpResponse<String> r = done.get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertEquals(Long.toString(total), new Reply(200, r.body(), "").field("bytes"));
        assertEquals("b", new Reply(200, r.body(), "").field("name"));
    }

    @Test
    @DisplayName("WebSocket: the upgrade passes through and frames are echoed both ways")
    void webSocketEcho() throws Exception {
        var received = new java.util.concurrent.LinkedBlockingQueue<String>();
        WebSocket socket = jdk.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + http + "/ws"), new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                received.add(data.toString());
                webSocket.request(1);
                return null;
            }
        }).get(10, TimeUnit.SECONDS);
        try {
            socket.sendText("hello", true).get(5, TimeUnit.SECONDS);
            assertEquals("echo: hello", received.poll(5, TimeUnit.SECONDS));
            socket.sendText("again", true).get(5, TimeUnit.SECONDS);
            assertEquals("echo: again", received.poll(5, TimeUnit.SECONDS));
        } finally {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    @DisplayName("HTTP/1.x on the wire: hop-by-hop fields dropped both ways, Expect answered by the proxy, absolute-form"
            + " target made origin-form, a close-ended body re-framed chunked, chunks undone for HTTP/1.0, 400 for garbage")
    void wireLevelHttp1() throws Exception {
        try (Backend.Scripted raw = new Backend.Scripted("127.0.0.1")) {
            backendService("svc-raw", raw.port());
            cluster.create("""
                    apiVersion: networking.k8s.io/v1
                    kind: Ingress
                    metadata: {name: raw, namespace: default}
                    spec:
                      rules:
                      - host: raw.localhost
                        http: {paths: [{path: /raw, pathType: Prefix, backend: {service: {name: svc-raw, port: {number: 80}}}}]}
                    """);
            awaitCurl(200, "http", "raw.localhost", "/raw/echo", Duration.ofSeconds(10));
            try (Socket s = new Socket("127.0.0.1", http)) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                out.write(("GET http://raw.localhost/raw/echo?q=1 HTTP/1.1\r\nHost: raw.localhost\r\nConnection: X-Drop\r\n"
                        + "X-Drop: secret\r\nKeep-Alive: 5\r\nX-Forwarded-Proto: spoofed\r\nX-Forwarded-For: 198.51.100.1\r\n"
                        + "Content-Length: 3\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                assertEquals(100, wireResponse(in, false).status(), "the proxy asks for the body itself");
                out.write("abc".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Wire echo = wireResponse(in, false);
                assertEquals(200, echo.status());
                String seen = echo.body();
                assertTrue(seen.startsWith("GET /raw/echo?q=1 HTTP/1.1\r\n"), seen);
                assertTrue(seen.contains("\r\nHost: raw.localhost\r\n"), seen);
                assertTrue(seen.contains("\r\nContent-Length: 3\r\n"), seen);
                assertTrue(seen.contains("\r\nX-Forwarded-Proto: http\r\n"), seen);
                assertTrue(seen.contains("\r\nX-Forwarded-For: 198.51.100.1, 127.0.0.1\r\n"), seen);
                assertTrue(seen.endsWith("\r\n\r\nabc"), seen);
                for (String gone : List.of("X-Drop", "Keep-Alive", "Connection", "Expect", "spoofed")) {
                    assertTrue(!seen.contains(gone), gone + " reached the endpoint: " + seen);
                }

                out.write("GET /raw/close HTTP/1.1\r\nHost: raw.localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Wire closed = wireResponse(in, false);
                assertEquals("HTTP/1.1", closed.version());
                assertEquals("chunked", closed.headers().get("transfer-encoding"), "a close-ended body goes on chunked");
                assertEquals("until-close", closed.body());

                out.write("GET /raw/chunked HTTP/1.1\r\nHost: raw.localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Wire chunked = wireResponse(in, false);
                assertEquals("helloworld", chunked.body(), "the same client connection went on");
                assertEquals("yes", chunked.headers().get("x-kept"));
                for (String gone : List.of("x-secret", "keep-alive", "connection")) {
                    assertTrue(!chunked.headers().containsKey(gone), gone + " reached the client: " + chunked.headers());
                }
            }
            try (Socket s = new Socket("127.0.0.1", http)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("GET /raw/chunked HTTP/1.0\r\nHost: raw.localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                Wire old = wireResponse(s.getInputStream(), true);
                assertEquals(200, old.status());
                assertEquals("helloworld", old.body(), "chunks undone for an HTTP/1.0 client, the body ended by the close");
                assertTrue(!old.headers().containsKey("transfer-encoding"), old.headers().toString());
            }
            try (Socket s = new Socket("127.0.0.1", http)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("NONSENSE\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                Wire bad = wireResponse(s.getInputStream(), false);
                assertEquals(400, bad.status());
                assertEquals(-1, s.getInputStream().read(), "the connection closes after a 400");
            }
        }
    }

    private static int chunkSize(String line) {
        int semi = line.indexOf(';');
        return Integer.parseInt(semi < 0 ? line : line.substring(0, semi), 16);
    }

    record Wire(String version, int status, Map<String, String> headers, String body) { }

    /** One response as bytes: a Content-Length, chunked or (untilClose) close-ended body; none for 1xx. */
    static Wire wireResponse(InputStream in, boolean untilClose) throws IOException {
        String[] status = line(in).split(" ");
        Map<String, String> headers = new HashMap<>();
        for (String l = line(in); !l.isEmpty(); l = line(in)) {
            int colon = l.indexOf(':');
            headers.put(l.substring(0, colon).trim().toLowerCase(), l.substring(colon + 1).trim());
        }
        int code = Integer.parseInt(status[1]);
        byte[] body;
        if (code < 200) {
            body = new byte[0];
        } else if (untilClose) {
            body = in.readAllBytes();
        } else if (headers.containsKey("content-length")) {
            body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        } else {
            var buf = new java.io.ByteArrayOutputStream();
            for (int n = chunkSize(line(in)); n > 0; n = chunkSize(line(in))) {
                buf.write(in.readNBytes(n));
                line(in);
            }
            line(in);
            body = buf.toByteArray();
        }
        return new Wire(status[0], code, headers, new String(body, StandardCharsets.ISO_8859_1));
    }

    // ---- TLS and HTTP/2 ----------------------------------------------------------------------------------------

    @Test
    @DisplayName("TLS: the Ingress's secret by SNI (updated live), the K3J DEFAULT CERT otherwise; h2 by ALPN")
    void tlsBySni() throws Exception {
        cluster.create(tlsSecret("secure-tls", "secure.localhost"));
        cluster.create("""
                apiVersion: v1
                kind: Secret
                metadata: {name: opaque-one, namespace: default}
                type: Opaque
                data: {x: eQ==}
                """);
        cluster.create("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: secure, namespace: default}
                spec:
                  tls: [{hosts: [secure.localhost], secretName: secure-tls}]
                  rules:
                  - host: secure.localhost
                    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: svc-c, port: {number: 80}}}}]}
                """);
        awaitCert("secure.localhost", "CN=secure.localhost", Duration.ofSeconds(5));
        assertEquals("CN=" + Certificates.DEFAULT_CN, serverCert("unknown.localhost").getSubjectX500Principal().getName());
        assertEquals("CN=" + Certificates.DEFAULT_CN, serverCert(null).getSubjectX500Principal().getName(), "no SNI at all");
        assertTrue(informers.get(4).list().stream().noneMatch(s -> s.path("metadata").path("name").asText().equals("opaque-one")),
                "the secrets informer holds TLS secrets only");

        Reply r = curl("https", "secure.localhost", "/", "-k");
        assertEquals(200, r.status());
        assertEquals("c", r.field("name"));
        assertEquals("https", r.field("proto"));
        assertEquals("2", r.version(), "curl negotiates h2 by ALPN");
        Reply h1 = curl("https", "secure.localhost", "/", "-k", "--http1.1");
        assertEquals("1.1", h1.version());
        assertEquals("https", h1.field("proto"));

        // the secret changes: the new certificate is served within a second
        var updated = (com.fasterxml.jackson.databind.node.ObjectNode) io.k3j.api.Json.parseYamlOrJson(
                tlsSecret("secure-tls", "secure2.localhost").getBytes(StandardCharsets.UTF_8));
        updated.with("metadata").put("resourceVersion",
                client.get("/api/v1/namespaces/default/secrets/secure-tls").path("metadata").path("resourceVersion").asText());
        client.update("/api/v1/namespaces/default/secrets/secure-tls", updated);
        awaitCert("secure.localhost", "CN=secure2.localhost", Duration.ofSeconds(1));
        client.delete("/apis/networking.k8s.io/v1/namespaces/default/ingresses/secure", null);
        awaitCert("secure.localhost", "CN=" + Certificates.DEFAULT_CN, Duration.ofSeconds(2));
    }

    @Test
    @DisplayName("HTTP/2: h2 over TLS (JDK client, many streams on one connection) and h2c with prior knowledge")
    void http2() throws Exception {
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(trustAll()).build();
        try {
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                all.add(h2.sendAsync(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + https + "/headers/" + i)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> r = all.get(i).get(10, TimeUnit.SECONDS);
                assertEquals(200, r.statusCode());
                assertEquals(HttpClient.Version.HTTP_2, r.version());
                assertEquals("/headers/" + i, new Reply(200, r.body(), "").field("path"));
                assertEquals("https", new Reply(200, r.body(), "").field("proto"));
            }
            HttpResponse<String> post = h2.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + https + "/upload"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[3_000_000])).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("3000000", new Reply(200, post.body(), "").field("bytes"), "an h2 request body reaches the HTTP/1.1 backend");
        } finally {
            h2.close();
        }
        Reply r = curl("http", "127.0.0.1", "/headers", "--http2-prior-knowledge");
        assertEquals(200, r.status());
        assertEquals("2", r.version());
        assertEquals("a", r.field("name"));
        assertEquals(404, curl("http", "127.0.0.1", "/nothing", "--http2-prior-knowledge").status());
    }

    // ---- TLS helpers -------------------------------------------------------------------------------------------

    static void awaitCert(String sni, String subject, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            last = serverCert(sni).getSubjectX500Principal().getName();
            if (last.equals(subject)) return;
            Thread.sleep(20);
        }
        throw new AssertionError("expected " + subject + " for " + sni + " within " + timeout + ", got " + last);
    }

    static X509Certificate serverCert(String sni) throws Exception {
        try (SSLSocket s = (SSLSocket) trustAll().getSocketFactory().createSocket("127.0.0.1", https)) {
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            s.setSSLParameters(p);
            s.setSoTimeout(5000);
            s.startHandshake();
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }

    static SSLContext trustAll() throws Exception {
        return io.k3j.agent.kube.TlsMaterial.trustingAnything();
    }

    static String tlsSecret(String name, String host) throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(256);
        KeyPair pair = gen.generateKeyPair();
        X500Name subject = new X500Name("CN=" + host);
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)), subject, pair.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, host)));
        X509Certificate cert = new JcaX509CertificateConverter()
                .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        String crt = pem("CERTIFICATE", cert.getEncoded());
        String key = pem("PRIVATE KEY", pair.getPrivate().getEncoded());
        Base64.Encoder b64 = Base64.getEncoder();
        return """
                apiVersion: v1
                kind: Secret
                metadata: {name: %s, namespace: default}
                type: kubernetes.io/tls
                data:
                  tls.crt: %s
                  tls.key: %s
                """.formatted(name, b64.encodeToString(crt.getBytes(StandardCharsets.US_ASCII)),
                b64.encodeToString(key.getBytes(StandardCharsets.US_ASCII)));
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
