package io.k3j.apiserver.system;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.testing.TestServers;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code kubernetes} Endpoints on a real control plane, with other servers simulated by what they leave in the
 * shared datastore: their Leases (written here by hand, or by a second reconciler on the same store).
 */
class KubernetesEndpointsTest {
    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
    @TempDir static Path dir;
    static ControlPlane cp;
    static ResourceType leases;
    static ResourceType endpoints;
    static ResourceType slices;

    @BeforeAll
    static void start() {
        cp = TestServers.start(dir);
        leases = cp.registry().find("coordination.k8s.io", "v1", "leases").orElseThrow();
        endpoints = cp.registry().find("", "v1", "endpoints").orElseThrow();
        slices = cp.registry().find("discovery.k8s.io", "v1", "endpointslices").orElseThrow();
    }

    @AfterAll
    static void stop() {
        if (cp != null) cp.close();
    }

    @Test
    @DisplayName("a server lists itself and keeps a Lease of itself in kube-system")
    void listsItself() {
        assertThat(addresses()).containsExactly("127.0.0.1:" + cp.port());
        ObjectNode lease = cp.objects().find(leases, "kube-system", "k3j-apiserver-127.0.0.1-" + cp.port()).orElseThrow();
        assertThat(lease.path("metadata").path("labels").path(KubernetesEndpoints.LABEL).asText()).isEqualTo("true");
        assertThat(lease.path("spec").path("leaseDurationSeconds").asInt()).isEqualTo(15);
        assertThat(lease.path("spec").path("holderIdentity").asText()).startsWith("k3j-apiserver-");
        JsonNode slice = cp.objects().find(slices, "default", "kubernetes").orElseThrow();
        assertThat(slice.path("endpoints").get(0).path("addresses").get(0).asText()).isEqualTo("127.0.0.1");
        assertThat(slice.path("ports").get(0).path("port").asInt()).isEqualTo(cp.port());
    }

    @Test
    @DisplayName("another server's record adds it at once; when it stops renewing it disappears after its lease expires")
    void killedServerExpires() throws Exception {
        long t0 = System.nanoTime();
        cp.objects().create(leases, "kube-system", serverLease("10.0.0.2", cp.port(), 3), WriteOptions.system("test"));
        try {
            await("10.0.0.2 listed", l -> l.contains("10.0.0.2:" + cp.port()));
            Duration added = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(addresses()).containsExactly("10.0.0.2:" + cp.port(), "127.0.0.1:" + cp.port());
            // the Lease watch wakes the reconciler: no waiting for its next renewal (5 s)
            assertThat(added).isLessThan(Duration.ofSeconds(2));
            // nobody renews it: like a server killed with -9
            await("10.0.0.2 expired", l -> !l.contains("10.0.0.2:" + cp.port()));
            Duration gone = Duration.ofNanos(System.nanoTime() - t0);
            System.out.printf("listed after %d ms, expired after %d ms%n", added.toMillis(), gone.toMillis());
            assertThat(gone).isGreaterThan(Duration.ofMillis(2500)).isLessThan(Duration.ofMillis(4500));
            assertThat(addresses()).containsExactly("127.0.0.1:" + cp.port());
        } finally {
            cp.objects().delete(leases, "kube-system", "k3j-apiserver-10.0.0.2-" + cp.port(), DeleteOptions.DEFAULT);
        }
    }

