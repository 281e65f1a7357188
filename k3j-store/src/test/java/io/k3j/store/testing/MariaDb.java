package io.k3j.store.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * A private MariaDB server for tests: Debian's mariadbd on a data dir made by mariadb-install-db in a temp dir,
 * listening on 127.0.0.1 at a free port with its socket in the temp dir, and a password user {@link #USER}
 * created by an init file. Start one per test class; {@link #close()} stops it by PID and deletes the dir.
 * Never touches the system's own service.
 */
public final class MariaDb implements AutoCloseable {
    public static final String USER = "k3j";
    public static final String PASSWORD = "k3j-test-pw";

    private ServerProcess server;
    private final ProcessBuilder command;
    private final Path dir;
    private final Path log;
    private final int port;

    private MariaDb(ServerProcess server, ProcessBuilder command, Path dir, Path log, int port) {
        this.server = server;
        this.command = command;
        this.dir = dir;
        this.log = log;
        this.port = port;
    }

    /** Installs mariadb-server if missing, creates a data dir and starts it; returns once it accepts logins. */
    public static MariaDb start() {
        DebianPackages.ensure("mariadb-server");
        Path dir;
        try {
            dir = Files.createTempDirectory("k3j-mariadb-");
            Files.writeString(dir.resolve("init.sql"), """
                    CREATE USER IF NOT EXISTS '%1$s'@'%%' IDENTIFIED BY '%2$s';
                    GRANT ALL PRIVILEGES ON *.* TO '%1$s'@'%%';
                    """.formatted(USER, PASSWORD), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Path data = dir.resolve("data");
            ServerProcess.run(List.of("mariadb-install-db", "--no-defaults", "--datadir=" + data, "--user=root",
                    "--auth-root-authentication-method=socket", "--skip-test-db"), dir);
            int port = ServerProcess.freePort();
            Path log = dir.resolve("mariadbd.log");
            ProcessBuilder pb = new ProcessBuilder("/usr/sbin/mariadbd", "--no-defaults", "--datadir=" + data,
                    "--port=" + port, "--bind-address=127.0.0.1", "--socket=" + dir.resolve("mysqld.sock"),
                    "--pid-file=" + dir.resolve("mysqld.pid"), "--user=root", "--skip-name-resolve",
                    "--init-file=" + dir.resolve("init.sql"), "--innodb-buffer-pool-size=64M",
                    "--max-connections=300", "--log-error=" + log)
                    .directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("mariadbd.out").toFile()));
            ServerProcess server = new ServerProcess("mariadbd on port " + port, pb.start(), dir, log);
            MariaDb db = new MariaDb(server, pb, dir, log, port);
            try {
                server.awaitReady(Duration.ofSeconds(60), () -> db.connect("").close());
            } catch (RuntimeException e) {
                server.stop("TERM");
                throw e;
            }
            return db;
        } catch (IOException e) {
            ServerProcess.deleteTree(dir);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            ServerProcess.deleteTree(dir);
            throw e;
        }
    }

    /** A k3s-style endpoint for {@code database} (which need not exist yet). */
    public String endpoint(String database) {
        return "mysql://" + USER + ":" + PASSWORD + "@tcp(127.0.0.1:" + port + ")/" + database;
    }

    public int port() {
        return port;
    }

    public long pid() {
        return server.pid();
    }

    /** A plain JDBC connection to {@code database} ("" for none), for tests that look at the tables. */
    public Connection connect(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", USER);
        p.setProperty("password", PASSWORD);
        Connection c = new org.mariadb.jdbc.Driver().connect("jdbc:mariadb://127.0.0.1:" + port + "/" + database, p);
        if (c == null) {
            throw new SQLException("no connection");
        }
        return c;
    }

    /**
     * Stops the server (SIGTERM: open connections are cut) and starts it again on the same data and port,
     * returning once it accepts logins: what a database restart or failover looks like to its clients.
     */
    public void restart() throws IOException {
        server.terminate("TERM");
        server = new ServerProcess("mariadbd on port " + port, command.start(), dir, log);
        server.awaitReady(Duration.ofSeconds(60), () -> connect("").close());
    }

    /** Normal shutdown (SIGTERM to mariadbd's PID), then deletes the data dir. */
    @Override
    public void close() {
        server.stop("TERM");
    }
}
