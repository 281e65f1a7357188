package io.k3j.agent.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.api.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load balancer against real TCP servers on loopback, each answering a connection with its name and then echoing
 * lines back, so a client sees which server its connection reached.
 */
class ApiLoadBalancerTest {
    @TempDir Path dir;
    final List<FakeServer> servers = new ArrayList<>();
    final List<ApiLoadBalancer> balancers = new ArrayList<>();
    FakeServer s1;
    FakeServer s2;
    FakeServer s3;

    @BeforeEach
    void startServers() throws IOException {
        s1 = new FakeServer("s1");
        s2 = new FakeServer("s2");
        s3 = new FakeServer("s3");
    }

    @AfterEach
    void stopAll() {
        balancers.forEach(ApiLoadBalancer::close);
        servers.forEach(FakeServer::kill);
    }

    ApiLoadBalancer start(FakeServer first, Path state) throws IOException {
        ApiLoadBalancer lb = ApiLoadBalancer.start(ApiLoadBalancer.Config.of(first.url(), 0, state)
                .withHealthInterval(Duration.ofMillis(200)));
        balancers.add(lb);
        return lb;
    }

    @Test
    @DisplayName("new connections stay on the current server and move to another within 2 s when it is killed")
    void failsOverWhenTheCurrentServerDies() throws Exception {
        ApiLoadBalancer lb = start(s1, dir.resolve("lb.json"));
        lb.setServers(List.of(s1.address(), s2.address(), s3.address()));
        for (int i = 0; i < 5; i++) assertThat(whoAnswers(lb)).isEqualTo("s1");
        assertThat(lb.current()).contains(s1.address());

        try (Client open = new Client(lb)) {
            assertThat(open.name).isEqualTo("s1");
            assertThat(open.echo("hello")).isEqualTo("hello");
            long t0 = System.nanoTime();
            s1.kill();
            // the relayed connection ends with its server
            assertThat(open.in.readLine()).isNull();
            String next = whoAnswers(lb);
            Duration failover = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(next).isIn("s2", "s3");
            assertThat(failover).isLessThan(Duration.ofSeconds(2));
            // and keeps going there, not spread over both
            for (int i = 0; i < 5; i++) assertThat(whoAnswers(lb)).isEqualTo(next);
            awaitTrue("s1 marked failed by the health check", () -> !lb.healthy(s1.address()));

            // the first server back: the current one is kept
            s1.restart();
            awaitTrue("s1 healthy again", () -> lb.healthy(s1.address()));
            for (int i = 0; i < 5; i++) assertThat(whoAnswers(lb)).isEqualTo(next);
        }
    }

    @Test
    @DisplayName("a server that stops answering but leaves its connections hanging has them cut after a failed probe")
    void cutsConnectionsOfAServerFailingItsHealthCheck() throws Exception {
        ApiLoadBalancer lb = start(s1, null);
        lb.setServers(List.of(s1.address(), s2.address()));
        try (Client open = new Client(lb)) {
            assertThat(open.name).isEqualTo("s1");
            long t0 = System.nanoTime();
            s1.stopListening(); // connections stay open: like a host gone dark, nothing resets them
            assertThat(open.in.readLine()).isNull();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
            assertThat(whoAnswers(lb)).isEqualTo("s2");
        }
    }

    @Test
    @DisplayName("the saved list lets a restarted load balancer connect while its --server is down")
    void savedListSurvivesARestart() throws Exception {
        Path state = dir.resolve("etc").resolve(ApiLoadBalancer.STATE_FILE);
        ApiLoadBalancer first = start(s1, state);
        first.setServers(List.of(s1.address(), s2.address(), s3.address()));
        first.close();
        var saved = Json.parse(Files.readAllBytes(state));
        assertThat(saved.path("ServerURL").asText()).isEqualTo(s1.url().toString());
        assertThat(saved.path("ServerAddresses").toString())
                .isEqualTo("[\"" + s1.address() + "\",\"" + s2.address() + "\",\"" + s3.address() + "\"]");

        s1.kill();
        ApiLoadBalancer restarted = start(s1, state);
        assertThat(restarted.servers()).containsExactly(s1.address(), s2.address(), s3.address());
        assertThat(whoAnswers(restarted)).isIn("s2", "s3");

        // a list saved for another --server is not used
        Files.copy(state, dir.resolve("other.json"));
        FakeServer s4 = new FakeServer("s4");
        s4.kill();
        ApiLoadBalancer moved = start(s4, dir.resolve("other.json"));
        assertThat(moved.servers()).isEmpty();
        assertThat(whoAnswers(moved)).isNull();
    }

    @Test
    @DisplayName("with no server answering a client's connection is closed; one coming back is used")
    void noServerThenOne() throws Exception {
        ApiLoadBalancer lb = start(s1, null);
        s1.kill();
        assertThat(whoAnswers(lb)).isNull();
        s1.restart();
        assertThat(whoAnswers(lb)).isEqualTo("s1");
    }

