package io.k3j.store.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A private PostgreSQL 15 server for tests: Debian's binaries run as the {@code postgres} user on a fresh
 * cluster in a temp dir, listening on 127.0.0.1 at a free port (and a unix socket in the temp dir), password
 * authentication over TCP. Start one per test class; {@link #close()} stops it by PID and deletes the dir.
 * Never touches the system's own cluster or service.
 */
public final class Postgres implements AutoCloseable {
    private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    public static final String USER = "postgres";
    public static final String PASSWORD = "k3j-test-pw";
    /** -Dk3j.test.fsync=true runs the server with fsync, for throughput figures that mean something. */
    private static final boolean FSYNC = Boolean.getBoolean("k3j.test.fsync");

    private ServerProcess server;
    private final ProcessBuilder command;
    private final Path dir;
    private final Path log;
    private final int port;

    private Postgres(ServerProcess server, ProcessBuilder command, Path dir, Path log, int port) {
        this.server = server;
        this.command = command;
        this.dir = dir;
        this.log = log;
        this.port = port;
    }

    /** Installs postgresql if missing, creates a cluster and starts it; returns once it accepts connections. */
    public static Postgres start() {
        DebianPackages.ensure("postgresql");
        Path dir;
        try {
            dir = Files.createTempDirectory("k3j-pg-");
            Files.writeString(dir.resolve("pwfile"), PASSWORD + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            ServerProcess.run(List.of("chown", "-R", USER + ":" + USER, dir.toString()));
            ServerProcess.run(asPostgres(BIN.resolve("initdb").toString(), "-D", dir.resolve("data").toString(),
                    "-U", USER, "-E", "UTF8", "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
                    "--pwfile=" + dir.resolve("pwfile"), "--no-sync"), dir);
            int port = ServerProcess.freePort();
            Path log = dir.resolve("postgres.log");
            // setpriv execs postgres in place, so the child's PID is the postmaster's: stopping by PID is exact.
            ProcessBuilder pb = new ProcessBuilder(asPostgres(BIN.resolve("postgres").toString(),
                    "-D", dir.resolve("data").toString(), "-p", Integer.toString(port),
                    "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir,
                    "-c", "max_connections=200", "-c", "shared_buffers=32MB",
                    // Tests create a database per test; without fsync that costs milliseconds instead of seconds.
                    // What a test checks (commit before acknowledge) does not depend on the disk.
                    "-c", "fsync=" + (FSYNC ? "on" : "off")))
                    .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            ServerProcess server = new ServerProcess("postgres on port " + port, pb.start(), dir, log);
            Postgres pg = new Postgres(server, pb, dir, log, port);
            try {
                server.awaitReady(Duration.ofSeconds(60), () -> pg.connect("postgres").close());
            } catch (RuntimeException e) {
                server.stop("INT");
                throw e;
            }
            return pg;
        } catch (IOException e) {
            ServerProcess.deleteTree(dir);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            ServerProcess.deleteTree(dir);
            throw e;
        }
    }

    private static List<String> asPostgres(String... command) {
        List<String> c = new ArrayList<>(List.of("setpriv", "--reuid=" + USER, "--regid=" + USER, "--init-groups",
                "--reset-env"));
        c.addAll(List.of(command));
        return c;
    }

    /** A k3s-style endpoint for {@code database} (which need not exist yet). */
    public String endpoint(String database) {
        return "postgres://" + USER + ":" + PASSWORD + "@127.0.0.1:" + port + "/" + database + "?sslmode=disable";
    }

    public int port() {
        return port;
    }

    public long pid() {
        return server.pid();
    }

    /** A plain JDBC connection to {@code database}, for tests that look at the tables. */
    public Connection connect(String database) throws java.sql.SQLException {
        Properties p = new Properties();
        p.setProperty("user", USER);
        p.setProperty("password", PASSWORD);
        p.setProperty("sslmode", "disable");
        Connection c = new org.postgresql.Driver().connect("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
        if (c == null) {
            throw new java.sql.SQLException("no connection");
        }
        return c;
    }

    /**
     * Stops the server (fast shutdown: open connections are cut) and starts it again on the same data and port,
     * returning once it accepts connections: what a database restart or failover looks like to its clients.
     */
    public void restart() throws IOException {
        server.terminate("INT");
        server = new ServerProcess("postgres on port " + port, command.start(), dir, log);
        server.awaitReady(Duration.ofSeconds(60), () -> connect("postgres").close());
    }

    /** Fast shutdown (SIGINT to the postmaster's PID), then deletes the cluster's directory. */
    @Override
    public void close() {
        server.stop("INT");
    }
}
