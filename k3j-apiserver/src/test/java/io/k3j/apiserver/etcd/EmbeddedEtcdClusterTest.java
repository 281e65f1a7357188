package io.k3j.apiserver.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import io.k3j.apiserver.testing.TestServers;
import io.k3j.store.testing.DebianPackages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Control planes on embedded etcd: {@code --cluster-init}, servers joining with {@code --server} and the token,
 * one shared API, failover when a member dies, and a deleted server Node leaving the membership. All servers share
 * this JVM and loopback, on distinct ports.
 */
class EmbeddedEtcdClusterTest {
    private static final System.Logger LOG = System.getLogger(EmbeddedEtcdClusterTest.class.getName());
    @TempDir Path dir;
    private final List<ControlPlane> servers = new ArrayList<>();

    @BeforeAll
    static void etcdInstalled() {
        DebianPackages.ensure(EmbeddedEtcd.ETCD_PACKAGE);
    }

    @AfterEach
    void stopAll() {
        for (int i = servers.size() - 1; i >= 0; i--) servers.get(i).close();
    }

    private ControlPlane start(ServerConfig config) {
        ControlPlane cp = ControlPlane.start(config);
        servers.add(cp);
        return cp;
    }

    private ServerConfig clusterInit(String name) {
        ServerConfig c = EtcdTesting.config(dir.resolve(name), name, EtcdTesting.freePorts(3));
        return c.withEtcd(c.etcd().withClusterInit(true));
    }

    private ServerConfig joining(String name, ControlPlane first) {
        ServerConfig c = EtcdTesting.config(dir.resolve(name), name, EtcdTesting.freePorts(3));
        return c.withEtcd(c.etcd().withServer("https://127.0.0.1:" + first.port())).withToken(first.token().token().encoded());
    }

    @Test
    @DisplayName("a --cluster-init server keeps its objects in its etcd member and hands bootstrap data only to the server token")
    void clusterInitServesTheApi() throws Exception {
        ControlPlane cp = start(clusterInit("server-0"));
        assertThat(cp.etcd()).isPresent();
        Api api = new Api(cp);
        assertThat(api.send("POST", "/api/v1/namespaces/default/configmaps", configMap("one", "1")).statusCode()).isEqualTo(201);
        assertThat(Json.parse(api.send("GET", "/api/v1/namespaces/default/configmaps/one", null).body()).path("data").path("k").asText())
                .isEqualTo("1");
        // the object is in the member's keyspace
        String key = cp.registry().find("", "v1", "configmaps").orElseThrow().key("default", "one");
        try (var store = io.k3j.store.etcd.EtcdStore.open(List.of(URI.create(cp.etcd().orElseThrow().endpoint())),
                cp.etcd().orElseThrow().clientTls())) {
            assertThat(store.get(key)).isPresent();
        }

        String password = cp.token().password();
        HttpClient plain = HttpClient.newBuilder().sslContext(trusting(cp)).build();
        URI bootstrap = URI.create("https://127.0.0.1:" + cp.port() + BootstrapEndpoints.PATH);
        assertThat(get(plain, bootstrap, null).statusCode()).isEqualTo(401);
        assertThat(get(plain, bootstrap, basic("node", password)).statusCode()).isEqualTo(403);
        assertThat(api.send("GET", BootstrapEndpoints.PATH, null).statusCode()).as("cluster admin").isEqualTo(403);
        HttpResponse<byte[]> ok = get(plain, bootstrap, basic("server", password));
        assertThat(ok.statusCode()).isEqualTo(200);
        BootstrapData data = BootstrapData.fromJson(ok.body());
        assertThat(data.files()).containsKeys("tls/server-ca.key", "tls/client-ca.key", "tls/service.key",
                "tls/etcd/server-ca.key", "tls/etcd/peer-ca.key");
        assertThat(data.etcdClientUrls()).containsExactly(cp.etcd().orElseThrow().clientUrl());
    }