    @Test
    @DisplayName("a restarted load balancer binds its fixed port again although the last run's connections are in TIME_WAIT")
    void rebindsItsPort() throws Exception {
        ApiLoadBalancer lb = start(s1, null);
        int port = lb.port();
        try (Client c = new Client(lb)) {
            assertThat(c.name).isEqualTo("s1");
            lb.close(); // closes the relayed connection from its side first: TIME_WAIT on the load balancer's port
        }
        ApiLoadBalancer again = ApiLoadBalancer.start(new ApiLoadBalancer.Config(s1.url(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port), null, Duration.ofMillis(200), Duration.ofSeconds(1)));
        balancers.add(again);
        assertThat(again.port()).isEqualTo(port);
        assertThat(whoAnswers(again)).isEqualTo("s1");
    }

    @Test
    void addressesAndEndpoints() {
        assertThat(ServerAddress.parse("10.0.0.1:6443")).isEqualTo(new ServerAddress("10.0.0.1", 6443));
        assertThat(ServerAddress.parse("[fd00::1]:6443").toString()).isEqualTo("[fd00::1]:6443");
        assertThat(ServerAddress.of(URI.create("https://server.example:6443"))).isEqualTo(new ServerAddress("server.example", 6443));
        assertThatThrownBy(() -> ServerAddress.parse("fd00::1")).hasMessageContaining("expected: host:port or [ipv6]:port");
        assertThatThrownBy(() -> ServerAddress.parse("host:http")).isInstanceOf(IllegalArgumentException.class);
        var ep = Json.parseObject("""
                {"subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"name": "https", "port": 6443}]},
                             {"addresses": [{"ip": "10.0.0.3"}], "ports": [{"port": 7443}]}]}
                """.getBytes(StandardCharsets.UTF_8));
        assertThat(EndpointsFollower.addresses(ep)).containsExactly(new ServerAddress("10.0.0.1", 6443),
                new ServerAddress("10.0.0.2", 6443), new ServerAddress("10.0.0.3", 7443));
        // a server advertising loopback is no use to a node on another host
        List<ServerAddress> mixed = List.of(new ServerAddress("127.0.0.1", 6443), new ServerAddress("10.0.0.2", 6443));
        assertThat(ApiLoadBalancer.reachableFrom(new ServerAddress("10.0.0.1", 6443), mixed)).containsExactly(new ServerAddress("10.0.0.2", 6443));
        assertThat(ApiLoadBalancer.reachableFrom(new ServerAddress("127.0.0.1", 6443), mixed)).isEqualTo(mixed);
    }

    /** The name of the server a new connection through {@code lb} reaches, or null if the connection is closed. */
    static String whoAnswers(ApiLoadBalancer lb) throws IOException {
        try (Client c = new Client(lb)) {
            return c.name;
        }
    }

    static void awaitTrue(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    static final class Client implements AutoCloseable {
        final Socket socket = new Socket();
        final BufferedReader in;
        final OutputStream out;
        final String name;

        Client(ApiLoadBalancer lb) throws IOException {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), lb.port()), 2000);
            socket.setSoTimeout(5000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = socket.getOutputStream();
            name = in.readLine();
        }

        String echo(String line) throws IOException {
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** A server on loopback that greets with its name and echoes lines; killing it closes every connection. */
    final class FakeServer {
        final String name;
        final Set<Socket> accepted = ConcurrentHashMap.newKeySet();
        volatile ServerSocket listener;
        Thread acceptor;
        int port;

        FakeServer(String name) throws IOException {
            this.name = name;
            servers.add(this);
            restart();
        }

        ServerAddress address() {
            return new ServerAddress("127.0.0.1", port);
        }

        URI url() {
            return URI.create("https://127.0.0.1:" + port);
        }

        synchronized void restart() throws IOException {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            port = s.getLocalPort();
            listener = s;
            acceptor = Thread.ofVirtual().name("fake-" + name).start(() -> accept(s));
        }

        private void accept(ServerSocket s) {
            while (!s.isClosed()) {
                try {
                    Socket c = s.accept();
                    accepted.add(c);
                    Thread.ofVirtual().start(() -> serve(c));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket c) {
            try (c) {
                OutputStream out = c.getOutputStream();
                out.write((name + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            } catch (IOException e) {
                // the peer (a health probe) went away
            } finally {
                accepted.remove(c);
            }
        }

        /**
         * Closes the listener and waits for its accept loop to end: a socket closed while a virtual thread is blocked
         * in accept is released only when that thread leaves, so until then a new connection can still be accepted.
         */
        synchronized void stopListening() {
            try {
                if (listener != null) listener.close();
            } catch (IOException ignored) {
                // closing
            }
            listener = null;
            try {
                if (acceptor != null && !acceptor.join(Duration.ofSeconds(5))) throw new AssertionError("accept loop of " + name + " did not end");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** As kill -9: the listener and every connection close. */
        synchronized void kill() {
            stopListening();
            for (Socket c : accepted) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
    }
}
