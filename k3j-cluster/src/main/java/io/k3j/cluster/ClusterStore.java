package io.k3j.cluster;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The clusters' folders: {@code ROOT/NAME/cluster.json} and {@code ROOT/NAME/nodes/NODE/} (data dir, log, pid file).
 * Writes are atomic (write then rename), so a reader never sees half a state.
 */
final class ClusterStore {
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path root;

    ClusterStore(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    Path clusterDir(String cluster) {
        return root.resolve(cluster);
    }

    Path nodeDir(String cluster, String node) {
        return clusterDir(cluster).resolve("nodes").resolve(node);
    }

    boolean exists(String cluster) {
        return Files.exists(clusterDir(cluster).resolve("cluster.json"));
    }

    Optional<ClusterState> read(String cluster) {
        Path f = clusterDir(cluster).resolve("cluster.json");
        if (!Files.exists(f)) return Optional.empty();
        try {
            return Optional.of(JSON.readValue(f.toFile(), ClusterState.class));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + f + ": " + e.getMessage(), e);
        }
    }

    void write(ClusterState state) {
        Path dir = clusterDir(state.name());
        Path f = dir.resolve("cluster.json");
        Path tmp = dir.resolve("cluster.json.tmp");
        try {
            Files.createDirectories(dir);
            JSON.writeValue(tmp.toFile(), state);
            try {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + f + ": " + e.getMessage(), e);
        }
    }

    List<ClusterState> list() {
        List<ClusterState> out = new ArrayList<>();
        if (!Files.isDirectory(root)) return out;
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path d : dirs.sorted().toList()) {
                read(d.getFileName().toString()).ifPresent(out::add);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("listing " + root + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Removes the cluster's folder. */
    void delete(String cluster) {
        deleteTree(clusterDir(cluster));
    }

    /**
     * Runs {@code action} holding the store's lock: two {@code cluster create} running at once must not pick the
     * same name, subnet or addresses.
     */
    <T> T locked(java.util.function.Supplier<T> action) {
        try {
            Files.createDirectories(root);
            try (FileChannel ch = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                return action.get();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("locking " + root + ": " + e.getMessage(), e);
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("deleting " + dir + ": " + e.getMessage(), e);
        }
    }
}
