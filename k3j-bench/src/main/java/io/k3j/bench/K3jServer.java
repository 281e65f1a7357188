package io.k3j.bench;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One {@code k3j server --disable-agent} process started through the repo's {@code ./k3j} launcher, which
 * exec's the JVM, so {@link Process#pid()} is the server JVM's PID. Stopped by that PID only.
 */
final class K3jServer implements AutoCloseable {

    private final Process process;
    private final Path dataDir;
    private final Path kubeconfig;
    private final Path log;
    private final long startedNanos;
    private final URI url;
    private volatile AdminCredentials credentials;

    private K3jServer(Process process, Path dataDir, Path kubeconfig, Path log, long startedNanos, int port) {
        this.process = process;
        this.url = URI.create("https://127.0.0.1:" + port);
        this.dataDir = dataDir;
        this.kubeconfig = kubeconfig;
        this.log = log;
        this.startedNanos = startedNanos;
    }

    /**
     * Execs the server; returns at once. Extra JVM flags come from {@code K3J_JAVA_OPTS} (the launcher's
     * knob): {@code javaOpts} null leaves the environment's value (or the launcher default) in force.
     * {@code extraArgs} go after the standard flags (e.g. {@code --datastore-endpoint URL}).
     *
     * @throws IOException if the launcher cannot be started
     */
    static K3jServer start(Path repo, Path dataDir, Path kubeconfig, int port, String javaOpts, Path log, String... extraArgs) throws IOException {
        Files.createDirectories(log.getParent());
        List<String> command = new java.util.ArrayList<>(List.of(repo.resolve("k3j").toString(), "server", "--disable-agent",
                "--data-dir", dataDir.toString(), "--write-kubeconfig", kubeconfig.toString(),
                "--https-listen-port", Integer.toString(port), "--bind-address", "127.0.0.1"));
        command.addAll(List.of(extraArgs));
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(repo.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("K3J_SKIP_BUILD", "1");
        if (javaOpts != null) {
            env.put("K3J_JAVA_OPTS", javaOpts);
        }
        long t0 = System.nanoTime();
        Process p = pb.start();
        Processes.track(p);
        return new K3jServer(p, dataDir, kubeconfig, log, t0, port);
    }

    /**
     * Polls {@code /readyz} with the admin client certificate (anonymous gets 401) until it answers 200,
     * first waiting for the kubeconfig to appear when the data dir is fresh.
     *
     * @return nanoseconds from exec to the first 200
     * @throws IOException if the process dies or {@code timeout} passes first
     */
    long awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = startedNanos + timeout.toNanos();
        HttpClient client = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("k3j server exited with " + process.exitValue() + "; log: " + log);
            }
            if (client == null && Files.exists(kubeconfig)) {
                try {
                    // The URL is the port we chose: an existing data dir's kubeconfig still names the previous run's.
                    credentials = AdminCredentials.load(kubeconfig).withServer(url);
                    client = Http.client(credentials.sslContext(), HttpClient.Version.HTTP_1_1);
                } catch (IOException partiallyWritten) {
                    credentials = null;
                }
            }
            if (client != null) {
                try {
                    HttpResponse<Void> r = client.send(HttpRequest.newBuilder(credentials.server().resolve("/readyz"))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() == 200) {
                        long t = System.nanoTime() - startedNanos;
                        client.close();
                        return t;
                    }
                } catch (ConnectException notListeningYet) {
                    // the kubeconfig of a previous run exists before the port is open
                } catch (IOException e) {
                    if (!process.isAlive()) {
                        continue;
                    }
                }
            }
            Thread.sleep(5);
        }
        throw new IOException("k3j server not ready within " + timeout + "; log: " + log);
    }

    AdminCredentials credentials() {
        return credentials;
    }

    long pid() {
        return process.pid();
    }

    Path dataDir() {
        return dataDir;
    }

    Path log() {
        return log;
    }

    /** The server JVM's own command line, read from /proc: the flags actually in force. */
    String commandLine() throws IOException {
        byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid()), "cmdline"));
        return new String(raw).replace('\0', ' ').strip();
    }

    /** SIGTERM to the PID, then SIGKILL after 20 s. */
    @Override
    public void close() throws InterruptedException {
        Processes.stop(process);
    }
}
