package io.k3j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.cluster.lb.ListenerStatus;
import io.k3j.cluster.lb.LoadBalancerConfig;
import io.k3j.cluster.lb.LoadBalancerConfig.Backend;
import io.k3j.cluster.lb.LoadBalancerConfig.Listener;
import io.k3j.cluster.lb.LoadBalancerConfig.Protocol;
import io.k3j.cluster.lb.LoadBalancerStatus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code k3j loadbalancer --config FILE} as a real process, reconfigured through its file. */
class LoadBalancerCommandTest {
    private final List<Process> processes = new ArrayList<>();
    private final List<ServerSocket> backends = new ArrayList<>();
    private Path dir;

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        for (ServerSocket s : backends) s.close();
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    @Test
    @DisplayName("the process serves its config, follows every change of the file, reports each in its status file and stops on SIGTERM")
    void runsAndReloadsFromItsFile() throws Exception {
        dir = Files.createTempDirectory("k3j-lb-");
        Backend a = backend("a"), b = backend("b");
        Path configFile = dir.resolve("lb.json"), statusFile = dir.resolve("lb.status.json");
        LoadBalancerConfig config = LoadBalancerConfig.of(List.of(new Listener("api", "127.0.0.1", 0, Protocol.TCP, List.of(a))));
        config.write(configFile);

        long t0 = System.nanoTime();
        Process lb = start("--config", configFile.toString(), "--status-file", statusFile.toString());
        LoadBalancerStatus status = LoadBalancerStatus.await(statusFile, config.digest(), Duration.ofSeconds(20));
        System.err.printf("k3j loadbalancer: ready %d ms after start%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(status.pid()).isEqualTo(lb.pid());
        assertThat(status.ready(config.digest())).isTrue();
        int api = status.listeners().getFirst().port();
        assertThat(idOf(api)).isEqualTo("a");

        try (Socket established = open(api)) {
            assertThat(readLine(established)).isEqualTo("a");
            // Port add and backend change, as cluster edit --port-add and node changes do.
            LoadBalancerConfig second = config.withListeners(List.of(
                    new Listener("api", "127.0.0.1", 0, Protocol.TCP, List.of(b)),
                    new Listener("port-extra-tcp", "127.0.0.1", 0, Protocol.TCP, List.of(a))));
            long t1 = System.nanoTime();
            second.write(configFile);
            status = LoadBalancerStatus.await(statusFile, second.digest(), Duration.ofSeconds(5));
            System.err.printf("k3j loadbalancer: reload seen %d ms after the file was written%n", (System.nanoTime() - t1) / 1_000_000);
            assertThat(status.listeners()).extracting(ListenerStatus::name).containsExactly("api", "port-extra-tcp");
            assertThat(status.listeners().getFirst().port()).isEqualTo(api);
            assertThat(idOf(api)).isEqualTo("b");
            assertThat(idOf(status.listeners().get(1).port())).isEqualTo("a");
            assertThat(echo(established, "still here")).isEqualTo("still here");

            // A broken file is reported and the config in force stays.
            Files.writeString(configFile, "{\"listeners\": [{\"port\": \"x\"}]}");
            String broken = sha256(Files.readAllBytes(configFile));
            status = LoadBalancerStatus.await(statusFile, broken, Duration.ofSeconds(5));
            assertThat(status.error()).contains("listeners[0].port: \"x\" (expected: an integer)");
            assertThat(idOf(api)).isEqualTo("b");
        }

        // A second load balancer on the same port fails, naming the first one's pid and the flag.
        Path other = dir.resolve("other.json");
        LoadBalancerConfig.of(List.of(new Listener("api", "127.0.0.1", api, Protocol.TCP, List.of(a)))).write(other);
        Process clash = start("--config", other.toString());
        assertThat(clash.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(clash.exitValue()).isEqualTo(1);
        assertThat(new String(clash.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
                .contains("Error: port " + api + " is in use by pid " + lb.pid() + " (java): choose another --api-port");

        lb.destroy(); // SIGTERM
        assertThat(lb.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(statusFile).doesNotExist();
        assertThatRefused(api);
    }

    @Test
    @DisplayName("SIGHUP reloads at once, without waiting for the poll")
    void sighup() throws Exception {
        dir = Files.createTempDirectory("k3j-lb-");
        Backend a = backend("a"), b = backend("b");
        Path configFile = dir.resolve("lb.json"), statusFile = dir.resolve("lb.status.json");
        LoadBalancerConfig config = LoadBalancerConfig.of(List.of(new Listener("api", "127.0.0.1", 0, Protocol.TCP, List.of(a))));
        config.write(configFile);
        Process lb = start("--config", configFile.toString(), "--status-file", statusFile.toString(), "--poll-interval", "600000");
        int api = LoadBalancerStatus.await(statusFile, config.digest(), Duration.ofSeconds(20)).listeners().getFirst().port();
        // a process that starts with SIGHUP ignored (its parent ran under nohup, or ignored it and passed that on) can't
        // handle it: the JVM leaves an ignored SIGHUP alone, and the load balancer reloads on its poll instead
        org.junit.jupiter.api.Assumptions.assumeFalse(sighupIgnored(lb.pid()), "SIGHUP is ignored in the process this test starts");
        LoadBalancerConfig second = config.withListeners(List.of(new Listener("api", "127.0.0.1", 0, Protocol.TCP, List.of(b))));
        second.write(configFile);
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(lb.pid())).start();
        assertThat(kill.waitFor()).isZero();
        LoadBalancerStatus.await(statusFile, second.digest(), Duration.ofSeconds(5));
        assertThat(idOf(api)).isEqualTo("b");
    }

    /** Bit 1 of SigIgn in /proc/PID/status: the process ignores SIGHUP. */
    private static boolean sighupIgnored(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("SigIgn:")) return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & 1L) != 0;
        }
        return false;
    }

    private Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "loadbalancer"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        return p;
    }

    /** A backend that writes its id and a newline, then echoes. */
    private Backend backend(String id) throws IOException {
        ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        backends.add(s);
        Thread.ofVirtual().start(() -> {
            while (!s.isClosed()) {
                try {
                    Socket c = s.accept();
                    Thread.ofVirtual().start(() -> {
                        try (c) {
                            c.getOutputStream().write((id + "\n").getBytes(StandardCharsets.UTF_8));
                            c.getInputStream().transferTo(c.getOutputStream());
                        } catch (IOException ignored) {
                            // client gone
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return new Backend("127.0.0.1", s.getLocalPort());
    }

    private static Socket open(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
        s.setSoTimeout(3000);
        return s;
    }

    private static String readLine(Socket s) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = s.getInputStream().read()) != '\n'; ) {
            if (c < 0) throw new IOException("closed after '" + sb + "'");
            sb.append((char) c);
        }
        return sb.toString();
    }

    private static String idOf(int port) throws IOException {
        try (Socket s = open(port)) {
            return readLine(s);
        }
    }

    private static String echo(Socket s, String line) throws IOException {
        s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        return readLine(s);
    }

    private static void assertThatRefused(int port) {
        try (Socket s = open(port)) {
            throw new AssertionError("port " + port + " still accepts after the load balancer stopped");
        } catch (IOException expected) {
            // refused
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
