package io.k3j.agent.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a single-image OCI image-layout archive (a tar of {@code oci-layout}, {@code index.json} and
 * {@code blobs/sha256/...}) that {@code ctr images import} loads without a registry. The image is linux/amd64, its
 * layers gzip-compressed tars of root-owned entries at a fixed mtime, so the same input gives the same digests.
 * The index names the image by its full reference ({@code org.opencontainers.image.ref.name}, plus containerd's own
 * {@code io.containerd.image.name}): a bare tag would be imported under an odd name.
 *
 * <pre>{@code
 * OciArchive.image("docker.io/library/busybox:1.35")
 *     .layer(OciArchive.Layer.of(List.of(Entry.file("bin/busybox", 0755, Path.of("/bin/busybox")), Entry.symlink("bin/sh", "busybox"))))
 *     .cmd("sh")
 *     .writeTo(archive);
 * }</pre>
 */
public final class OciArchive {

    public static final String MEDIA_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String REF_NAME = "org.opencontainers.image.ref.name";
    public static final String CONTAINERD_IMAGE_NAME = "io.containerd.image.name";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String reference;
    private final List<Layer> layers = new ArrayList<>();
    private List<String> entrypoint = List.of();
    private List<String> cmd = List.of();
    private List<String> env = List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    private String workingDir = "/";
    private String user = "";

    private OciArchive(String reference) {
        this.reference = reference;
    }

    /** An image named {@code reference}, which must be a full one: registry/repository:tag. */
    public static OciArchive image(String reference) {
        Objects.requireNonNull(reference, "reference");
        int slash = reference.indexOf('/');
        int colon = reference.lastIndexOf(':');
        String registry = slash < 0 ? "" : reference.substring(0, slash);
        boolean registryNamed = registry.contains(".") || registry.contains(":") || registry.equals("localhost");
        if (!registryNamed || colon < slash) {
            throw new IllegalArgumentException("reference : " + reference + " (expected: registry/repository:tag, e.g. docker.io/library/busybox:1.35)");
        }
        return new OciArchive(reference);
    }

    public OciArchive layer(Layer layer) {
        layers.add(Objects.requireNonNull(layer, "layer"));
        return this;
    }

    public OciArchive entrypoint(String... args) {
        entrypoint = List.of(args);
        return this;
    }

    public OciArchive cmd(String... args) {
        cmd = List.of(args);
        return this;
    }

    /** Replaces the environment (default: a PATH). Entries are {@code NAME=value}. */
    public OciArchive env(String... entries) {
        env = List.of(entries);
        return this;
    }

    public OciArchive workingDir(String dir) {
        workingDir = dir;
        return this;
    }

    public OciArchive user(String user) {
        this.user = user;
        return this;
    }

    /** What was written: digests as {@code sha256:<hex>}. */
    public record Written(Path archive, String reference, String manifestDigest, String configDigest,
                          List<String> layerDigests, List<String> diffIds) {
    }

