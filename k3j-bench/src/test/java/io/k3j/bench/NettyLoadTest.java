package io.k3j.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import io.netty.handler.ssl.SslContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Netty load generator against a real in-process control plane (memory:// store), both protocols. */
class NettyLoadTest {

    @TempDir static Path dir;
    private static ControlPlane cp;
    private static AdminCredentials cred;
    private static HttpClient admin;

    @BeforeAll
    static void start() throws Exception {
        ServerConfig d = ServerConfig.defaults(dir);
        Path kubeconfig = dir.resolve("kubeconfig");
        cp = ControlPlane.start(new ServerConfig(dir, "127.0.0.1", 0, "", List.of(), kubeconfig, "0600", null, "memory://",
                d.clusterCidr(), d.serviceCidr(), d.clusterDns(), d.clusterDomain(), "", List.of()));
        cred = AdminCredentials.load(kubeconfig).withServer(URI.create("https://127.0.0.1:" + cp.port()));
        admin = Http.client(cred.sslContext(), HttpClient.Version.HTTP_2);
    }

    @AfterAll
    static void stop() {
        if (admin != null) admin.close();
        if (cp != null) cp.close();
    }

    private static NettyLoad.Request[] creates(NettyLoad gen, String ns, int count) {
        NettyLoad.Request[] out = new NettyLoad.Request[count];
        for (int i = 0; i < count; i++) {
            out[i] = gen.request("POST", "/api/v1/namespaces/" + ns + "/configmaps", "application/json",
                    CreateBench.configMapJson(i).getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    @DisplayName("HTTP/2 over TLS: every create is answered 201 once, its body kept, and the objects exist; repeating them counts 409s as errors")
    void h2CreatesAndErrors() throws Exception {
        Env.createNamespace(admin, cred.server(), "h2");
        SslContext tls = NettyLoad.tls(cred.keys(), true, true);
        try (NettyLoad gen = NettyLoad.h2(cred.server(), tls, 2, 1)) {
            Load.Result r = gen.run(creates(gen, "h2", 300), 8, 201, true);
            assertThat(r.errors()).as(r.summary()).isZero();
            assertThat(r.latencySorted()).hasSize(300);
            assertThat(r.latencySorted()[0]).isPositive();
            assertThat(Arrays.stream(r.bodies()).filter(Objects::nonNull).map(b -> new String(b, StandardCharsets.UTF_8)))
                    .hasSize(300).allMatch(b -> b.contains("\"kind\":\"ConfigMap\"") && b.contains("\"uid\""));
            assertThat(r.responseBytes()).isEqualTo(Arrays.stream(r.bodies()).mapToLong(b -> b.length).sum());
            assertThat(Env.missingNames(admin, cred.server().resolve("/api/v1/namespaces/h2/configmaps"), "cm-", 300)).isZero();

            Load.Result again = gen.run(creates(gen, "h2", 50), 8, 201, false);
            assertThat(again.errors()).isEqualTo(50);
            assertThat(again.firstError()).startsWith("409 ").contains("AlreadyExists");
            assertThat(gen.allOpen()).isTrue();
        }
    }

    @Test
    @DisplayName("a LIST read through HTTP/2 has as many body bytes as the JDK client reads")
    void h2ListReadsTheWholeBody() throws Exception {
        Env.createNamespace(admin, cred.server(), "listed");
        SslContext tls = NettyLoad.tls(cred.keys(), true, false); // the JDK TLS engine this time
        try (NettyLoad gen = NettyLoad.h2(cred.server(), tls, 1, 1)) {
            assertThat(gen.run(creates(gen, "listed", 200), 4, 201, false).errors()).isZero();
            HttpResponse<byte[]> jdk = admin.send(HttpRequest.newBuilder(cred.server().resolve("/api/v1/namespaces/listed/configmaps"))
                    .header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofByteArray());
            Load.Result list = gen.run(new NettyLoad.Request[] {gen.request("GET", "/api/v1/namespaces/listed/configmaps", null, null)},
                    1, 200, true);
            assertThat(list.errors()).as(list.summary()).isZero();
            assertThat(list.responseBytes()).isEqualTo(jdk.body().length).isGreaterThan(200 * 100);
            assertThat(new String(list.bodies()[0], StandardCharsets.UTF_8)).contains("\"kind\":\"ConfigMapList\"");
        }
    }

    @Test
    @DisplayName("HTTP/1.1 keep-alive over TLS: one connection per client, all answered, a client cannot have two connections' worth")
    void http1Creates() throws Exception {
        Env.createNamespace(admin, cred.server(), "h1");
        SslContext tls = NettyLoad.tls(cred.keys(), false, true);
        try (NettyLoad gen = NettyLoad.http1(cred.server(), tls, 4, 1)) {
            Load.Result r = gen.run(creates(gen, "h1", 200), 4, 201, false);
            assertThat(r.errors()).as(r.summary()).isZero();
            assertThat(Env.missingNames(admin, cred.server().resolve("/api/v1/namespaces/h1/configmaps"), "cm-", 200)).isZero();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> gen.run(creates(gen, "h1", 10), 5, 201, false))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one HTTP/1.1 connection per client");
        }
    }
}