    @Test
    @DisplayName("a server on SQLite restarted with --cluster-init takes its objects into etcd, once")
    void sqliteMigratesIntoEtcd() throws Exception {
        ServerConfig sqlite = EtcdTesting.config(dir.resolve("server-0"), "server-0", EtcdTesting.freePorts(3));
        try (ControlPlane cp = ControlPlane.start(sqlite)) {
            assertThat(cp.etcd()).isEmpty();
            assertThat(new Api(cp).send("POST", "/api/v1/namespaces/default/configmaps", configMap("from-sqlite", "1")).statusCode())
                    .isEqualTo(201);
        }
        ControlPlane cp = start(sqlite.withEtcd(sqlite.etcd().withClusterInit(true)));
        assertThat(cp.etcd()).isPresent();
        Api api = new Api(cp);
        assertThat(api.send("GET", "/api/v1/namespaces/default/configmaps/from-sqlite", null).statusCode()).isEqualTo(200);
        assertThat(sqlite.serverDir().resolve("db/state.db.migrated")).isRegularFile();
        // objects written on etcd are not overwritten by a second migration on the next --cluster-init start
        assertThat(api.send("DELETE", "/api/v1/namespaces/default/configmaps/from-sqlite", null).statusCode()).isEqualTo(200);
        cp.close();
        servers.remove(cp);
        ControlPlane again = start(sqlite.withEtcd(sqlite.etcd().withClusterInit(true)));
        assertThat(new Api(again).send("GET", "/api/v1/namespaces/default/configmaps/from-sqlite", null).statusCode()).isEqualTo(404);
    }

    @Test
    @DisplayName("three servers share one API; a killed etcd member or a stopped server doesn't stop writes; a deleted server Node leaves etcd")
    void threeServers() throws Exception {
        ControlPlane s0 = start(clusterInit("server-0"));
        ControlPlane s1 = start(joining("server-1", s0));
        ControlPlane s2 = start(joining("server-2", s0));
        try (ClusterMembers members = s0.etcd().orElseThrow().members()) {
            assertThat(members.list()).extracting(Members.Member::name).containsExactlyInAnyOrder(
                    s0.etcd().orElseThrow().memberName(), s1.etcd().orElseThrow().memberName(), s2.etcd().orElseThrow().memberName());
        }
        // one cluster CA: the joiners serve with certificates from the first server's CA, and its admin works everywhere
        assertThat(s1.pki().serverCaPem()).isEqualTo(s0.pki().serverCaPem());
        assertThat(s2.token().token().encoded()).isEqualTo(s0.token().token().encoded());
        Api a0 = new Api(s0);
        Api a1 = new Api(s1);
        Api a2 = new Api(s2);

        assertThat(a1.send("POST", "/api/v1/namespaces/default/configmaps", configMap("from-1", "x")).statusCode()).isEqualTo(201);
        for (Api a : List.of(a0, a2)) awaitObject(a, "from-1");
        assertThat(a2.send("POST", "/api/v1/namespaces/default/configmaps", configMap("from-1", "y")).statusCode())
                .as("the name is taken cluster-wide").isEqualTo(409);

        // kill -9 the first member (the leader, most likely): the other servers write again within 5 s
        EmbeddedEtcd e0 = s0.etcd().orElseThrow();
        long killedAt = System.nanoTime();
        ProcessHandle.of(e0.pid()).orElseThrow().destroyForcibly();
        Duration failover = writeUntilAccepted(a1, "after-kill");
        LOG.log(System.Logger.Level.INFO, "failover after kill -9 of server-0's etcd: first write accepted after " + failover.toMillis() + " ms");
        assertThat(failover).isLessThanOrEqualTo(Duration.ofSeconds(5));
        awaitObject(a2, "after-kill");
        // its supervisor brings it back, and server-0 serves the objects written meanwhile
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!(e0.starts() >= 2 && e0.healthy()) && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(e0.starts()).isGreaterThanOrEqualTo(2);
        awaitObject(a0, "after-kill");
        LOG.log(System.Logger.Level.INFO, "server-0's etcd restarted and caught up " + (System.nanoTime() - killedAt) / 1_000_000 + " ms after the kill");

        // a server stopped altogether: the two others keep a quorum
        long stopped = System.nanoTime();
        s2.close();
        servers.remove(s2);
        Duration afterStop = writeUntilAccepted(a0, "after-stop");
        LOG.log(System.Logger.Level.INFO, "write after stopping server-2 accepted " + afterStop.toMillis() + " ms after its stop began ("
                + (System.nanoTime() - stopped) / 1_000_000 + " ms incl. the stop)");
        assertThat(afterStop).isLessThanOrEqualTo(Duration.ofSeconds(5));
        awaitObject(a1, "after-stop");

        // kubectl delete node server-2 (a server node carries the etcd role): its member leaves the cluster
        String member2 = s2Member(s0, "server-2");
        assertThat(a0.send("POST", "/api/v1/nodes", """
                {"apiVersion":"v1","kind":"Node","metadata":{"name":"server-2","labels":{
                  "node-role.kubernetes.io/control-plane":"true","node-role.kubernetes.io/etcd":"true","node-role.kubernetes.io/master":"true"}}}
                """).statusCode()).isEqualTo(201);
        assertThat(a0.send("DELETE", "/api/v1/nodes/server-2", null).statusCode()).isEqualTo(200);
        deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        List<String> names = List.of();
        while (System.nanoTime() < deadline) {
            try (ClusterMembers members = s0.etcd().orElseThrow().members()) {
                names = members.list().stream().map(Members.Member::name).toList();
            }
            if (!names.contains(member2)) break;
            Thread.sleep(200);
        }
        assertThat(names).doesNotContain(member2).hasSize(2);
        assertThat(a1.send("POST", "/api/v1/namespaces/default/configmaps", configMap("after-remove", "z")).statusCode()).isEqualTo(201);
    }

