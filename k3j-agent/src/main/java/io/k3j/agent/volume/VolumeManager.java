package io.k3j.agent.volume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.volume.AtomicWriter.FileContent;
import io.k3j.agent.volume.MountSpec.Propagation;
import io.k3j.agent.volume.PreparedVolumes.Volume;
import io.k3j.api.Quantity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sets up a pod's volumes on the node, in kubelet's layout {@code <podsDir>/<uid>/volumes/kubernetes.io~<plugin>/<name>},
 * and turns a container's {@code volumeMounts} into {@link MountSpec}s.
 *
 * <p>Supported: emptyDir (disk, or tmpfs for {@code medium: Memory}), hostPath (with its type checks),
 * configMap, secret, downwardAPI, projected (configMap, secret, downwardAPI, serviceAccountToken sources — the
 * {@code kube-api-access-*} volume the server injects is one of these) and persistentVolumeClaim bound to a hostPath
 * or local PersistentVolume (what the local-path provisioner creates). Anything else fails with a message naming the type.
 *
 * <p>ConfigMap, secret, downwardAPI and projected volumes are written by kubelet's atomic writer, so
 * {@link #refresh} can change them under running containers; subPath mounts of them keep the contents they had, as in
 * Kubernetes. Tokens are rotated by {@link #refresh} once 80% of their lifetime has passed.
 *
 * <p>Thread safety: calls for different pods may run concurrently; calls for one pod must not (the pod worker owns
 * its pod).
 */
public final class VolumeManager {

    static final String EMPTY_DIR = "kubernetes.io~empty-dir";
    static final String HOST_PATH = "kubernetes.io~host-path";
    static final String CONFIG_MAP = "kubernetes.io~configmap";
    static final String SECRET = "kubernetes.io~secret";
    static final String DOWNWARD_API = "kubernetes.io~downward-api";
    static final String PROJECTED = "kubernetes.io~projected";
    static final String LOCAL = "kubernetes.io~local-volume";
    private static final int DEFAULT_MODE = 0644;
    private static final long DEFAULT_TOKEN_SECONDS = 3600;

    private final Path podsDir;
    private final PodSources sources;
    private final NodeFacts node;
    private final Clock clock;
    /** Tokens handed out, by pod uid, then by volume/source/audience/lifetime. */
    private final Map<String, Map<String, ServiceAccountToken>> tokens = new ConcurrentHashMap<>();

    /** A manager on the system clock. */
    public VolumeManager(Path podsDir, PodSources sources, NodeFacts node) {
        this(podsDir, sources, node, Clock.systemUTC());
    }

    /** @param clock decides when tokens are rotated */
    public VolumeManager(Path podsDir, PodSources sources, NodeFacts node, Clock clock) {
        this.podsDir = Objects.requireNonNull(podsDir, "podsDir").toAbsolutePath().normalize();
        this.sources = Objects.requireNonNull(sources, "sources");
        this.node = Objects.requireNonNull(node, "node");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The pod's directory, {@code <podsDir>/<uid>}. */
    public Path podDir(String podUid) {
        return podsDir.resolve(requireUid(podUid));
    }

    /**
     * Sets up every volume of the pod (idempotent: call it again after a failure, or for a pod already set up after a
     * restart of the agent).
     *
     * @throws PodConfigException ({@link PodConfigException#FAILED_MOUNT}) with kubelet's event text,
     *     {@code MountVolume.SetUp failed for volume "v" : configmap "x" not found}
     */
    public PreparedVolumes prepare(ObjectNode pod) {
        String uid = requireUid(pod.path("metadata").path("uid").asText(""));
        Map<String, Volume> out = new LinkedHashMap<>();
        for (JsonNode v : pod.path("spec").path("volumes")) {
            String name = v.path("name").asText("");
            try {
                out.put(name, setUp(pod, uid, name, (ObjectNode) v));
            } catch (PodConfigException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                throw PodConfigException.mount(name, e.getMessage());
            } catch (IOException | UncheckedIOException e) {
                throw new PodConfigException(PodConfigException.FAILED_MOUNT,
                        "MountVolume.SetUp failed for volume \"" + name + "\" : " + e.getMessage(), e);
            }
        }
        return new PreparedVolumes(uid, out);
    }

    /**
     * Re-writes the pod's configMap, secret, downwardAPI and projected volumes from the current objects (labels,
     * annotations, ConfigMaps, Secrets) and rotates tokens due for it; unchanged volumes are not touched. A volume
     * whose source fails keeps its old contents (as kubelet does), the others are still refreshed, then the first
     * failure is thrown.
     *
     * @return the names of the volumes whose contents changed
     * @throws PodConfigException ({@link PodConfigException#FAILED_MOUNT}) for the first volume that failed
     */
    public Set<String> refresh(ObjectNode pod) {
        String uid = requireUid(pod.path("metadata").path("uid").asText(""));
        Set<String> changed = new LinkedHashSet<>();
        PodConfigException first = null;
        if (!Files.isDirectory(podDir(uid))) return changed;
        for (JsonNode v : pod.path("spec").path("volumes")) {
            String name = v.path("name").asText("");
            String plugin = pluginOf(v);
            if (plugin == null) continue;
            try {
                if (writeAtomic(pod, uid, name, (ObjectNode) v, plugin)) changed.add(name);
            } catch (PodConfigException e) {
                if (first == null) first = e;
            } catch (IllegalArgumentException | IOException | UncheckedIOException e) {
                if (first == null) first = PodConfigException.mount(name, e.getMessage());
            }
        }
        if (first != null) throw first;
        return changed;
    }

    /**
     * Resolves a container's {@code volumeMounts}.
     *
     * @param env the container's environment ({@link EnvResolver#resolve}), for {@code subPathExpr}
     * @throws PodConfigException ({@link PodConfigException#CREATE_CONTAINER_CONFIG_ERROR}) for a mount of an unknown
     *     volume, a subPath that is absolute, climbs out with {@code ..} or leads outside the volume through a symlink,
     *     a subPathExpr that names a variable without value, Bidirectional propagation in an unprivileged container
     */
    public List<MountSpec> mounts(ObjectNode pod, ObjectNode container, PreparedVolumes volumes,
            List<Map.Entry<String, String>> env) {
        Map<String, String> envMap = new HashMap<>();
        for (Map.Entry<String, String> e : env) envMap.put(e.getKey(), e.getValue());
        String containerName = container.path("name").asText("");
        boolean privileged = container.path("securityContext").path("privileged").asBoolean(false);
        List<MountSpec> out = new ArrayList<>();
        for (JsonNode m : container.path("volumeMounts")) {
            String name = m.path("name").asText("");
            Volume vol = volumes.volumes().get(name);
            if (vol == null) {
                throw PodConfigException.config("cannot find volume \"" + name + "\" to mount into container \"" + containerName + "\"");
            }
            String subPath = m.path("subPath").asText("");
            String expr = m.path("subPathExpr").asText("");
            if (!expr.isEmpty()) {
                Set<String> missing = new java.util.TreeSet<>();
                subPath = Expansion.expand(expr, key -> {
                    String value = envMap.get(key);
                    if (value == null || value.isEmpty()) missing.add(key);
                    return value == null ? "" : value;
                });
                if (!missing.isEmpty()) throw PodConfigException.config("missing value for " + String.join(", ", missing));
            }
            Path host = vol.hostPath();
            if (!subPath.isEmpty()) host = subPath(vol, subPath);
            Propagation propagation = switch (m.path("mountPropagation").asText("")) {
                case "HostToContainer" -> Propagation.HOST_TO_CONTAINER;
                case "Bidirectional" -> {
                    if (!privileged) {
                        throw PodConfigException.config("Bidirectional mount propagation is available only to privileged containers");
                    }
                    yield Propagation.BIDIRECTIONAL;
                }
                default -> Propagation.PRIVATE;
            };
            boolean readOnly = m.path("readOnly").asBoolean(false) || vol.readOnly();
            out.add(new MountSpec(host, m.path("mountPath").asText(""), readOnly, propagation, false));
        }
        return out;
    }

    /**
     * Tears the pod's volumes down: unmounts what is mounted below the pod's directory (tmpfs emptyDirs) and deletes
     * the directory; forgets the pod's tokens. Safe to call for a pod that has nothing on the node.
     *
     * @throws IOException when an unmount fails; the directory is then left in place, never deleted through a mount
     */
    public void cleanup(String podUid) throws IOException {
        Path dir = podDir(podUid);
        tokens.remove(podUid);
        if (!Files.exists(dir)) return;
        HostMounts.unmountAllUnder(dir);
        if (HostMounts.anyMountUnder(dir)) throw new IOException("mounts remain under " + dir + "; not deleting it");
        AtomicWriter.deleteTree(dir);
    }

    // ---- set-up per volume type

    private Volume setUp(ObjectNode pod, String uid, String name, ObjectNode v) throws IOException {
        if (v.has("emptyDir")) return emptyDir(pod, uid, name, v.path("emptyDir"));
        if (v.has("hostPath")) {
            Path p = HostPathCheck.check(v.path("hostPath").path("path").asText(""), v.path("hostPath").path("type").asText(""));
            return new Volume(name, HOST_PATH, p, false);
        }
        if (v.has("persistentVolumeClaim")) return claim(pod, name, v.path("persistentVolumeClaim"));
        String plugin = pluginOf(v);
        if (plugin == null) {
            throw new IllegalArgumentException("volume type " + typeOf(v) + " is not supported by k3j (supported: emptyDir, hostPath, "
                    + "configMap, secret, downwardAPI, projected, persistentVolumeClaim)");
        }
        writeAtomic(pod, uid, name, v, plugin);
        return new Volume(name, plugin, volumeDir(uid, plugin, name), true);
    }

    private Volume emptyDir(ObjectNode pod, String uid, String name, JsonNode spec) throws IOException {
        Path dir = volumeDir(uid, EMPTY_DIR, name);
        boolean created = !Files.isDirectory(dir);
        Files.createDirectories(dir);
        String medium = spec.path("medium").asText("");
        if (medium.equals("Memory")) {
            HostMounts.mountTmpfs(dir, tmpfsSize(pod, spec.path("sizeLimit").asText("")));
            created = true;
        } else if (!medium.isEmpty()) {
            throw new IllegalArgumentException("emptyDir medium " + medium + " is not supported by k3j (supported: \"\", Memory)");
        }
        if (created) {
            // kubelet makes emptyDirs world-writable: containers may run as any user.
            AtomicWriter.setMode(dir, 0777);
            Integer fsGroup = fsGroup(pod);
            if (fsGroup != null) {
                Files.setAttribute(dir, "unix:gid", fsGroup);
                AtomicWriter.setMode(dir, 02777);
            }
        }
        return new Volume(name, EMPTY_DIR, dir, false);
    }

    /**
     * SizeMemoryBackedVolumes (KEP-1967): the smaller of sizeLimit and what the pod may use in memory, which is the sum
     * of its containers' memory limits (or the largest init container's) when all have one, else the node's allocatable.
     * 0 leaves the kernel's default (half of RAM) when nothing is known.
     */
    private long tmpfsSize(ObjectNode pod, String sizeLimit) {
        BigDecimal podLimit = BigDecimal.ZERO;
        boolean allLimited = pod.path("spec").path("containers").size() > 0;
        for (JsonNode c : pod.path("spec").path("containers")) {
            String m = c.path("resources").path("limits").path("memory").asText("");
            if (m.isEmpty()) allLimited = false;
            else podLimit = podLimit.add(Quantity.parse(m).value());
        }
        for (JsonNode c : pod.path("spec").path("initContainers")) {
            String m = c.path("resources").path("limits").path("memory").asText("");
            if (m.isEmpty()) allLimited = false;
            else podLimit = podLimit.max(Quantity.parse(m).value());
        }
        BigDecimal bound = allLimited ? podLimit
                : node.allocatable().containsKey("memory") ? node.allocatable().get("memory").value() : null;
        BigDecimal size = sizeLimit.isEmpty() ? bound : Quantity.parse(sizeLimit).value();
        if (size != null && bound != null) size = size.min(bound);
        return size == null ? 0 : size.setScale(0, RoundingMode.UP).longValueExact();
    }

    private Volume claim(ObjectNode pod, String name, JsonNode ref) throws IOException {
        String ns = pod.path("metadata").path("namespace").asText("");
        String claimName = ref.path("claimName").asText("");
        ObjectNode pvc = sources.persistentVolumeClaim(ns, claimName)
                .orElseThrow(() -> new IllegalArgumentException("persistentvolumeclaim \"" + claimName + "\" not found"));
        String pvName = pvc.path("spec").path("volumeName").asText("");
        if (pvName.isEmpty() || !pvc.path("status").path("phase").asText("").equals("Bound")) {
            throw new IllegalArgumentException("PVC " + ns + "/" + claimName + " is not bound");
        }
        ObjectNode pv = sources.persistentVolume(pvName)
                .orElseThrow(() -> new IllegalArgumentException("persistentvolume \"" + pvName + "\" not found"));
        boolean readOnly = ref.path("readOnly").asBoolean(false);
        JsonNode spec = pv.path("spec");
        if (spec.has("hostPath")) {
            Path p = HostPathCheck.check(spec.path("hostPath").path("path").asText(""), spec.path("hostPath").path("type").asText(""));
            return new Volume(name, HOST_PATH, p, readOnly);
        }
        if (spec.has("local")) {
            Path p = Path.of(spec.path("local").path("path").asText(""));
            if (!Files.exists(p)) throw new IllegalArgumentException("local volume path " + p + " does not exist");
            return new Volume(name, LOCAL, p, readOnly);
        }
        throw new IllegalArgumentException("persistentvolume \"" + pvName + "\" has volume type " + typeOf(pv.path("spec"))
                + ", which k3j does not support (supported: hostPath, local)");
    }

    private boolean writeAtomic(ObjectNode pod, String uid, String name, ObjectNode v, String plugin) throws IOException {
        Map<String, FileContent> payload = switch (plugin) {
            case CONFIG_MAP -> configMapPayload(pod, v.path("configMap"), mode(v.path("configMap")));
            case SECRET -> secretPayload(pod, v.path("secret"), mode(v.path("secret")), true);
            case DOWNWARD_API -> downwardPayload(pod, v.path("downwardAPI"), mode(v.path("downwardAPI")));
            case PROJECTED -> projectedPayload(pod, uid, name, v.path("projected"));
            default -> throw new IllegalStateException(plugin);
        };
        return new AtomicWriter(volumeDir(uid, plugin, name)).write(payload, fsGroup(pod));
    }

    // ---- payloads

    private Map<String, FileContent> configMapPayload(ObjectNode pod, JsonNode src, int defaultMode) {
        String ns = pod.path("metadata").path("namespace").asText("");
        String cmName = src.path("name").asText("");
        boolean optional = src.path("optional").asBoolean(false);
        Optional<ObjectNode> cm = sources.configMap(ns, cmName);
        Map<String, FileContent> out = new LinkedHashMap<>();
        if (cm.isEmpty()) {
            if (optional) return out;
            throw new IllegalArgumentException("configmap \"" + cmName + "\" not found");
        }
        Map<String, byte[]> data = new LinkedHashMap<>();
        forEach(cm.get().path("data"), (k, val) -> data.put(k, val.asText("").getBytes(StandardCharsets.UTF_8)));
        forEach(cm.get().path("binaryData"), (k, val) -> data.put(k, Base64.getDecoder().decode(val.asText(""))));
        items(src, data, defaultMode, optional, "configmap references non-existent config key: ", out);
        return out;
    }

    private Map<String, FileContent> secretPayload(ObjectNode pod, JsonNode src, int defaultMode, boolean standalone) {
        String ns = pod.path("metadata").path("namespace").asText("");
        // The volume source names it secretName, the projected source name.
        String secretName = standalone ? src.path("secretName").asText("") : src.path("name").asText("");
        boolean optional = src.path("optional").asBoolean(false);
        Optional<ObjectNode> secret = sources.secret(ns, secretName);
        Map<String, FileContent> out = new LinkedHashMap<>();
        if (secret.isEmpty()) {
            if (optional) return out;
            throw new IllegalArgumentException("secret \"" + secretName + "\" not found");
        }
        Map<String, byte[]> data = new LinkedHashMap<>();
        forEach(secret.get().path("data"), (k, val) -> data.put(k, Base64.getDecoder().decode(val.asText(""))));
        items(src, data, defaultMode, optional, "references non-existent secret key: ", out);
        return out;
    }

    private static void items(JsonNode src, Map<String, byte[]> data, int defaultMode, boolean optional, String missingKey,
            Map<String, FileContent> out) {
        JsonNode items = src.path("items");
        if (items.isEmpty()) {
            data.forEach((k, bytes) -> out.put(k, new FileContent(bytes, defaultMode)));
            return;
        }
        for (JsonNode item : items) {
            String key = item.path("key").asText("");
            byte[] bytes = data.get(key);
            if (bytes == null) {
                if (optional) continue;
                throw new IllegalArgumentException(missingKey + key);
            }
            int mode = item.hasNonNull("mode") ? item.path("mode").asInt() : defaultMode;
            out.put(item.path("path").asText(""), new FileContent(bytes, mode));
        }
    }

    private Map<String, FileContent> downwardPayload(ObjectNode pod, JsonNode src, int defaultMode) {
        Map<String, FileContent> out = new LinkedHashMap<>();
        for (JsonNode item : src.path("items")) {
            String value;
            if (item.has("fieldRef")) {
                value = DownwardApi.metadataField(pod, item.path("fieldRef").path("fieldPath").asText(""));
            } else if (item.has("resourceFieldRef")) {
                JsonNode ref = item.path("resourceFieldRef");
                String containerName = ref.path("containerName").asText("");
                ObjectNode container = findContainer(pod, containerName);
                value = DownwardApi.containerResource(container, ref.path("resource").asText(""), ref.path("divisor").asText(""), node);
            } else {
                continue;
            }
            int mode = item.hasNonNull("mode") ? item.path("mode").asInt() : defaultMode;
            out.put(item.path("path").asText(""), new FileContent(value.getBytes(StandardCharsets.UTF_8), mode));
        }
        return out;
    }

    private Map<String, FileContent> projectedPayload(ObjectNode pod, String uid, String volume, JsonNode src) {
        int defaultMode = mode(src);
        Map<String, FileContent> out = new LinkedHashMap<>();
        int index = 0;
        for (JsonNode source : src.path("sources")) {
            if (source.has("configMap")) {
                out.putAll(configMapPayload(pod, source.path("configMap"), defaultMode));
            } else if (source.has("secret")) {
                out.putAll(secretPayload(pod, source.path("secret"), defaultMode, false));
            } else if (source.has("downwardAPI")) {
                out.putAll(downwardPayload(pod, source.path("downwardAPI"), defaultMode));
            } else if (source.has("serviceAccountToken")) {
                JsonNode t = source.path("serviceAccountToken");
                ServiceAccountToken token = token(pod, uid, volume + "/" + index, t);
                out.put(t.path("path").asText("token"), new FileContent(token.token().getBytes(StandardCharsets.UTF_8), defaultMode));
            } else {
                throw new IllegalArgumentException("projected volume source " + typeOf(source) + " is not supported by k3j");
            }
            index++;
        }
        return out;
    }

    private ServiceAccountToken token(ObjectNode pod, String uid, String slot, JsonNode src) {
        String audience = src.path("audience").asText("");
        long seconds = src.hasNonNull("expirationSeconds") ? src.path("expirationSeconds").asLong() : DEFAULT_TOKEN_SECONDS;
        String key = slot + "/" + audience + "/" + seconds;
        Map<String, ServiceAccountToken> mine = tokens.computeIfAbsent(uid, u -> new ConcurrentHashMap<>());
        ServiceAccountToken cached = mine.get(key);
        Instant now = clock.instant();
        if (cached != null && !cached.needsRefresh(now)) return cached;
        String ns = pod.path("metadata").path("namespace").asText("");
        String sa = pod.path("spec").path("serviceAccountName").asText("");
        if (sa.isEmpty()) sa = "default";
        ServiceAccountToken fresh;
        try {
            fresh = sources.token(ns, sa, audience.isEmpty() ? List.of() : List.of(audience), seconds,
                    pod.path("metadata").path("name").asText(""), uid);
        } catch (RuntimeException e) {
            // An old token still valid is better than none: kubelet serves it until it expires.
            if (cached != null && now.isBefore(cached.expiresAt())) return cached;
            throw new IllegalArgumentException("failed to fetch token: " + e.getMessage(), e);
        }
        mine.put(key, fresh);
        return fresh;
    }

    // ---- subPath

    private Path subPath(Volume vol, String subPath) {
        if (subPath.startsWith("/")) throw PodConfigException.config("error SubPath `" + subPath + "` must not be an absolute path");
        for (String part : subPath.split("/")) {
            if (part.equals("..")) {
                throw PodConfigException.config("unable to provision SubPath `" + subPath + "`: must not contain '..'");
            }
        }
        try {
            Path base = vol.hostPath().toRealPath();
            Path p = vol.hostPath().resolve(subPath);
            // kubelet creates a missing subPath as a directory, then binds what it really is (symlinks followed).
            if (!Files.exists(p)) Files.createDirectories(p);
            Path real = p.toRealPath();
            if (!real.startsWith(base)) {
                throw PodConfigException.config("subpath \"" + real + "\" not within volume path \"" + base + "\"");
            }
            return real;
        } catch (FileAlreadyExistsException e) {
            throw PodConfigException.config("unable to provision SubPath `" + subPath + "`: " + e.getMessage() + " exists");
        } catch (IOException e) {
            throw PodConfigException.config("unable to provision SubPath `" + subPath + "`: " + e.getMessage());
        }
    }

    // ---- helpers

    private Path volumeDir(String uid, String plugin, String name) {
        return podDir(uid).resolve("volumes").resolve(plugin).resolve(name);
    }

    private static String pluginOf(JsonNode v) {
        if (v.has("configMap")) return CONFIG_MAP;
        if (v.has("secret")) return SECRET;
        if (v.has("downwardAPI")) return DOWNWARD_API;
        if (v.has("projected")) return PROJECTED;
        return null;
    }

    private static String typeOf(JsonNode v) {
        for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("name") && !f.equals("accessModes") && !f.equals("capacity") && !f.startsWith("persistentVolume")
                    && !f.equals("storageClassName") && !f.equals("claimRef") && !f.equals("nodeAffinity")
                    && !f.equals("mountOptions") && !f.equals("volumeMode")) {
                return f;
            }
        }
        return "<none>";
    }

    private static int mode(JsonNode src) {
        return src.hasNonNull("defaultMode") ? src.path("defaultMode").asInt() : DEFAULT_MODE;
    }

    private static Integer fsGroup(ObjectNode pod) {
        JsonNode g = pod.path("spec").path("securityContext").get("fsGroup");
        return g != null && g.canConvertToInt() ? g.asInt() : null;
    }

    private static ObjectNode findContainer(ObjectNode pod, String name) {
        for (String list : new String[] {"containers", "initContainers"}) {
            for (JsonNode c : pod.path("spec").path(list)) {
                if (c.path("name").asText("").equals(name) && c instanceof ObjectNode o) return o;
            }
        }
        throw new IllegalArgumentException("container \"" + name + "\" not found in pod for resourceFieldRef");
    }

    private static void forEach(JsonNode map, java.util.function.BiConsumer<String, JsonNode> action) {
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            action.accept(e.getKey(), e.getValue());
        }
    }

    private static String requireUid(String uid) {
        if (uid == null || uid.isEmpty() || uid.contains("/") || uid.startsWith(".")) {
            throw new IllegalArgumentException("pod uid " + uid + " (expected: a non-empty name without '/')");
        }
        return uid;
    }
}
