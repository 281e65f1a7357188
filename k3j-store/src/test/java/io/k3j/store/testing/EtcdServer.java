package io.k3j.store.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private etcd member for tests: Debian's /usr/bin/etcd (package etcd-server) started as a child process on
 * 127.0.0.1 with free client and peer ports, its data in a directory of its own, stopped by PID and its directory
 * deleted on {@link #close()}. Never the system's etcd.service.
 *
 * <pre>{@code
 * try (EtcdServer etcd = EtcdServer.start(tempDir)) { ... etcd.clientUrl() ... }
 * List<EtcdServer> cluster = EtcdServer.startCluster(tempDir, 3);
 * }</pre>
 */
public final class EtcdServer implements AutoCloseable {
    public static final String BINARY = "/usr/bin/etcd";
    private static final String READY = "ready to serve client requests";

    private final String name;
    private final Path dir;
    private final URI clientUrl;
    private final URI peerUrl;
    private final List<String> command;
    private Process process;

    private EtcdServer(String name, Path dir, URI clientUrl, URI peerUrl, List<String> command) {
        this.name = name;
        this.dir = dir;
        this.clientUrl = clientUrl;
        this.peerUrl = peerUrl;
        this.command = command;
    }

    /** Installs etcd-server when missing (as root). */
    public static void ensureInstalled() {
        DebianPackages.ensure("etcd-server");
    }

    /** A single-member etcd over plain HTTP, with its data under {@code dir}, ready to serve. */
    public static EtcdServer start(Path dir) {
        return builder(dir).start();
    }

    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    /** {@code members} members named m0, m1, ... forming one new cluster, each under {@code dir/NAME}; all ready. */
    public static List<EtcdServer> startCluster(Path dir, int members) {
        List<String> names = new ArrayList<>();
        List<Integer> peerPorts = new ArrayList<>();
        StringBuilder initial = new StringBuilder();
        for (int i = 0; i < members; i++) {
            names.add("m" + i);
            peerPorts.add(freePort());
            initial.append(i == 0 ? "" : ",").append("m").append(i).append("=http://127.0.0.1:").append(peerPorts.get(i));
        }
        List<EtcdServer> servers = new ArrayList<>();
        try {
            for (int i = 0; i < members; i++) {
                servers.add(builder(dir.resolve(names.get(i))).name(names.get(i)).peerPort(peerPorts.get(i))
                        .initialCluster(initial.toString(), false).clusterToken("k3j-test-" + dir.getFileName()).build());
            }
            for (EtcdServer s : servers) s.launch(); // a member waits for the others' votes: start them all first
            for (EtcdServer s : servers) s.awaitReady();
            return servers;
        } catch (RuntimeException e) {
            servers.forEach(EtcdServer::close);
            throw e;
        }
    }

    /** How one member is started. */
    public static final class Builder {
        private final Path dir;
        private String name = "default";
        private int clientPort;
        private int peerPort;
        private String initialCluster;
        private boolean existing;
        private String clusterToken;
        private Path certFile;
        private Path keyFile;
        private Path trustedCaFile;

        private Builder(Path dir) {
            this.dir = dir;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder peerPort(int port) {
            this.peerPort = port;
            return this;
        }

        /** {@code --initial-cluster} (NAME=PEER_URL,...), and whether the cluster exists already (a member joining). */
        public Builder initialCluster(String initialCluster, boolean existing) {
            this.initialCluster = initialCluster;
            this.existing = existing;
            return this;
        }

        /** {@code --initial-cluster-token}: the same for every member of one new cluster. */
        public Builder clusterToken(String token) {
            this.clusterToken = token;
            return this;
        }

        /** Serve clients over TLS with this certificate; with {@code trustedCaFile}, require client certificates from that CA. */
        public Builder tls(Path certFile, Path keyFile, Path trustedCaFile) {
            this.certFile = certFile;
            this.keyFile = keyFile;
            this.trustedCaFile = trustedCaFile;
            return this;
        }

        public EtcdServer start() {
            EtcdServer s = build();
            try {
                s.launch();
                s.awaitReady();
                return s;
            } catch (RuntimeException e) {
                s.close();
                throw e;
            }
        }

        EtcdServer build() {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            int cp = clientPort == 0 ? freePort() : clientPort;
            int pp = peerPort == 0 ? freePort() : peerPort;
            String scheme = certFile != null ? "https" : "http";
            URI client = URI.create(scheme + "://127.0.0.1:" + cp);
            URI peer = URI.create("http://127.0.0.1:" + pp);
            List<String> cmd = new ArrayList<>(List.of(BINARY,
                    "--name", name,
                    "--data-dir", dir.resolve("data").toString(),
                    "--listen-client-urls", client.toString(),
                    "--advertise-client-urls", client.toString(),
                    "--listen-peer-urls", peer.toString(),
                    "--initial-advertise-peer-urls", peer.toString(),
                    "--initial-cluster", initialCluster != null ? initialCluster : name + "=" + peer,
                    "--initial-cluster-state", existing ? "existing" : "new",
                    "--initial-cluster-token", clusterToken != null ? clusterToken : "k3j-test-" + dir.getFileName(),
                    // quick elections, so failover tests take seconds; still well above loopback round trips
                    "--heartbeat-interval", "50",
                    "--election-timeout", "500",
                    "--snapshot-count", "10000"));
            if (certFile != null) {
                cmd.addAll(List.of("--cert-file", certFile.toString(), "--key-file", keyFile.toString()));
                if (trustedCaFile != null) cmd.addAll(List.of("--client-cert-auth", "--trusted-ca-file", trustedCaFile.toString()));
            }
            return new EtcdServer(name, dir, client, peer, cmd);
        }
    }

    private void launch() {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("etcd.log").toFile()));
            pb.environment().keySet().removeIf(k -> k.startsWith("ETCD")); // no stray ETCD_* settings
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + BINARY + " (is etcd-server installed?)", e);
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) throw new IllegalStateException("etcd " + name + " exited with " + process.exitValue() + ":\n" + log());
            if (log().contains(READY)) return;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("etcd " + name + " not ready within 30 s:\n" + log());
    }

    /** Starts the member again after {@link #kill()} or {@link #stop()}, with its data; waits until it serves. */
    public void restart() {
        if (process != null && process.isAlive()) throw new IllegalStateException("etcd " + name + " is running");
        try {
            Files.writeString(dir.resolve("etcd.log"), "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>(command);
        int i = cmd.indexOf("--initial-cluster-state");
        cmd.set(i + 1, "existing");
        command.clear();
        command.addAll(cmd);
        launch();
        awaitReady();
    }

    public String name() {
        return name;
    }

    public URI clientUrl() {
        return clientUrl;
    }

    public URI peerUrl() {
        return peerUrl;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** {@code kill -9}: the member dies at once, as in a crash. */
    public void kill() {
        if (process == null) return;
        process.destroyForcibly();
        waitFor(10);
    }

    /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
    public void stop() {
        if (process == null || !process.isAlive()) return;
        process.destroy();
        if (!waitFor(10)) {
            process.destroyForcibly();
            waitFor(10);
        }
    }

    private boolean waitFor(int seconds) {
        try {
            return process.waitFor(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** What etcd logged since it (re)started. */
    public String log() {
        try {
            Path f = dir.resolve("etcd.log");
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read the log: " + e + ")";
        }
    }

    /** Stops the member and deletes its directory. */
    @Override
    public void close() {
        stop();
        try (Stream<Path> walk = Files.exists(dir) ? Files.walk(dir) : Stream.empty()) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A port free on 127.0.0.1 now (etcd can't be told to pick one itself and report it). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