    /**
     * Writes the archive (atomically: a temp file next to it is moved into place).
     *
     * @throws UncheckedIOException when a source file cannot be read or the archive not written
     */
    public Written writeTo(Path archive) {
        if (layers.isEmpty()) throw new IllegalStateException("an image needs at least one layer");
        Path dir = archive.toAbsolutePath().getParent();
        List<Path> temps = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            List<Blob> layerBlobs = new ArrayList<>();
            List<String> diffIds = new ArrayList<>();
            for (Layer layer : layers) {
                Path tmp = Files.createTempFile(dir, ".layer", ".tar.gz");
                temps.add(tmp);
                String diffId = layer.writeGzip(tmp);
                diffIds.add(diffId);
                layerBlobs.add(new Blob(MEDIA_LAYER_GZIP, digest(tmp), Files.size(tmp), null, tmp));
            }
            byte[] config = JSON.writeValueAsBytes(config(diffIds));
            Blob configBlob = new Blob(MEDIA_CONFIG, digest(config), config.length, config, null);
            byte[] manifest = JSON.writeValueAsBytes(manifest(configBlob, layerBlobs));
            Blob manifestBlob = new Blob(MEDIA_MANIFEST, digest(manifest), manifest.length, manifest, null);
            byte[] index = JSON.writeValueAsBytes(index(manifestBlob));

            Path out = Files.createTempFile(dir, ".oci", ".tar");
            temps.add(out);
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 16); Tar tar = new Tar(os)) {
                tar.file("oci-layout", 0644, "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes());
                tar.file("index.json", 0644, index);
                tar.directory("blobs", 0755);
                tar.directory("blobs/sha256", 0755);
                tar.file(blobPath(manifestBlob.digest), 0644, manifest);
                tar.file(blobPath(configBlob.digest), 0644, config);
                for (Blob b : layerBlobs) {
                    try (InputStream in = Files.newInputStream(b.file)) {
                        tar.file(blobPath(b.digest), 0644, b.size, in);
                    }
                }
            }
            Files.move(out, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new Written(archive, reference, manifestBlob.digest, configBlob.digest,
                    layerBlobs.stream().map(Blob::digest).toList(), List.copyOf(diffIds));
        } catch (IOException e) {
            throw new UncheckedIOException("writing OCI archive " + archive + " of " + reference + ": " + e.getMessage(), e);
        } finally {
            for (Path t : temps) {
                try {
                    Files.deleteIfExists(t);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }

    private record Blob(String mediaType, String digest, long size, byte[] bytes, Path file) {
    }

    private static String blobPath(String digest) {
        return "blobs/sha256/" + digest.substring("sha256:".length());
    }

    private ObjectNode config(List<String> diffIds) {
        ObjectNode c = JSON.createObjectNode();
        c.put("architecture", "amd64");
        c.put("os", "linux");
        ObjectNode cfg = c.putObject("config");
        if (!user.isEmpty()) cfg.put("User", user);
        if (!env.isEmpty()) strings(cfg.putArray("Env"), env);
        if (!entrypoint.isEmpty()) strings(cfg.putArray("Entrypoint"), entrypoint);
        if (!cmd.isEmpty()) strings(cfg.putArray("Cmd"), cmd);
        cfg.put("WorkingDir", workingDir);
        ObjectNode rootfs = c.putObject("rootfs");
        rootfs.put("type", "layers");
        strings(rootfs.putArray("diff_ids"), diffIds);
        ArrayNode history = c.putArray("history");
        for (int i = 0; i < diffIds.size(); i++) history.addObject().put("created_by", "k3j OciArchive");
        return c;
    }

    private static ObjectNode manifest(Blob config, List<Blob> layers) {
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", MEDIA_MANIFEST);
        descriptor(m.putObject("config"), config);
        ArrayNode l = m.putArray("layers");
        for (Blob b : layers) descriptor(l.addObject(), b);
        return m;
    }

    private ObjectNode index(Blob manifest) {
        ObjectNode i = JSON.createObjectNode();
        i.put("schemaVersion", 2);
        i.put("mediaType", MEDIA_INDEX);
        ObjectNode d = i.putArray("manifests").addObject();
        descriptor(d, manifest);
        ObjectNode platform = d.putObject("platform");
        platform.put("architecture", "amd64");
        platform.put("os", "linux");
        ObjectNode annotations = d.putObject("annotations");
        annotations.put(CONTAINERD_IMAGE_NAME, reference);
        annotations.put(REF_NAME, reference);
        return i;
    }

    private static void descriptor(ObjectNode d, Blob b) {
        d.put("mediaType", b.mediaType);
        d.put("digest", b.digest);
        d.put("size", b.size);
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }

    static String digest(byte[] bytes) {
        return "sha256:" + HexFormat.of().formatHex(sha256().digest(bytes));
    }

    static String digest(Path file) throws IOException {
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return "sha256:" + HexFormat.of().formatHex(md.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One entry of a layer; paths are relative to the image root ({@code bin/sh}, not {@code /bin/sh}). */
    public sealed interface Entry {
        String path();

        record Directory(String path, int mode) implements Entry { }

        record Symlink(String path, String target) implements Entry { }

        record File(String path, int mode, byte[] content, Path source) implements Entry { }

        static Entry directory(String path, int mode) {
            return new Directory(clean(path), mode);
        }

        static Entry symlink(String path, String target) {
            return new Symlink(clean(path), target);
        }

        static Entry file(String path, int mode, byte[] content) {
            return new File(clean(path), mode, content.clone(), null);
        }

        /** A file whose content is read from {@code source} when the layer is written. */
        static Entry file(String path, int mode, Path source) {
            return new File(clean(path), mode, null, source);
        }

        private static String clean(String path) {
            String p = path;
            while (p.startsWith("/")) p = p.substring(1);
            if (p.isEmpty() || p.contains("..")) throw new IllegalArgumentException("path : " + path + " (expected: a relative path inside the image)");
            return p;
        }
    }

    /** A filesystem layer: entries in order (parents before children). */
    public static final class Layer {
        private final List<Entry> entries;

        private Layer(List<Entry> entries) {
            this.entries = List.copyOf(entries);
        }

        public static Layer of(List<Entry> entries) {
            return new Layer(entries);
        }

        /** The content of {@code dir} (files, directories, symlinks with their permission bits; owner root). */
        public static Layer fromDirectory(Path dir) {
            List<Entry> entries = new ArrayList<>();
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted().toList()) {
                    if (p.equals(dir)) continue;
                    String rel = dir.relativize(p).toString();
                    if (Files.isSymbolicLink(p)) {
                        entries.add(Entry.symlink(rel, Files.readSymbolicLink(p).toString()));
                    } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        entries.add(Entry.directory(rel, mode(p)));
                    } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        entries.add(Entry.file(rel, mode(p), p));
                    }
                    // sockets, fifos and devices have no place in an image layer
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + dir + ": " + e.getMessage(), e);
            }
            return new Layer(entries);
        }

        public List<Entry> entries() {
            return entries;
        }

        private static int mode(Path p) throws IOException {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
            int m = 0;
            for (PosixFilePermission perm : perms) m |= 1 << (8 - perm.ordinal());
            return m;
        }

        /** Writes the gzip-compressed tar to {@code file} and returns the uncompressed tar's digest (the diff ID). */
        String writeGzip(Path file) throws IOException {
            MessageDigest uncompressed = sha256();
            try (OutputStream fos = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
                 GZIPOutputStream gz = new GZIPOutputStream(fos, 1 << 16);
                 DigestOutputStream dos = new DigestOutputStream(gz, uncompressed)) {
                Tar tar = new Tar(dos);
                for (Entry e : entries) {
                    switch (e) {
                        case Entry.Directory d -> tar.directory(d.path(), d.mode());
                        case Entry.Symlink s -> tar.symlink(s.path(), s.target());
                        case Entry.File f when f.content() != null -> tar.file(f.path(), f.mode(), f.content());
                        case Entry.File f -> {
                            try (InputStream in = Files.newInputStream(f.source())) {
                                tar.file(f.path(), f.mode(), Files.size(f.source()), in);
                            }
                        }
                    }
                }
                tar.close();
            }
            return "sha256:" + HexFormat.of().formatHex(uncompressed.digest());
        }
    }
}
