package io.k3j.agent.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.join.Join;
import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.Json;
import io.k3j.controllers.testing.TestCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load balancer in front of a real control plane. One in-process server plays several: forwarders on other
 * loopback ports reach the same API, and one of them is announced as a server by a Lease of the kind each server
 * keeps of itself, so the {@code kubernetes} Endpoints list two servers. The agent's {@code --server} is a third
 * forwarder, which the test cuts.
 */
class ApiLoadBalancerClusterTest {
    private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);
    static TestCluster cluster;
    @TempDir Path dir;

    @BeforeAll
    static void start() throws IOException {
        cluster = TestCluster.start(List.of());
    }

    @AfterAll
    static void stop() {
        if (cluster != null) cluster.close();
    }

    @Test
    @DisplayName("an agent joins through the load balancer, which learns the servers from the kubernetes Endpoints and survives losing --server, also across a restart")
    void learnsServersAndFailsOver() throws Exception {
        int api = cluster.controlPlane().port();
        ServerAddress real = new ServerAddress("127.0.0.1", api);
        try (Forwarder first = new Forwarder(api); Forwarder second = new Forwarder(api)) {
            ServerAddress announced = new ServerAddress("127.0.0.1", second.port());
            // what a second server's reconciler writes of itself
            cluster.create("""
                    apiVersion: coordination.k8s.io/v1
                    kind: Lease
                    metadata:
                      name: k3j-apiserver-127.0.0.1-%d
                      namespace: kube-system
                      labels: {k3j.io/apiserver-endpoint: "true"}
                      annotations: {k3j.io/advertise-address: 127.0.0.1, k3j.io/https-port: "%d"}
                    spec: {holderIdentity: second, leaseDurationSeconds: 3600, renewTime: "%s"}
                    """.formatted(second.port(), second.port(), MICRO.format(Instant.now())));

            Path agentDir = dir.resolve("agent");
            Path state = agentDir.resolve("etc").resolve(ApiLoadBalancer.STATE_FILE);
            URI server = URI.create("https://127.0.0.1:" + first.port());
            String token = cluster.controlPlane().token().token().encoded();
            Join.Joined joined;
            try (ApiLoadBalancer lb = ApiLoadBalancer.start(ApiLoadBalancer.Config.of(server, 0, state)
                    .withHealthInterval(Duration.ofMillis(200)))) {
                // the join and the node's client go through 127.0.0.1:<lb port>, verifying the server's certificate
                // for 127.0.0.1 (HttpKubeClient checks names as HTTPS does)
                joined = Join.bootstrap(lb.url(), token, "lb-node", List.of("127.0.0.1"), agentDir);
                try (KubeClient client = joined.client()) {
                    assertThat(first.accepted()).isPositive();
                    lb.follow(client);
                    awaitTrue("the servers learnt", () -> Set.copyOf(lb.servers()).equals(Set.of(real, announced)));
                    awaitTrue("the list saved", () -> saved(state).contains(real.toString()) && saved(state).contains(announced.toString()));
                    assertThat(saved(state)).contains("\"ServerURL\":\"" + server + "\"");

                    // --server goes away: the node's API calls go on through the servers learnt
                    first.cut();
                    long t0 = System.nanoTime();
                    ObjectNode ep = retry(() -> client.get("/api/v1/namespaces/default/endpoints/kubernetes"));
                    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
                    assertThat(EndpointsFollower.addresses(ep)).contains(real, announced);
                    assertThat(lb.current()).isPresent().get().isIn(real, announced);

                    // a server stopping (its Lease deleted) leaves the list
                    cluster.api().deleteIfExists(cluster.type("coordination.k8s.io", "v1", "leases"), "kube-system",
                            "k3j-apiserver-127.0.0.1-" + second.port(), null, null);
                    awaitTrue("the stopped server dropped", () -> lb.servers().equals(List.of(real)));
                }
            }

            // the agent restarts while --server is still down: the saved list gets it through
            cluster.create("""
                    apiVersion: coordination.k8s.io/v1
                    kind: Lease
                    metadata:
                      name: k3j-apiserver-127.0.0.1-%d
                      namespace: kube-system
                      labels: {k3j.io/apiserver-endpoint: "true"}
                      annotations: {k3j.io/advertise-address: 127.0.0.1, k3j.io/https-port: "%d"}
                    spec: {holderIdentity: second, leaseDurationSeconds: 3600, renewTime: "%s"}
                    """.formatted(second.port(), second.port(), MICRO.format(Instant.now())));
            try (ApiLoadBalancer lb = ApiLoadBalancer.start(ApiLoadBalancer.Config.of(server, 0, state))) {
                assertThat(lb.servers()).containsExactly(real);
                Join.Joined again = Join.bootstrap(lb.url(), token, "lb-node", List.of("127.0.0.1"), agentDir);
                try (HttpKubeClient client = again.client()) {
                    assertThat(client.get("/api/v1/namespaces/default/endpoints/kubernetes").path("subsets").size()).isPositive();
                    lb.follow(client);
                    awaitTrue("the announced server learnt again", () -> lb.servers().contains(announced));
                }
            } finally {
                cluster.api().deleteIfExists(cluster.type("coordination.k8s.io", "v1", "leases"), "kube-system",
                        "k3j-apiserver-127.0.0.1-" + second.port(), null, null);
            }
        }
    }

    static String saved(Path state) {
        try {
            return Files.readString(state);
        } catch (IOException e) {
            return "";
        }
    }

    /** The first success of {@code call} within 5 s: a request may fail once on a connection that just broke. */
    static <T> T retry(Supplier<T> call) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            try {
                return call.get();
            } catch (KubeClient.Unreachable e) {
                if (System.nanoTime() > deadline) throw e;
                Thread.sleep(50);
            }
        }
    }

    static void awaitTrue(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    /** A TCP forwarder 127.0.0.1:port → the API server, standing in for another server; {@link #cut()} kills it. */
    static final class Forwarder implements AutoCloseable {
        final ServerSocket listener;
        final int target;
        final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
        final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();

        Forwarder(int target) throws IOException {
            this.target = target;
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().name("forwarder").start(this::accept);
        }

        int port() {
            return listener.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    Socket client = listener.accept();
                    Socket upstream = new Socket();
                    upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 2000);
                    accepted.incrementAndGet();
                    sockets.add(client);
                    sockets.add(upstream);
                    Thread.ofVirtual().start(() -> pump(client, upstream));
                    Thread.ofVirtual().start(() -> pump(upstream, client));
                } catch (IOException e) {
                    if (listener.isClosed()) return;
                }
            }
        }

        private void pump(Socket from, Socket to) {
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                in.transferTo(out);
            } catch (IOException e) {
                // either side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }

        /** As kill -9 of the server behind it: the port refuses and every connection ends. */
        void cut() {
            closeQuietly(listener);
            sockets.forEach(Forwarder::closeQuietly);
        }

        private static void closeQuietly(java.io.Closeable c) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing
            }
        }

        @Override
        public void close() {
            cut();
        }
    }
}