    private static String s2Member(ControlPlane any, String node) throws Exception {
        try (ClusterMembers members = any.etcd().orElseThrow().members()) {
            return members.list().stream().map(Members.Member::name).filter(n -> EmbeddedEtcd.nodeNameOf(n).equals(node))
                    .findFirst().orElseThrow();
        }
    }

    /** Posts a ConfigMap until the server accepts it; the time from the call to the acceptance. */
    private static Duration writeUntilAccepted(Api api, String name) throws Exception {
        long t0 = System.nanoTime();
        long deadline = t0 + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                int code = api.send("POST", "/api/v1/namespaces/default/configmaps", configMap(name, "v"), Duration.ofSeconds(2)).statusCode();
                // 409: an earlier attempt that timed out on our side went through
                if (code == 201 || code == 409) return Duration.ofNanos(System.nanoTime() - t0);
            } catch (java.io.IOException e) {
                // timed out waiting for the new leader: try again
            }
            Thread.sleep(50);
        }
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    private static void awaitObject(Api api, String name) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        int code = 0;
        while (System.nanoTime() < deadline) {
            code = api.send("GET", "/api/v1/namespaces/default/configmaps/" + name, null).statusCode();
            if (code == 200) return;
            Thread.sleep(100);
        }
        assertThat(code).as("GET configmap " + name + " on " + api.base).isEqualTo(200);
    }

    private static String configMap(String name, String value) {
        return """
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"},"data":{"k":"%s"}}""".formatted(name, value);
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static HttpResponse<byte[]> get(HttpClient http, URI uri, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET();
        if (authorization != null) b.header("Authorization", authorization);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** The API as cluster admin, over the server's own port. */
    private static final class Api {
        final String base;
        final HttpClient http;

        Api(ControlPlane cp) throws Exception {
            this.base = "https://127.0.0.1:" + cp.port();
            this.http = HttpClient.newBuilder().sslContext(TestServers.adminTls(cp)).connectTimeout(Duration.ofSeconds(2)).build();
        }

        HttpResponse<byte[]> send(String method, String path, String body) throws Exception {
            return send(method, path, body, Duration.ofSeconds(20));
        }

        HttpResponse<byte[]> send(String method, String path, String body, Duration timeout) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout).header("Accept", "application/json");
            if (body == null) {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
            }
            return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        }
    }

    private static SSLContext trusting(ControlPlane cp) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", cp.pki().serverCaCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    static JsonNode json(HttpResponse<byte[]> r) {
        return Json.parse(r.body());
    }
}
