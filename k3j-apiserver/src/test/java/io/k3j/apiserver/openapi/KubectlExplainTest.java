package io.k3j.apiserver.openapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real kubectl binaries against a throwaway loopback HTTP server that serves minimal legacy discovery and
 * {@link OpenApiService}: proves the documents' format is what kubectl's explain (OpenAPI v3 templates, and
 * the v2 protobuf path) understands.
 */
class KubectlExplainTest {
    private static final OpenApiService OPENAPI = OpenApiService.builtin();
    private static HttpServer server;
    @TempDir static Path dir;
    private static Path kubeconfig;

    static Stream<String> kubectls() {
        List<String> all = new ArrayList<>();
        all.add("/usr/bin/kubectl");
        for (String v : new String[] {"1.27", "1.30", "1.33"}) all.add("/usr/lib/google-cloud-sdk/bin/kubectl." + v);
        return all.stream().filter(p -> Files.isExecutable(Path.of(p)));
    }

    @BeforeAll
    static void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", KubectlExplainTest::handle);
        server.start();
        kubeconfig = dir.resolve("kubeconfig");
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: t
                  cluster: {server: "http://127.0.0.1:%d"}
                contexts:
                - name: t
                  context: {cluster: t, user: u}
                current-context: t
                users:
                - name: u
                  user: {}
                """.formatted(server.getAddress().getPort()));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.stop(0);
    }

    private static void handle(HttpExchange ex) throws IOException {
        URI uri = ex.getRequestURI();
        String path = uri.getPath();
        String body = switch (path) {
            case "/api" -> "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1\"}]}";
            case "/apis" -> "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{\"name\":\"apps\",\"versions\":[{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}],\"preferredVersion\":{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}}]}";
            case "/api/v1" -> "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":[{\"name\":\"pods\",\"singularName\":\"pod\",\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":[\"get\",\"list\",\"patch\"],\"shortNames\":[\"po\"]}]}";
            case "/apis/apps/v1" -> "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"apps/v1\",\"resources\":[{\"name\":\"deployments\",\"singularName\":\"deployment\",\"namespaced\":true,\"kind\":\"Deployment\",\"verbs\":[\"get\",\"list\",\"patch\"],\"shortNames\":[\"deploy\"]}]}";
            default -> null;
        };
        if (body != null) {
            send(ex, 200, "application/json", body.getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        if (path.startsWith("/openapi/")) {
            String hash = null;
            if (uri.getQuery() != null) {
                for (String p : uri.getQuery().split("&")) if (p.startsWith("hash=")) hash = p.substring(5);
            }
            OpenApiService.Response r = OPENAPI.get(path, hash, ex.getRequestHeaders().getFirst("Accept"),
                    ex.getRequestHeaders().getFirst("If-None-Match"));
            send(ex, r.status(), r.contentType(), r.body(), r.headers());
            return;
        }
        send(ex, 404, "application/json", "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404}".getBytes(StandardCharsets.UTF_8), Map.of());
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body, Map<String, String> headers) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        if (type != null) ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) ex.getResponseBody().write(body);
        ex.close();
    }

    private static String kubectl(String binary, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(binary, "--kubeconfig", kubeconfig.toString(),
                "--cache-dir", dir.resolve("cache-" + Path.of(binary).getFileName()).toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kubectl finished").isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @ParameterizedTest
    @MethodSource("kubectls")
    @DisplayName("kubectl explain deployment.spec.replicas reads the OpenAPI v3 documents")
    void explainV3(String binary) throws Exception {
        assumeTrue(Files.isExecutable(Path.of(binary)));
        String out = kubectl(binary, "explain", "deployment.spec.replicas");
        assertThat(out).contains("KIND:").contains("Deployment").contains("replicas").contains("integer")
                .contains("Number of desired pods");
        String containers = kubectl(binary, "explain", "pods.spec.containers");
        assertThat(containers).contains("FIELD").contains("name").contains("image");
    }

    @ParameterizedTest
    @MethodSource("kubectls")
    @DisplayName("kubectl explain --output=plaintext-openapiv2 reads the protobuf /openapi/v2")
    void explainV2(String binary) throws Exception {
        assumeTrue(Files.isExecutable(Path.of(binary)));
        String out = kubectl(binary, "explain", "deployment.spec.replicas", "--output=plaintext-openapiv2");
        assertThat(out).contains("replicas").contains("<integer>").contains("Number of desired pods");
    }

    @ParameterizedTest
    @MethodSource("kubectls")
    @DisplayName("kubectl apply --dry-run=client validates with the served OpenAPI (strict validation finds fieldValidation support)")
    void applyDryRun(String binary) throws Exception {
        assumeTrue(Files.isExecutable(Path.of(binary)));
        Path manifest = dir.resolve("deploy.yaml");
        Files.writeString(manifest, """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                      - name: web
                        image: nginx
                        ports: [{containerPort: 80}]
                """);
        String out = kubectl(binary, "apply", "-f", manifest.toString(), "--dry-run=client", "--validate=strict");
        assertThat(out).contains("deployment.apps/web created (dry run)");
    }
}
