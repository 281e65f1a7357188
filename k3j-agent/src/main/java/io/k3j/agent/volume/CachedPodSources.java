package io.k3j.agent.volume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@link PodSources} that keep the last answer of every lookup on disk and fall back to it while the server can't be
 * reached: an edge node that reboots without its uplink still finds the configmaps, secrets, claims and
 * service-account tokens its pods mounted. An answer the server did give (including "not found") always wins.
 *
 * <p>The folder holds secrets and tokens: it is created 0700 and every file 0600.
 */
public final class CachedPodSources implements PodSources {
    private static final System.Logger LOG = System.getLogger(CachedPodSources.class.getName());

    private final PodSources delegate;
    private final Path dir;

    public CachedPodSources(PodSources delegate, Path dir) {
        this.delegate = delegate;
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the agent's cache " + dir, e);
        }
    }

    @Override
    public Optional<ObjectNode> configMap(String namespace, String name) {
        return object("configmaps", namespace + "_" + name, () -> delegate.configMap(namespace, name));
    }

    @Override
    public Optional<ObjectNode> secret(String namespace, String name) {
        return object("secrets", namespace + "_" + name, () -> delegate.secret(namespace, name));
    }

    @Override
    public Optional<ObjectNode> persistentVolumeClaim(String namespace, String name) {
        return object("persistentvolumeclaims", namespace + "_" + name, () -> delegate.persistentVolumeClaim(namespace, name));
    }

    @Override
    public Optional<ObjectNode> persistentVolume(String name) {
        return object("persistentvolumes", name, () -> delegate.persistentVolume(name));
    }

    @Override
    public List<ObjectNode> services(String namespace) {
        Path file = dir.resolve("services").resolve(namespace + ".json");
        try {
            List<ObjectNode> services = delegate.services(namespace);
            ArrayNode list = Json.array();
            services.forEach(list::add);
            write(file, list);
            return services;
        } catch (KubeClient.Unreachable e) {
            JsonNode cached = read(file);
            if (cached == null) throw e;
            List<ObjectNode> services = new ArrayList<>();
            cached.forEach(s -> services.add((ObjectNode) s));
            return services;
        }
    }

    @Override
    public ServiceAccountToken token(String namespace, String serviceAccountName, List<String> audiences, long expirationSeconds,
                                     String podName, String podUid) {
        Path file = dir.resolve("tokens").resolve(podUid + "_" + serviceAccountName + "_" + String.join(",", audiences).hashCode() + ".json");
        try {
            ServiceAccountToken t = delegate.token(namespace, serviceAccountName, audiences, expirationSeconds, podName, podUid);
            ObjectNode saved = Json.object();
            saved.put("token", t.token());
            saved.put("issuedAt", t.issuedAt().toString());
            saved.put("expiresAt", t.expiresAt().toString());
            write(file, saved);
            return t;
        } catch (KubeClient.Unreachable e) {
            JsonNode cached = read(file);
            if (cached == null) throw e;
            LOG.log(System.Logger.Level.DEBUG, "server unreachable: reusing the cached token of pod {0}", podUid);
            return new ServiceAccountToken(cached.path("token").asText(), Instant.parse(cached.path("issuedAt").asText()),
                    Instant.parse(cached.path("expiresAt").asText()));
        }
    }

    /** Drops what was cached for a pod that is gone (its tokens). */
    public void forgetPod(String podUid) {
        try (var files = Files.list(dir.resolve("tokens"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.getFileName().toString().startsWith(podUid + "_")) Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            // nothing cached for it
        }
    }

    private Optional<ObjectNode> object(String kind, String key, Supplier<Optional<ObjectNode>> fetch) {
        Path file = dir.resolve(kind).resolve(key + ".json");
        try {
            Optional<ObjectNode> found = fetch.get();
            if (found.isPresent()) {
                write(file, found.get());
            } else {
                Files.deleteIfExists(file);
            }
            return found;
        } catch (KubeClient.Unreachable e) {
            JsonNode cached = read(file);
            if (cached == null) throw e;
            return Optional.of((ObjectNode) cached);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path file, JsonNode value) {
        try {
            Files.createDirectories(file.getParent());
            // a temp file of its own: pods starting together cache the same object (their namespace's services) at once
            Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
            Files.write(tmp, Json.bytes(value));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot cache {0}: {1}", file, e.toString());
        }
    }

    private static JsonNode read(Path file) {
        try {
            return Files.exists(file) ? Json.parse(Files.readAllBytes(file)) : null;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "unreadable cache file {0}: {1}", file, e.toString());
            return null;
        }
    }
}
