package io.k3j.agent.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.pki.CertAndKey;
import io.k3j.controllers.testing.TestCluster;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class HttpKubeClientTest {
    static TestCluster cluster;
    static HttpKubeClient client;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of());
        CertAndKey admin = cluster.controlPlane().pki().adminCredentials();
        client = HttpKubeClient.withClientCertificate(URI.create("https://127.0.0.1:" + cluster.controlPlane().port()),
                cluster.controlPlane().pki().serverCaPem(), admin.certificatePem(), admin.privateKeyPem());
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (cluster != null) cluster.close();
    }

    static ObjectNode configMap(String name, String value) {
        ObjectNode cm = Json.object();
        cm.put("apiVersion", "v1");
        cm.put("kind", "ConfigMap");
        cm.putObject("metadata").put("name", name);
        cm.putObject("data").put("k", value);
        return cm;
    }

    @Test
    void crudAndErrors() {
        String coll = "/api/v1/namespaces/default/configmaps";
        ObjectNode created = client.create(coll, configMap("c1", "v1"));
        assertEquals("c1", created.path("metadata").path("name").asText());

        ApiException dup = assertThrows(ApiException.class, () -> client.create(coll, configMap("c1", "v1")));
        assertEquals(409, dup.code());
        assertEquals("AlreadyExists", dup.reason());
        assertEquals("configmaps \"c1\" already exists", dup.getMessage());

        ObjectNode got = client.get(coll + "/c1");
        assertEquals("v1", got.path("data").path("k").asText());
        got.with("data").put("k", "v2");
        ObjectNode updated = client.update(coll + "/c1", got);
        assertEquals("v2", updated.path("data").path("k").asText());

        // the old resourceVersion no longer matches: 409 Conflict
        ApiException conflict = assertThrows(ApiException.class, () -> client.update(coll + "/c1", got));
        assertEquals(409, conflict.code());
        assertEquals("Conflict", conflict.reason());

        ObjectNode patched = client.patch(coll + "/c1", "application/merge-patch+json", "{\"data\":{\"k\":\"v3\"}}");
        assertEquals("v3", patched.path("data").path("k").asText());
        ObjectNode sp = client.patch(coll + "/c1", "application/strategic-merge-patch+json", "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
        assertEquals("b", sp.path("metadata").path("labels").path("a").asText());

        client.create(coll, configMap("c2", "x"));
        ObjectNode list = client.list(coll, Map.of("fieldSelector", "metadata.name=c2"));
        assertEquals(1, list.path("items").size());
        assertEquals("c2", list.path("items").get(0).path("metadata").path("name").asText());

        client.delete(coll + "/c1", null);
        ApiException missing = assertThrows(ApiException.class, () -> client.get(coll + "/c1"));
        assertEquals(404, missing.code());
        assertEquals("NotFound", missing.reason());
        assertEquals("configmaps \"c1\" not found", missing.getMessage());
        assertTrue(client.find(coll + "/c1").isEmpty());
        ObjectNode opts = Json.object();
        opts.put("kind", "DeleteOptions").put("apiVersion", "v1").put("gracePeriodSeconds", 0);
        client.delete(coll + "/c2", opts);
        assertTrue(client.find(coll + "/c2").isEmpty());
    }

    @Test
    void watchStreamsEvents() throws Exception {
        String coll = "/api/v1/namespaces/kube-public/configmaps";
        ObjectNode list = client.list(coll, Map.of());
        String rv = list.path("metadata").path("resourceVersion").asText();
        BlockingQueue<KubeClient.WatchEvent> events = new LinkedBlockingQueue<>();
        try (KubeClient.Watch w = client.watch(coll, Map.of("resourceVersion", rv), events::add, c -> { })) {
            client.create(coll, configMap("w1", "a"));
            client.patch(coll + "/w1", "application/merge-patch+json", "{\"data\":{\"k\":\"b\"}}");
            client.delete(coll + "/w1", null);
            List<String> seen = new ArrayList<>();
            while (seen.size() < 3) {
                KubeClient.WatchEvent e = events.poll(10, TimeUnit.SECONDS);
                if (e == null) break;
                if (e.type().equals("BOOKMARK")) continue;
                if (!e.object().path("metadata").path("name").asText().equals("w1")) continue;
                seen.add(e.type());
            }
            assertEquals(List.of("ADDED", "MODIFIED", "DELETED"), seen);
        }
    }

    @Test
    void watchLinesMaySpanChunks() {
        // HTTP/2 DATA frames cut the event stream anywhere: inside an event, between \r and \n, at a line's end
        List<String> lines = new ArrayList<>();
        HttpKubeClient.Lines splitter = new HttpKubeClient.Lines();
        for (String chunk : List.of("{\"a\":", "1}\n{\"b\"", ":2}\r", "\n", "\n  \n{\"c\":3}\n", "{\"d\":4}")) {
            splitter.feed(chunk.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    l -> lines.add(new String(l, java.nio.charset.StandardCharsets.UTF_8)));
        }
        assertEquals(List.of("{\"a\":1}", "{\"b\":2}\r", "{\"c\":3}"), lines);
        splitter.feed("\n".getBytes(java.nio.charset.StandardCharsets.UTF_8), l -> lines.add(new String(l, java.nio.charset.StandardCharsets.UTF_8)));
        assertEquals("{\"d\":4}", lines.getLast());
    }

    @Test
    void unreachableServer() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CertAndKey admin = cluster.controlPlane().pki().adminCredentials();
        try (HttpKubeClient c = HttpKubeClient.withClientCertificate(URI.create("https://127.0.0.1:" + port),
                cluster.controlPlane().pki().serverCaPem(), admin.certificatePem(), admin.privateKeyPem())) {
            assertThrows(KubeClient.Unreachable.class, () -> c.get("/api/v1/namespaces/default"));
        }
    }

    @Test
    void aConnectionClosedAtOnceIsUnreachable() throws Exception {
        // what an agent's API load balancer does while no server is up: accept, then close
        try (ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread closer = Thread.ofVirtual().start(() -> {
                while (!s.isClosed()) {
                    try {
                        s.accept().close();
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            CertAndKey admin = cluster.controlPlane().pki().adminCredentials();
            try (HttpKubeClient c = HttpKubeClient.withClientCertificate(URI.create("https://127.0.0.1:" + s.getLocalPort()),
                    cluster.controlPlane().pki().serverCaPem(), admin.certificatePem(), admin.privateKeyPem())) {
                for (int i = 0; i < 5; i++) assertThrows(KubeClient.Unreachable.class, () -> c.get("/api/v1/namespaces/default"));
            }
            s.close();
            closer.join(5000);
        }
    }

    @Test
    void informerListsWatchesAndCaches() throws Exception {
        String ns = "kube-node-lease";
        String coll = "/api/v1/namespaces/" + ns + "/configmaps";
        client.create(coll, labelled(configMap("i1", "a")));
        Path cache = Files.createTempDirectory("informer-cache");
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        Informer.Handler recorder = new Informer.Handler() {
            @Override public void onAdd(ObjectNode o) {
                seen.add("add " + o.path("metadata").path("name").asText());
            }

            @Override public void onUpdate(ObjectNode old, ObjectNode o) {
                seen.add("update " + o.path("metadata").path("name").asText() + " " + o.path("data").path("k").asText());
            }

            @Override public void onDelete(ObjectNode o) {
                seen.add("delete " + o.path("metadata").path("name").asText());
            }
        };
        try {
            try (Informer inf = new Informer(client, coll, SELECTOR, cache).addHandler(recorder).start()) {
                assertTrue(inf.awaitSynced(Duration.ofSeconds(10)));
                assertTrue(inf.hasSynced());
                assertEquals("ConfigMap", inf.get(ns, "i1").orElseThrow().path("kind").asText());
                client.create(coll, labelled(configMap("i2", "b")));
                client.patch(coll + "/i1", "application/merge-patch+json", "{\"data\":{\"k\":\"a2\"}}");
                await(() -> inf.get(ns, "i2").isPresent() && inf.get(ns, "i1").orElseThrow().path("data").path("k").asText().equals("a2"));
                assertTrue(Files.exists(cache.resolve(ns + "_i1.json")));
                assertTrue(Files.exists(cache.resolve(ns + "_i2.json")));
            }
            assertTrue(seen.containsAll(List.of("add i1", "add i2", "update i1 a2")), seen.toString());

            // offline restart: the cache alone brings the objects back, as adds
            seen.clear();
            try (HttpKubeClient offline = HttpKubeClient.withClientCertificate(URI.create("https://127.0.0.1:1"),
                    cluster.controlPlane().pki().serverCaPem(), cluster.controlPlane().pki().adminCredentials().certificatePem(),
                    cluster.controlPlane().pki().adminCredentials().privateKeyPem());
                 Informer inf = new Informer(offline, coll, SELECTOR, cache).addHandler(recorder)) {
                assertEquals(2, inf.loadCache());
                inf.start();
                Thread.sleep(300);
                assertFalse(inf.hasSynced());
                assertEquals("a2", inf.get(ns, "i1").orElseThrow().path("data").path("k").asText());
                assertEquals(List.of("add i1", "add i2"), seen.stream().sorted().toList());
            }

            // meanwhile the server changed: the first list reconciles the cached store
            client.delete(coll + "/i2", null);
            client.patch(coll + "/i1", "application/merge-patch+json", "{\"data\":{\"k\":\"a3\"}}");
            seen.clear();
            try (Informer inf = new Informer(client, coll, SELECTOR, cache).addHandler(recorder)) {
                inf.loadCache();
                inf.start();
                assertTrue(inf.awaitSynced(Duration.ofSeconds(10)));
                assertTrue(inf.get(ns, "i2").isEmpty());
                assertTrue(seen.containsAll(List.of("add i1", "add i2", "delete i2", "update i1 a3")), seen.toString());
                assertFalse(Files.exists(cache.resolve(ns + "_i2.json")));
            }
        } finally {
            try (var files = Files.list(cache)) {
                for (Path f : files.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(cache);
        }
    }

    static final Map<String, String> SELECTOR = Map.of("labelSelector", "app=inf");

    static ObjectNode labelled(ObjectNode o) {
        o.with("metadata").putObject("labels").put("app", "inf");
        return o;
    }

    static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("condition not met within 10 s");
            Thread.sleep(20);
        }
    }
}
