package io.k3j.agent.volume;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Kubelet's atomic writer (pkg/volume/util/atomic_writer.go): the files of a ConfigMap, Secret, downward-API or
 * projected volume live in a timestamped directory {@code ..2026_11_25_22_19_09.123}, the symlink {@code ..data}
 * names the current one, and each top-level entry the user sees is a symlink {@code key -> ..data/key}. An update
 * writes a new timestamped directory and renames a fresh {@code ..data_tmp} symlink over {@code ..data}: one rename, so
 * a container that bind-mounts the volume directory sees either the old or the new set of files, never a mix.
 */
final class AtomicWriter {

    static final String DATA = "..data";
    private static final String DATA_TMP = "..data_tmp";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("'..'yyyy_MM_dd_HH_mm_ss.");

    /** One file of the payload: its bytes and permission bits. */
    record FileContent(byte[] data, int mode) { }

    private final Path target;

    AtomicWriter(Path target) {
        this.target = target;
    }

    /**
     * Makes the volume hold exactly {@code payload} (relative path to content).
     *
     * @param fsGroup when not null, every file and directory is given this group, with group read (and for
     *                directories setgid and search), as kubelet's SetVolumeOwnership does for read-only volumes
     * @return true when something was written, false when the volume already held this payload
     * @throws IllegalArgumentException for a path that is absolute, contains {@code ..} or starts with {@code ..}
     */
    boolean write(Map<String, FileContent> payload, Integer fsGroup) throws IOException {
        Set<String> visible = new HashSet<>();
        for (String p : payload.keySet()) visible.add(validate(p));
        Files.createDirectories(target);
        Path dataLink = target.resolve(DATA);
        Path current = Files.isSymbolicLink(dataLink) ? target.resolve(Files.readSymbolicLink(dataLink)) : null;
        if (current != null && Files.isDirectory(current) && same(current, payload, fsGroup) && linksPresent(visible)) return false;

        String stamp = LocalDateTime.now(ZoneOffset.UTC).format(STAMP);
        Path next = Files.createTempDirectory(target, stamp);
        setMode(next, 0755);
        for (Map.Entry<String, FileContent> e : payload.entrySet()) {
            Path file = next.resolve(e.getKey());
            Path parent = file.getParent();
            if (!parent.equals(next)) {
                Files.createDirectories(parent);
                for (Path d = parent; !d.equals(next); d = d.getParent()) setMode(d, 0755);
            }
            Files.write(file, e.getValue().data());
            setMode(file, e.getValue().mode() & 07777);
        }
        if (fsGroup != null) {
            own(target, fsGroup, true);
            Files.walkFileTree(next, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    own(dir, fsGroup, true);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    own(file, fsGroup, false);
                    return FileVisitResult.CONTINUE;
                }
            });
        }

        Path tmpLink = target.resolve(DATA_TMP);
        Files.deleteIfExists(tmpLink);
        Files.createSymbolicLink(tmpLink, next.getFileName());
        Files.move(tmpLink, dataLink, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

        for (String name : visible) {
            Path link = target.resolve(name);
            if (!Files.isSymbolicLink(link)) Files.createSymbolicLink(link, Path.of(DATA, name));
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.startsWith("..") || visible.contains(name)) continue;
                if (Files.isSymbolicLink(entry)) Files.delete(entry);
            }
        }
        if (current != null && !current.equals(next)) deleteTree(current);
        return true;
    }

    /** The top-level name a payload path shows up under; rejects what kubelet's validatePath rejects. */
    static String validate(String path) {
        if (path.isEmpty()) throw new IllegalArgumentException("invalid path: must not be empty");
        if (path.startsWith("/")) throw new IllegalArgumentException("invalid path: must be relative path: " + path);
        if (path.startsWith("..")) throw new IllegalArgumentException("invalid path: must not start with '..': " + path);
        for (String part : path.split("/")) {
            if (part.equals("..")) throw new IllegalArgumentException("invalid path: must not contain '..': " + path);
        }
        int slash = path.indexOf('/');
        return slash < 0 ? path : path.substring(0, slash);
    }

    private boolean same(Path dir, Map<String, FileContent> payload, Integer fsGroup) throws IOException {
        Map<String, Path> files = new HashMap<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                files.put(dir.relativize(file).toString(), file);
                return FileVisitResult.CONTINUE;
            }
        });
        if (!files.keySet().equals(payload.keySet())) return false;
        for (Map.Entry<String, FileContent> e : payload.entrySet()) {
            Path f = files.get(e.getKey());
            if (!Arrays.equals(Files.readAllBytes(f), e.getValue().data())) return false;
            int mode = (Integer) Files.getAttribute(f, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
            int want = e.getValue().mode() & 07777 | (fsGroup != null ? 0440 : 0);
            if (mode != want) return false;
        }
        return true;
    }

    private boolean linksPresent(Set<String> visible) {
        for (String name : visible) if (!Files.isSymbolicLink(target.resolve(name))) return false;
        return true;
    }

    private static void own(Path p, int gid, boolean dir) throws IOException {
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
        setMode(p, mode | 0440 | (dir ? 02110 : 0));
    }

    static void setMode(Path p, int mode) throws IOException {
        Files.setAttribute(p, "unix:mode", mode);
    }

    /** Deletes a tree without following symlinks (a payload never holds any, but a volume dir must not lead out). */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                throw exc;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) throw exc;
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