    @Test
    @DisplayName("a second reconciler on the same store: both listed, a clean stop removes its server at once, other ports get their own slice")
    void secondServerStopsCleanly() throws Exception {
        var other = new KubernetesEndpoints(cp.objects(), cp.registry(), Clock.systemUTC(),
                new KubernetesEndpoints.Server("10.0.0.3", 7443), Duration.ofSeconds(15), Duration.ofSeconds(5)).start();
        try {
            await("10.0.0.3 listed", l -> l.contains("10.0.0.3:7443"));
            assertThat(addresses()).containsExactlyInAnyOrder("127.0.0.1:" + cp.port(), "10.0.0.3:7443");
            // the two ports make two subsets in Endpoints, two slices
            JsonNode extra = cp.objects().find(slices, "default", "kubernetes-" + Math.max(7443, cp.port())).orElseThrow();
            assertThat(extra.path("metadata").path("labels").path("kubernetes.io/service-name").asText()).isEqualTo("kubernetes");
            // renewals rewrite nothing: the Endpoints keep their resourceVersion (watchers see no churn every 5 s)
            String rv = cp.objects().find(endpoints, "default", "kubernetes").orElseThrow().path("metadata").path("resourceVersion").asText();
            other.renew();
            other.reconcile();
            Thread.sleep(300);
            assertThat(cp.objects().find(endpoints, "default", "kubernetes").orElseThrow().path("metadata").path("resourceVersion").asText())
                    .isEqualTo(rv);
        } finally {
            other.close();
        }
        // close() returned: the endpoints already left it out
        assertThat(addresses()).containsExactly("127.0.0.1:" + cp.port());
        assertThat(cp.objects().find(leases, "kube-system", "k3j-apiserver-10.0.0.3-7443")).isEmpty();
        await("extra slice deleted", l -> cp.objects().find(slices, "default", "kubernetes-" + Math.max(7443, cp.port())).isEmpty());
    }

    @Test
    @DisplayName("a record that expired before it was written, or lacks the label, is ignored")
    void ignoresDeadAndUnlabelled() throws Exception {
        ObjectNode dead = serverLease("10.0.0.4", cp.port(), 1);
        Json.obj(dead, "spec").put("renewTime", MICRO.format(Instant.now().minusSeconds(60)));
        cp.objects().create(leases, "kube-system", dead, WriteOptions.system("test"));
        ObjectNode unlabelled = serverLease("10.0.0.5", cp.port(), 30);
        Json.obj(unlabelled, "metadata").remove("labels");
        cp.objects().create(leases, "kube-system", unlabelled, WriteOptions.system("test"));
        Thread.sleep(500);
        assertThat(addresses()).containsExactly("127.0.0.1:" + cp.port());
        cp.objects().delete(leases, "kube-system", "k3j-apiserver-10.0.0.4-" + cp.port(), DeleteOptions.DEFAULT);
        cp.objects().delete(leases, "kube-system", "k3j-apiserver-10.0.0.5-" + cp.port(), DeleteOptions.DEFAULT);
    }

    static ObjectNode serverLease(String address, int port, int seconds) {
        ObjectNode lease = Json.object();
        ObjectNode meta = lease.putObject("metadata").put("name", "k3j-apiserver-" + address + "-" + port).put("namespace", "kube-system");
        meta.putObject("labels").put(KubernetesEndpoints.LABEL, "true");
        meta.putObject("annotations").put(KubernetesEndpoints.ADDRESS_ANNOTATION, address)
                .put(KubernetesEndpoints.PORT_ANNOTATION, Integer.toString(port));
        lease.putObject("spec").put("holderIdentity", "fake-" + address).put("leaseDurationSeconds", seconds)
                .put("renewTime", MICRO.format(Instant.now()));
        return lease;
    }

    /** "ip:port" of every address in the Endpoints, in their order. */
    static List<String> addresses() {
        List<String> out = new ArrayList<>();
        JsonNode ep = cp.objects().find(endpoints, "default", "kubernetes").orElseThrow();
        for (JsonNode subset : ep.path("subsets")) {
            for (JsonNode a : subset.path("addresses")) out.add(a.path("ip").asText() + ":" + subset.path("ports").get(0).path("port").asInt());
        }
        return out;
    }

    static void await(String what, Predicate<List<String>> condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.test(addresses())) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what + ": " + addresses());
            Thread.sleep(20);
        }
    }
}
