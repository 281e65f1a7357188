package io.k3j.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Iterator;

/**
 * kubeconfig files as k3d writes them: cluster and context {@code k3j-NAME}, user {@code admin@k3j-NAME}, merged
 * into a file (replacing entries of the same name) under an exclusive lock of that file, so that two
 * {@code cluster create} running at once both land.
 */
public final class Kubeconfigs {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

    private Kubeconfigs() { }

    /** The context (and cluster) name of a cluster. */
    public static String contextName(String cluster) {
        return "k3j-" + cluster;
    }

    /** The user name of a cluster's admin. */
    public static String userName(String cluster) {
        return "admin@k3j-" + cluster;
    }

    /** The file {@code --kubeconfig-update-default} writes: the first of {@code $KUBECONFIG}, else ~/.kube/config. */
    public static Path defaultFile() {
        String env = System.getenv("KUBECONFIG");
        if (env != null && !env.isBlank()) {
            for (String f : env.split(":")) if (!f.isBlank()) return Path.of(f);
        }
        return Path.of(System.getProperty("user.home"), ".kube", "config");
    }

    /**
     * A kubeconfig for one cluster from the admin kubeconfig its first server wrote (k3s's {@code default} names),
     * renamed to k3d's names and pointing at {@code server}.
     *
     * @throws UncheckedIOException when the server's file cannot be read
     */
    static String forCluster(String cluster, Path serverKubeconfig, URI server) {
        JsonNode src;
        try {
            src = YAML.readTree(serverKubeconfig.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("reading the server's kubeconfig " + serverKubeconfig + ": " + e.getMessage(), e);
        }
        String ctx = contextName(cluster);
        String user = userName(cluster);
        ObjectNode out = YAML.createObjectNode();
        out.put("apiVersion", "v1");
        out.put("kind", "Config");
        ObjectNode c = out.putArray("clusters").addObject();
        c.put("name", ctx);
        c.putObject("cluster").put("certificate-authority-data", src.at("/clusters/0/cluster/certificate-authority-data").asText())
                .put("server", server.toString());
        ObjectNode x = out.putArray("contexts").addObject();
        x.put("name", ctx);
        x.putObject("context").put("cluster", ctx).put("user", user);
        out.put("current-context", ctx);
        out.putObject("preferences");
        ObjectNode u = out.putArray("users").addObject();
        u.put("name", user);
        u.putObject("user").put("client-certificate-data", src.at("/users/0/user/client-certificate-data").asText())
                .put("client-key-data", src.at("/users/0/user/client-key-data").asText());
        return write(out);
    }

    /**
     * Merges {@code kubeconfig} (one cluster's) into {@code file}, replacing entries of the same names; the
     * current context becomes its context when {@code switchContext} or when the file had none.
     */
    public static void merge(Path file, String kubeconfig, boolean switchContext) {
        JsonNode add = read(kubeconfig);
        update(file, doc -> {
            for (String section : new String[] {"clusters", "contexts", "users"}) {
                ArrayNode list = array(doc, section);
                for (JsonNode entry : add.path(section)) {
                    removeNamed(list, entry.path("name").asText());
                    list.add(entry);
                }
            }
            String current = doc.path("current-context").asText("");
            if (switchContext || current.isEmpty()) doc.put("current-context", add.path("current-context").asText());
            return true;
        });
    }

    /** Removes a cluster's entries from {@code file}; a missing file or entry is not an error. */
    public static void remove(Path file, String cluster) {
        if (!Files.exists(file)) return;
        update(file, doc -> {
            boolean changed = removeNamed(array(doc, "clusters"), contextName(cluster));
            changed |= removeNamed(array(doc, "contexts"), contextName(cluster));
            changed |= removeNamed(array(doc, "users"), userName(cluster));
            if (contextName(cluster).equals(doc.path("current-context").asText())) {
                doc.put("current-context", "");
                changed = true;
            }
            return changed;
        });
    }

    /** Whether {@code file} has any entry of the cluster (for leftover checks). */
    public static boolean mentions(Path file, String cluster) {
        if (!Files.exists(file)) return false;
        try {
            JsonNode doc = read(Files.readString(file));
            for (String section : new String[] {"clusters", "contexts", "users"}) {
                for (JsonNode e : doc.path(section)) {
                    String n = e.path("name").asText();
                    if (n.equals(contextName(cluster)) || n.equals(userName(cluster))) return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private interface Edit {
        boolean apply(ObjectNode doc);
    }

    /** Read, edit and write the file under an exclusive lock of the file itself (no lock file is left behind). */
    private static void update(Path file, Edit edit) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            boolean created = !Files.exists(file);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                if (created) {
                    try {
                        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                    } catch (UnsupportedOperationException e) {
                        // not a POSIX file system
                    }
                }
                ByteBuffer buf = ByteBuffer.allocate((int) ch.size());
                while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) { }
                String text = new String(buf.array(), StandardCharsets.UTF_8);
                ObjectNode doc = text.isBlank() ? YAML.createObjectNode() : (ObjectNode) read(text);
                if (!doc.has("apiVersion")) doc.put("apiVersion", "v1");
                if (!doc.has("kind")) doc.put("kind", "Config");
                if (!edit.apply(doc)) return;
                byte[] out = write(doc).getBytes(StandardCharsets.UTF_8);
                ch.truncate(0);
                ByteBuffer w = ByteBuffer.wrap(out);
                long pos = 0;
                while (w.hasRemaining()) pos += ch.write(w, pos);
                ch.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("updating kubeconfig " + file + ": " + e.getMessage(), e);
        }
    }

    private static ArrayNode array(ObjectNode doc, String field) {
        JsonNode n = doc.get(field);
        if (n instanceof ArrayNode a) return a;
        return doc.putArray(field);
    }

    private static boolean removeNamed(ArrayNode list, String name) {
        boolean removed = false;
        for (Iterator<JsonNode> it = list.iterator(); it.hasNext(); ) {
            if (name.equals(it.next().path("name").asText())) {
                it.remove();
                removed = true;
            }
        }
        return removed;
    }

    private static JsonNode read(String yaml) {
        try {
            JsonNode n = YAML.readTree(yaml);
            if (n == null || n.isMissingNode() || n.isNull()) return YAML.createObjectNode();
            if (!n.isObject()) throw new IllegalArgumentException("not a kubeconfig (expected a YAML mapping)");
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException("parsing kubeconfig: " + e.getMessage(), e);
        }
    }

    private static String write(JsonNode doc) {
        try {
            return YAML.writeValueAsString(doc);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
