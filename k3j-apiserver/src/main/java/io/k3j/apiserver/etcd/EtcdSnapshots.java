package io.k3j.apiserver.etcd;

import static java.util.Objects.requireNonNull;

import io.k3j.apiserver.ServerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Snapshots of the embedded etcd, as {@code k3s etcd-snapshot} keeps them: files named
 * {@code <name>-<node>-<unix seconds>} in {@code --etcd-snapshot-dir} (default {@code <data-dir>/server/db/snapshots}),
 * made from the local member through its client port with the server's etcd client certificate, so they work while
 * the server runs and from another process ({@code k3j etcd-snapshot save}).
 *
 * <p>Saving and restoring use Debian's {@code etcdctl} (package {@value #ETCDCTL_PACKAGE}): a snapshot is etcd's own
 * database file, restorable with any etcd tool, and restoring one has to build a fresh data dir offline, which only
 * etcd's tools can do.
 */
public final class EtcdSnapshots {
    private static final System.Logger LOG = System.getLogger(EtcdSnapshots.class.getName());
    /** The Debian package that holds {@link #ETCDCTL}. */
    public static final String ETCDCTL_PACKAGE = "etcd-client";
    public static final Path ETCDCTL = Path.of("/usr/bin/etcdctl");
    /** k3s's name prefix for snapshots made by {@code etcd-snapshot save}. */
    public static final String ON_DEMAND = "on-demand";
    /** k3s's name prefix for scheduled snapshots. */
    public static final String SCHEDULED = "etcd-snapshot";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private final Path dir;
    private final String nodeName;
    private final Path serverDir;
    private final EtcdOptions options;
    private final Clock clock;

    private EtcdSnapshots(Path dir, String nodeName, Path serverDir, EtcdOptions options, Clock clock) {
        this.dir = dir;
        this.nodeName = nodeName;
        this.serverDir = serverDir;
        this.options = options;
        this.clock = clock;
    }

    /** The snapshots of the server configured by {@code config}. */
    public static EtcdSnapshots of(ServerConfig config, Clock clock) {
        requireNonNull(config, "config");
        Path dir = config.etcd().snapshotDir() != null ? config.etcd().snapshotDir() : config.serverDir().resolve("db").resolve("snapshots");
        return new EtcdSnapshots(dir, EmbeddedEtcd.nodeName(config), config.serverDir(), config.etcd(), requireNonNull(clock, "clock"));
    }

    /** A snapshot file. */
    public record Snapshot(String name, Path file, long size, Instant created) {
    }

    /** Where the snapshots are kept. */
    public Path dir() {
        return dir;
    }

    /**
     * Saves a snapshot of the running member as {@code <prefix>-<node>-<unix seconds>}.
     *
     * @param prefix {@link #ON_DEMAND}, {@link #SCHEDULED} or the user's {@code --name}
     * @throws IOException              if the member cannot be reached or etcdctl fails (its output is in the message)
     * @throws IllegalArgumentException if {@code prefix} is not a plain file name
     */
    public Snapshot save(String prefix) throws IOException {
        checkName(prefix);
        Files.createDirectories(dir);
        String name = prefix + "-" + nodeName + "-" + clock.instant().getEpochSecond();
        Path file = dir.resolve(name);
        Path part = dir.resolve(name + ".part");
        Path tls = serverDir.resolve("tls").resolve("etcd");
        run(List.of(etcdctl(), "--endpoints", "https://127.0.0.1:" + options.clientPort(),
                "--cacert", tls.resolve("server-ca.crt").toString(), "--cert", tls.resolve("client.crt").toString(),
                "--key", tls.resolve("client.key").toString(), "--command-timeout", "120s",
                "snapshot", "save", part.toString()), "saving etcd snapshot " + file);
        Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("rw-------"));
        Files.move(part, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        LOG.log(System.Logger.Level.INFO, "saved etcd snapshot " + file);
        return snapshot(file);
    }

    /** The snapshots, oldest first. */
    public List<Snapshot> list() throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        List<Snapshot> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().endsWith(".part")).toList()) {
                out.add(snapshot(f));
            }
        }
        out.sort(Comparator.comparing(Snapshot::created).thenComparing(Snapshot::name));
        return out;
    }

    /**
     * Deletes the named snapshot.
     *
     * @throws IOException              if there is none of that name
     * @throws IllegalArgumentException if {@code name} is not a plain file name
     */
    public void delete(String name) throws IOException {
        checkName(name);
        Path f = dir.resolve(name);
        if (!Files.isRegularFile(f)) throw new IOException("no etcd snapshot " + name + " in " + dir);
        Files.delete(f);
        LOG.log(System.Logger.Level.INFO, "deleted etcd snapshot " + f);
    }

    /**
     * Keeps the newest {@code retention} snapshots whose names start with {@code prefix}-{@code <this node>}- and
     * deletes the older ones (k3s prunes per node and prefix, so on-demand snapshots survive scheduled pruning).
     *
     * @return the deleted snapshots
     */
    public List<Snapshot> prune(String prefix, int retention) throws IOException {
        checkName(prefix);
        if (retention < 1) throw new IllegalArgumentException("retention : " + retention + " (expected: >= 1)");
        String start = prefix + "-" + nodeName + "-";
        List<Snapshot> mine = list().stream().filter(s -> s.name().startsWith(start)).toList();
        List<Snapshot> deleted = new ArrayList<>();
        for (int i = 0; i < mine.size() - retention; i++) {
            Files.deleteIfExists(mine.get(i).file());
            deleted.add(mine.get(i));
        }
        return deleted;
    }

    /**
     * Builds a one-member data dir from {@code snapshot} at {@code dataDir} (which must not exist), for the member
     * {@code name} at {@code peerUrl}: what {@code --cluster-reset-restore-path} does before the member starts.
     */
    static void restore(Path snapshot, Path dataDir, String name, String peerUrl) throws IOException {
        if (!Files.isRegularFile(snapshot)) throw new IOException("no etcd snapshot at " + snapshot);
        run(List.of(etcdctl(), "snapshot", "restore", snapshot.toString(), "--data-dir", dataDir.toString(),
                "--name", name, "--initial-cluster", name + "=" + peerUrl, "--initial-advertise-peer-urls", peerUrl),
                "restoring etcd snapshot " + snapshot);
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
    }

    private Snapshot snapshot(Path f) throws IOException {
        String name = f.getFileName().toString();
        Instant created = Files.getLastModifiedTime(f).toInstant();
        int dash = name.lastIndexOf('-');
        if (dash > 0) {
            try {
                created = Instant.ofEpochSecond(Long.parseLong(name.substring(dash + 1)));
            } catch (NumberFormatException e) {
                // not one of ours: the file time will do
            }
        }
        return new Snapshot(name, f, Files.size(f), created);
    }

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("snapshot name \"" + name + "\" (expected: letters, digits, '.', '_' and '-', no path)");
        }
    }

    private static String etcdctl() throws IOException {
        if (!Files.isExecutable(ETCDCTL)) {
            throw new IOException(ETCDCTL + " is missing: install Debian's " + ETCDCTL_PACKAGE + " (apt-get install -y " + ETCDCTL_PACKAGE + ")");
        }
        return ETCDCTL.toString();
    }

    private static void run(List<String> command, String what) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("ETCDCTL_"));
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        try {
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException(what + ": etcdctl did not finish within 5 minutes");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(what + ": interrupted", e);
        }
        if (p.exitValue() != 0) {
            throw new IOException(what + ": etcdctl exited with " + p.exitValue() + ": " + new String(out, StandardCharsets.UTF_8).strip());
        }
    }
}
