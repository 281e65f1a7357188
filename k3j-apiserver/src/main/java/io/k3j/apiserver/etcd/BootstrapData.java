package io.k3j.apiserver.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a joining server needs from the cluster before it can start (k3s's server bootstrap data): the cluster CAs
 * with their keys, the service-account signing key and etcd's two CAs, as files relative to the server data dir,
 * plus the client URLs of the etcd members it can add itself through.
 *
 * <p>Wire form (JSON): {@code {"files": {"tls/server-ca.crt": "<base64>", ...}, "etcdClientUrls": ["https://..."]}}.
 *
 * @param files          path relative to {@code <data-dir>/server} → content
 * @param etcdClientUrls where the cluster's etcd members listen for clients; empty when the cluster has no
 *                       embedded etcd
 */
record BootstrapData(Map<String, byte[]> files, List<String> etcdClientUrls) {

    /** The files shared by every server, relative to {@code <data-dir>/server}. */
    static final List<String> SHARED_FILES = List.of(
            "tls/server-ca.crt", "tls/server-ca.key",
            "tls/client-ca.crt", "tls/client-ca.key",
            "tls/service.key",
            "tls/etcd/server-ca.crt", "tls/etcd/server-ca.key",
            "tls/etcd/peer-ca.crt", "tls/etcd/peer-ca.key");

    BootstrapData {
        files = Map.copyOf(files);
        etcdClientUrls = List.copyOf(etcdClientUrls);
    }

    /** Reads the shared files that exist under {@code serverDir}. */
    static BootstrapData read(Path serverDir, List<String> etcdClientUrls) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String f : SHARED_FILES) {
            Path p = serverDir.resolve(f);
            if (Files.isRegularFile(p)) files.put(f, Files.readAllBytes(p));
        }
        return new BootstrapData(files, etcdClientUrls);
    }

    byte[] toJson() {
        ObjectNode root = Json.object();
        ObjectNode files = root.putObject("files");
        this.files.forEach((k, v) -> files.put(k, Base64.getEncoder().encodeToString(v)));
        var urls = root.putArray("etcdClientUrls");
        etcdClientUrls.forEach(urls::add);
        return Json.bytes(root);
    }

    /**
     * @throws IOException if the document is not bootstrap data or names a file outside the shared set
     */
    static BootstrapData fromJson(byte[] json) throws IOException {
        JsonNode root;
        try {
            root = Json.parseObject(json);
        } catch (RuntimeException e) {
            throw new IOException("bootstrap data is not JSON: " + e.getMessage(), e);
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        var it = root.path("files").fields();
        while (it.hasNext()) {
            var e = it.next();
            // a server answering with other paths (../, absolute) must not make the joiner write there
            if (!SHARED_FILES.contains(e.getKey())) throw new IOException("bootstrap data names an unexpected file " + e.getKey());
            files.put(e.getKey(), Base64.getDecoder().decode(e.getValue().asText()));
        }
        for (String required : List.of("tls/server-ca.crt", "tls/server-ca.key", "tls/client-ca.crt", "tls/client-ca.key", "tls/service.key")) {
            if (!files.containsKey(required)) throw new IOException("bootstrap data lacks " + required);
        }
        List<String> urls = new ArrayList<>();
        root.path("etcdClientUrls").forEach(n -> urls.add(n.asText()));
        return new BootstrapData(files, urls);
    }

    /**
     * Writes the files under {@code serverDir}: keys 0600, certificates 0644, folders 0700. Leaves issued by an
     * earlier, different CA are re-issued by the PKI at load, since they no longer chain to the CA written here.
     */
    void write(Path serverDir) throws IOException {
        for (var e : files.entrySet()) {
            Path target = serverDir.resolve(e.getKey());
            createPrivateDirectories(target.getParent());
            Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
            Files.write(tmp, e.getValue());
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(e.getKey().endsWith(".key") ? "rw-------" : "rw-r--r--"));
            Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static void createPrivateDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) return;
        createPrivateDirectories(dir.getParent());
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
}
