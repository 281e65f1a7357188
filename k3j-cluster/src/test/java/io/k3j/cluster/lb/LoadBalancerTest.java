package io.k3j.cluster.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.cluster.lb.LoadBalancerConfig.Backend;
import io.k3j.cluster.lb.LoadBalancerConfig.HealthCheck;
import io.k3j.cluster.lb.LoadBalancerConfig.Listener;
import io.k3j.cluster.lb.LoadBalancerConfig.Protocol;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The load balancer against real backends on loopback. */
class LoadBalancerTest {
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) cleanup.get(i).close();
    }

    private TestBackend backend(String id) throws IOException {
        TestBackend b = new TestBackend(id);
        cleanup.add(b);
        return b;
    }

    private LoadBalancer start(LoadBalancerConfig config) throws IOException {
        LoadBalancer lb = LoadBalancer.start(config);
        cleanup.add(lb);
        return lb;
    }

    private static Listener tcp(String name, TestBackend... backends) {
        return new Listener(name, "127.0.0.1", 0, Protocol.TCP, java.util.Arrays.stream(backends).map(TestBackend::backend).toList());
    }

    /** Connects, reads the backend's id line; the socket stays open for more. */
    private static Conn connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
        s.setSoTimeout(3000);
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        return new Conn(s, in, in.readLine());
    }

    private record Conn(Socket socket, BufferedReader in, String backend) implements AutoCloseable {
        String echo(String line) throws IOException {
            socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static String idOf(int port) throws IOException {
        try (Conn c = connect(port)) {
            return c.backend();
        }
    }

    @Test
    @DisplayName("connections are spread round-robin over the backends, bytes flow both ways and a half-close is passed on")
    void roundRobinAndHalfClose() throws Exception {
        TestBackend a = backend("a"), b = backend("b"), c = backend("c");
        LoadBalancer lb = start(LoadBalancerConfig.of(List.of(tcp("api", a, b, c))));
        int port = lb.port("api");

        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 9; i++) counts.merge(idOf(port), 1, Integer::sum);
        assertThat(counts).containsOnlyKeys("a", "b", "c").allSatisfy((k, v) -> assertThat(v).isEqualTo(3));

        try (Conn conn = connect(port)) {
            assertThat(conn.echo("hello")).isEqualTo("hello");
            // Half-close: the backend sees EOF, finishes its echo and closes, which the client sees as EOF.
            conn.socket().getOutputStream().write("last words".getBytes(StandardCharsets.UTF_8));
            conn.socket().shutdownOutput();
            assertThat(conn.in().readLine()).isEqualTo("last words");
            assertThat(conn.in().read()).isEqualTo(-1);
        }
    }

    @Test
    @DisplayName("when a backend dies every new connection still succeeds, and it gets traffic again once restarted")
    void failover() throws Exception {
        TestBackend a = backend("a"), b = backend("b");
        LoadBalancer lb = start(LoadBalancerConfig.of(List.of(tcp("api", a, b))));
        int port = lb.port("api");
        try (Conn established = connect(port)) {
            assertThat(List.of(idOf(port), idOf(port))).containsExactlyInAnyOrder("a", "b");

            a.stop();
            long stopped = System.nanoTime();
            long firstOnlyB = -1;
            int failures = 0;
            while (System.nanoTime() - stopped < Duration.ofMillis(2500).toNanos()) {
                long t0 = System.nanoTime();
                try {
                    String id = idOf(port);
                    assertThat(id).isEqualTo("b");
                    if (firstOnlyB < 0) firstOnlyB = t0;
                } catch (IOException e) {
                    failures++;
                }
                Thread.sleep(20);
            }
            System.err.printf("failover: first connection after the backend died succeeded %d ms after; %d failed%n",
                    (firstOnlyB - stopped) / 1_000_000, failures);
            assertThat(failures).as("connections that failed after a backend died").isZero();
            assertThat(firstOnlyB - stopped).isLessThan(Duration.ofSeconds(2).toNanos());
            assertThat(lb.healthy(a.backend())).isFalse();
            // The connection that went to the dead backend (if it was a) is closed; to b it keeps working.
            if (established.backend().equals("b")) assertThat(established.echo("still")).isEqualTo("still");

            a.restart();
            long restarted = System.nanoTime();
            while (!lb.healthy(a.backend())) {
                assertThat(System.nanoTime() - restarted).as("time to mark the restarted backend up").isLessThan(Duration.ofSeconds(2).toNanos());
                Thread.sleep(20);
            }
            System.err.printf("failover: restarted backend up again after %d ms%n", (System.nanoTime() - restarted) / 1_000_000);
            assertThat(List.of(idOf(port), idOf(port))).containsExactlyInAnyOrder("a", "b");
        }
    }

    @Test
    @DisplayName("a backend that hangs (accept queue full, SYNs dropped) costs one connect timeout once, then is skipped")
    void hungBackend() throws Exception {
        // A listener that never accepts: once its backlog is full the kernel drops further SYNs, as for a dead node's IP.
        ServerSocket hung = new ServerSocket();
        hung.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
        cleanup.add(hung);
        List<Socket> fillers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Socket s = new Socket();
            cleanup.add(s);
            try {
                s.connect(hung.getLocalSocketAddress(), 200);
                fillers.add(s);
            } catch (SocketTimeoutException e) {
                break;
            }
        }
        TestBackend good = backend("good");
        Backend hungBackend = new Backend("127.0.0.1", hung.getLocalPort());
        LoadBalancer lb = start(new LoadBalancerConfig(
                List.of(new Listener("api", "127.0.0.1", 0, Protocol.TCP, List.of(hungBackend, good.backend()))),
                HealthCheck.DEFAULT, Duration.ofMillis(300), LoadBalancerConfig.DEFAULT_UDP_IDLE_TIMEOUT));
        int port = lb.port("api");
        long worst = 0;
        for (int i = 0; i < 6; i++) {
            long t0 = System.nanoTime();
            assertThat(idOf(port)).isEqualTo("good");
            worst = Math.max(worst, System.nanoTime() - t0);
        }
        System.err.printf("hung backend: slowest of 6 connections %d ms%n", worst / 1_000_000);
        assertThat(worst).isLessThan(Duration.ofMillis(1000).toNanos());
        assertThat(lb.healthy(hungBackend)).isFalse();
    }

    @Test
    @DisplayName("with every backend down a client's connection is closed at once")
    void allBackendsDown() throws Exception {
        TestBackend a = backend("a"), b = backend("b");
        LoadBalancer lb = start(LoadBalancerConfig.of(List.of(tcp("api", a, b))));
        a.stop();
        b.stop();
        int port = lb.port("api");
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                s.setSoTimeout(2000);
                assertThat(s.getInputStream().read()).isEqualTo(-1);
            }
            assertThat(System.nanoTime() - t0).isLessThan(Duration.ofMillis(500).toNanos());
        }
    }

    @Test
    @DisplayName("reload adds a listener, removes another, moves a third to new backends; its established connection keeps working")
    void reload() throws Exception {
        TestBackend a = backend("a"), b = backend("b"), c = backend("c");
        LoadBalancerConfig first = LoadBalancerConfig.of(List.of(tcp("one", a), tcp("two", b), tcp("three", a)));
        LoadBalancer lb = start(first);
        int one = lb.port("one"), three = lb.port("three");
        assertThat(idOf(one)).isEqualTo("a");
        try (Conn established = connect(three)) {
            assertThat(established.backend()).isEqualTo("a");

            lb.reload(first.withListeners(List.of(tcp("two", b), tcp("three", c), tcp("four", c))));

            assertThat(lb.port("three")).isEqualTo(three);
            assertThat(established.echo("across the reload")).isEqualTo("across the reload");
            assertThat(idOf(three)).isEqualTo("c");
            assertThat(idOf(lb.port("four"))).isEqualTo("c");
            assertThat(idOf(lb.port("two"))).isEqualTo("b");
            assertThatThrownBy(() -> idOf(one)).isInstanceOf(IOException.class);
            assertThat(lb.status()).extracting(ListenerStatus::name).containsExactly("two", "three", "four");
            assertThat(lb.status()).allMatch(ListenerStatus::up);
        }
    }

    @Test
    @DisplayName("UDP datagrams are forwarded per client session and the replies come back")
    void udpEcho() throws Exception {
        DatagramSocket echo1 = udpEcho("u1"), echo2 = udpEcho("u2");
        LoadBalancer lb = start(LoadBalancerConfig.of(List.of(new Listener("dns", "127.0.0.1", 0, Protocol.UDP,
                List.of(new Backend("127.0.0.1", echo1.getLocalPort()), new Backend("127.0.0.1", echo2.getLocalPort()))))));
        int port = lb.port("dns");
        List<String> seen = new ArrayList<>();
        for (int client = 0; client < 2; client++) {
            try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                s.setSoTimeout(2000);
                String first = null;
                for (int i = 0; i < 3; i++) {
                    String reply = exchange(s, port, "ping " + i);
                    assertThat(reply).endsWith(":ping " + i);
                    String from = reply.substring(0, reply.indexOf(':'));
                    if (first == null) first = from;
                    // One client address sticks to one backend.
                    assertThat(from).isEqualTo(first);
                }
                seen.add(first);
            }
        }
        assertThat(seen).containsExactlyInAnyOrder("u1", "u2");
    }

    private DatagramSocket udpEcho(String id) throws IOException {
        DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        cleanup.add(s);
        Thread.ofVirtual().start(() -> {
            byte[] buf = new byte[2048];
            while (!s.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
                    byte[] reply = (id + ":" + new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                    s.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        });
        return s;
    }

    private static String exchange(DatagramSocket s, int port, String msg) throws IOException {
        byte[] out = msg.getBytes(StandardCharsets.UTF_8);
        s.send(new DatagramPacket(out, out.length, InetAddress.getLoopbackAddress(), port));
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        s.receive(p);
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("a port in use fails with the owning pid and the flag to change; nothing stays bound")
    void portInUse() throws Exception {
        TestBackend a = backend("a");
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()); ServerSocket free = new ServerSocket(0)) {
            int freePort = free.getLocalPort();
            free.close();
            int port = taken.getLocalPort();
            LoadBalancerConfig config = LoadBalancerConfig.of(List.of(
                    new Listener("port-" + freePort + "-tcp", "127.0.0.1", freePort, Protocol.TCP, List.of(a.backend())),
                    new Listener("api", "127.0.0.1", port, Protocol.TCP, List.of(a.backend()))));
            assertThatThrownBy(() -> start(config))
                    .isInstanceOf(BindException.class)
                    .hasMessage("port " + port + " is in use by pid " + ProcessHandle.current().pid() + " (java): choose another --api-port");
            // All or nothing: the listener that did bind was closed again.
            try (ServerSocket again = new ServerSocket(freePort, 50, InetAddress.getLoopbackAddress())) {
                assertThat(again.getLocalPort()).isEqualTo(freePort);
            }

            // On reload the other listeners keep running and the status names the failed one.
            LoadBalancer lb = start(LoadBalancerConfig.of(List.of(tcp("api", a))));
            assertThatThrownBy(() -> lb.reload(lb.config().withListeners(List.of(tcp("api", a),
                    new Listener("port-" + port + "-tcp", "127.0.0.1", port, Protocol.TCP, List.of(a.backend()))))))
                    .hasMessage("port " + port + " is in use by pid " + ProcessHandle.current().pid() + " (java): choose another host port in --port");
            assertThat(lb.status()).extracting(ListenerStatus::up).containsExactly(true, false);
            assertThat(idOf(lb.port("api"))).isEqualTo("a");
        }
    }

    @Test
    @DisplayName("the config file round-trips and errors name the field")
    void configJson() {
        LoadBalancerConfig c = new LoadBalancerConfig(List.of(
                new Listener("api", "127.0.0.1", 6445, Protocol.TCP, List.of(new Backend("172.28.0.2", 6443), new Backend("172.28.0.3", 6443))),
                new Listener(null, null, 5353, Protocol.UDP, List.of())),
                new HealthCheck(Duration.ofMillis(250), Duration.ofMillis(100), 1, 2), Duration.ofMillis(200), Duration.ofSeconds(5));
        assertThat(c.listeners().get(1).name()).isEqualTo("udp/0.0.0.0:5353");
        assertThat(LoadBalancerConfig.parse(c.toJson())).isEqualTo(c);
        assertThat(LoadBalancerConfig.parse("{\"listeners\":[{\"port\":80,\"backends\":[{\"host\":\"10.0.0.1\",\"port\":80}]}]}"))
                .isEqualTo(LoadBalancerConfig.of(List.of(new Listener(null, "0.0.0.0", 80, Protocol.TCP, List.of(new Backend("10.0.0.1", 80))))));
        assertThatThrownBy(() -> LoadBalancerConfig.parse("{\"listeners\":[{\"port\":80,\"backends\":[{\"host\":\"h\",\"port\":0}]}]}"))
                .hasMessage("listeners[0].backends[0]: backend port: 0 (expected: 1..65535)");
        assertThatThrownBy(() -> LoadBalancerConfig.parse("{\"listeners\":[{\"port\":80,\"protocol\":\"sctp\"}]}"))
                .hasMessage("listeners[0].protocol: 'sctp' (expected: tcp or udp)");
        assertThatThrownBy(() -> LoadBalancerConfig.parse("{\"listener\":[]}"))
                .hasMessageStartingWith("listener: unknown field");
        assertThatThrownBy(() -> LoadBalancerConfig.parse("{\"listeners\":[{\"name\":\"x\",\"port\":1},{\"name\":\"x\",\"port\":2}]}"))
                .hasMessageContaining("listener name x is used twice");
    }
}
