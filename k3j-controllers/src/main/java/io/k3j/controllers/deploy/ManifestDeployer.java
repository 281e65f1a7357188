package io.k3j.controllers.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.SharedInformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;

/**
 * k3s's auto-deploy folder: every {@code *.yaml}, {@code *.yml} and {@code *.json} file under the manifests
 * directory ({@code <data-dir>/server/manifests}, subdirectories included) is applied at start and again
 * whenever its content changes, with server-side apply as field manager {@value #FIELD_MANAGER}, forcing
 * conflicts (the folder owns what it declares, as k3s's deploy controller does).
 *
 * <p>The folder is polled every {@link #POLL} rather than watched with a {@code WatchService}: inotify misses
 * changes made through bind mounts and on some network or overlay filesystems, sees editors' rename-and-replace
 * saves as several events, and doesn't descend into subdirectories; hashing a handful of small files every two
 * seconds costs nothing and sees every change, however it was made.
 *
 * <p>What each file put in the cluster is recorded, as k3s records it in an {@code Addon}, in a ConfigMap
 * {@code k3j-addon-<file base name>} in kube-system (source, checksum, objects, last error) that carries the
 * events ({@code ApplyingManifest}, {@code AppliedManifest}, {@code ApplyManifestFailed}). An object that
 * disappears from a changed file is deleted. A deleted file leaves its objects alone, as in k3s ("deleting files
 * out of this directory will not delete the corresponding resources"); deleting its record ConfigMap afterwards
 * deletes them, as deleting the AddOn does in k3s. A {@code foo.yaml.skip} file disables {@code foo.yaml}.
 *
 * <p>A file that can't be parsed, or one of whose objects is refused or of a kind not served yet (a CRD still
 * being established), is reported and retried every {@link #RETRY}; other files are not held up.
 */
public final class ManifestDeployer implements ManagedController {
    private static final System.Logger LOG = System.getLogger(ManifestDeployer.class.getName());
    public static final String FIELD_MANAGER = "k3j-deploy";
    /** Label of the record ConfigMaps. */
    public static final String RECORD_LABEL = "k3j.io/addon";
    static final String RECORD_NAMESPACE = "kube-system";
    static final Duration POLL = Duration.ofSeconds(2);
    static final Duration RETRY = Duration.ofSeconds(10);

    private final Path dir;
    private final ApiClient api;
    private final ServerSideApply ssa;
    private final ResourceType configMaps;
    private final EventRecorder events;
    private final Clock clock;
    private final Map<Path, Applied> applied = new HashMap<>();
    private final Queue<ObjectNode> deletedRecords = new ConcurrentLinkedQueue<>();
    private volatile Thread thread;

    /** What we last did with a file: its checksum, and when to try again if that failed. */
    private record Applied(String checksum, boolean ok, long retryAtMillis) {}

    /** One object a file declares. */
    record Ref(String apiVersion, String kind, String namespace, String name) {
        String group() {
            return apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        }

        /** Same object whatever version it is written in. */
        String identity() {
            return group() + "/" + kind + "/" + namespace + "/" + name;
        }

        String describe() {
            return kind + " " + (namespace.isEmpty() ? "" : namespace + "/") + name;
        }
    }

    public ManifestDeployer(ControllerContext ctx) {
        this.dir = ctx.config().manifestsDir();
        this.api = ctx.api(FIELD_MANAGER);
        this.ssa = new ServerSideApply(api.objects(), ctx.clock(), FIELD_MANAGER);
        this.configMaps = api.type("", "v1", "configmaps");
        this.events = ctx.events("deploy");
        this.clock = ctx.clock();
        if (dir == null) return;
        SharedInformer cms = ctx.informer("", "v1", "configmaps");
        cms.addHandler(new SharedInformer.Handler() {
            @Override
            public void onDelete(ObjectNode obj) {
                if (RECORD_NAMESPACE.equals(Meta.namespace(obj)) && "true".equals(Json.text(Meta.labels(obj), RECORD_LABEL))) {
                    deletedRecords.add(obj);
                }
            }
        });
    }

    @Override
    public void start() {
        if (dir == null) return;
        thread = Thread.ofVirtual().name("deploy-manifests").start(this::run);
    }

    @Override
    public void close() {
        Thread t = thread;
        if (t != null) t.interrupt();
    }

    private void run() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                scan();
            } catch (RuntimeException | IOException e) {
                LOG.log(System.Logger.Level.WARNING, "deploying manifests from " + dir + ": " + e);
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One pass over the folder. Package-private so tests could drive it; the thread calls it every {@link #POLL}. */
    void scan() throws IOException {
        Files.createDirectories(dir);
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(Files::isRegularFile).filter(ManifestDeployer::isManifest).sorted().toList();
        }
        applied.keySet().retainAll(files); // a file put back later is applied again
        long now = clock.millis();
        for (Path f : files) {
            if (Files.exists(f.resolveSibling(f.getFileName() + ".skip"))) continue;
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(f);
            } catch (IOException e) {
                continue; // being replaced: next pass
            }
            String sum = checksum(bytes);
            Applied last = applied.get(f);
            if (last != null && last.checksum.equals(sum) && (last.ok || now < last.retryAtMillis)) continue;
            boolean ok = applyFile(f, bytes, sum);
            applied.put(f, new Applied(sum, ok, now + RETRY.toMillis()));
        }
        for (ObjectNode record; (record = deletedRecords.poll()) != null; ) recordDeleted(record);
    }

    private static boolean isManifest(Path p) {
        String n = p.getFileName().toString();
        return !n.startsWith(".") && (n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json"));
    }

    /** Applies one file; true when every object in it was applied. */
    private boolean applyFile(Path file, byte[] bytes, String sum) {
        String source = file.toAbsolutePath().toString();
        ObjectNode record = record(file, source);
        events.event(record, "v1", "ConfigMap", "Normal", "ApplyingManifest", "Applying manifest at \"" + source + "\"");
        List<Ref> previous = refs(record);
        List<ObjectNode> docs;
        try {
            docs = documents(bytes);
        } catch (RuntimeException e) {
            String msg = "parsing: " + message(e);
            finish(file, record, sum, previous, msg);
            return false;
        }
        Map<String, Ref> desired = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        List<Ref> done = new ArrayList<>();
        for (ObjectNode doc : docs) {
            try {
                Ref ref = applyObject(doc);
                desired.put(ref.identity(), ref);
                done.add(ref);
            } catch (RuntimeException e) {
                Ref ref = refOf(doc, null);
                if (ref != null) desired.put(ref.identity(), ref);
                errors.add((ref == null ? "" : ref.describe() + ": ") + message(e));
            }
        }
        // objects no longer in the file go; those that failed to apply stay recorded so they are pruned later
        Map<String, Ref> keep = new LinkedHashMap<>(desired);
        for (Ref old : previous) {
            if (desired.containsKey(old.identity())) continue;
            try {
                delete(old);
            } catch (RuntimeException e) {
                keep.put(old.identity(), old);
                errors.add("deleting " + old.describe() + ": " + message(e));
            }
        }
        finish(file, record, sum, new ArrayList<>(keep.values()), errors.isEmpty() ? null : String.join("; ", errors));
        return errors.isEmpty();
    }

    private void finish(Path file, ObjectNode record, String sum, List<Ref> objects, String error) {
        String source = file.toAbsolutePath().toString();
        ArrayNode list = Json.array();
        for (Ref r : objects) {
            list.addObject().put("apiVersion", r.apiVersion).put("kind", r.kind).put("namespace", r.namespace).put("name", r.name);
        }
        ObjectNode updated = api.modify(configMaps, RECORD_NAMESPACE, Meta.name(record), "", cur -> {
            ObjectNode data = Json.obj(cur, "data");
            data.put("source", source);
            data.put("objects", Json.string(list));
            if (error == null) {
                data.put("checksum", sum);
                data.remove("error");
            } else {
                data.put("error", error);
            }
            return cur;
        });
        if (error == null) {
            events.event(updated, "v1", "ConfigMap", "Normal", "AppliedManifest", "Applied manifest at \"" + source + "\"");
        } else {
            LOG.log(System.Logger.Level.WARNING, "applying manifest {0}: {1}", source, error);
            events.event(updated, "v1", "ConfigMap", "Warning", "ApplyManifestFailed", "Applying manifest at \"" + source + "\" failed: " + error);
        }
    }

    /** The objects of a file: its YAML documents (or JSON), with {@code List}s unpacked. */
    static List<ObjectNode> documents(byte[] bytes) {
        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode doc : Json.parseYamlDocuments(bytes)) {
            if (doc.isTextual() && doc.asText().isBlank()) continue; // a document of only comments
            if (!(doc instanceof ObjectNode o)) throw ApiException.badRequest("a document is not an object: " + doc.getNodeType());
            if (Json.text(o, "kind").endsWith("List") && o.path("items").isArray()) {
                for (JsonNode item : o.get("items")) {
                    if (!(item instanceof ObjectNode io)) throw ApiException.badRequest("a list item is not an object");
                    out.add(io);
                }
            } else {
                out.add(o);
            }
        }
        return out;
    }

    private Ref applyObject(ObjectNode doc) {
        String apiVersion = Json.text(doc, "apiVersion");
        String kind = Json.text(doc, "kind");
        if (apiVersion.isEmpty() || kind.isEmpty()) throw ApiException.badRequest("apiVersion and kind must be set");
        if (Meta.name(doc).isEmpty()) throw ApiException.badRequest("metadata.name must be set");
        ResourceType type = typeOf(apiVersion, kind);
        ObjectNode obj = doc.deepCopy();
        ObjectNode meta = Meta.metadata(obj);
        String ns = "";
        if (type.namespaced()) {
            ns = Json.text(meta, "namespace");
            if (ns.isEmpty()) ns = "default";
            meta.put("namespace", ns);
        } else {
            meta.remove("namespace");
        }
        ssa.apply(type, ns, obj);
        return new Ref(apiVersion, kind, ns, Meta.name(obj));
    }

    /** The served resource of a kind; 404 ("no matches for kind") while, say, its CRD is not established. */
    private ResourceType typeOf(String apiVersion, String kind) {
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        for (ResourceType t : api.registry().all()) {
            if (t.group().equals(group) && t.version().equals(version) && t.kind().equals(kind)) return t;
        }
        throw ApiException.notFoundPath("no matches for kind \"" + kind + "\" in version \"" + apiVersion + "\"");
    }

    /** The resource of a kind in any served version (deleting doesn't care which). */
    private ResourceType typeOfAnyVersion(Ref ref) {
        try {
            return typeOf(ref.apiVersion, ref.kind);
        } catch (ApiException e) {
            for (ResourceType t : api.registry().all()) {
                if (t.group().equals(ref.group()) && t.kind().equals(ref.kind)) return t;
            }
            return null;
        }
    }

    private Ref refOf(ObjectNode doc, String namespace) {
        String apiVersion = Json.text(doc, "apiVersion");
        String kind = Json.text(doc, "kind");
        String name = Meta.name(doc);
        if (apiVersion.isEmpty() || kind.isEmpty() || name.isEmpty()) return null;
        ResourceType type = typeOfAnyVersion(new Ref(apiVersion, kind, "", name));
        String ns = namespace != null ? namespace : Meta.namespace(doc);
        if (type != null && type.namespaced() && ns.isEmpty()) ns = "default";
        if (type != null && !type.namespaced()) ns = "";
        return new Ref(apiVersion, kind, ns, name);
    }

    private void delete(Ref ref) {
        ResourceType type = typeOfAnyVersion(ref);
        if (type == null) return; // its kind is gone, and the objects with it
        api.deleteIfExists(type, type.namespaced() ? ref.namespace : "", ref.name, null, "Background");
    }

    /** A record ConfigMap was deleted: if its file is gone too, so go its objects (k3s: deleting the AddOn). */
    private void recordDeleted(ObjectNode record) {
        String source = Json.text(record.get("data"), "source");
        if (!source.isEmpty() && Files.exists(Path.of(source))) {
            applied.remove(Path.of(source)); // the file is still there: apply it again, which records it again
            applied.keySet().removeIf(p -> p.toAbsolutePath().toString().equals(source));
            return;
        }
        for (Ref r : refs(record)) {
            try {
                delete(r);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "deleting {0} of removed addon {1}: {2}", r.describe(), Meta.name(record), message(e));
            }
        }
    }

    /** The record of a file, created empty when missing. */
    private ObjectNode record(Path file, String source) {
        String name = recordName(file);
        return api.find(configMaps, RECORD_NAMESPACE, name).orElseGet(() -> {
            ObjectNode cm = Json.object();
            cm.put("apiVersion", "v1").put("kind", "ConfigMap");
            ObjectNode meta = cm.putObject("metadata");
            meta.put("name", name).put("namespace", RECORD_NAMESPACE);
            meta.putObject("labels").put(RECORD_LABEL, "true");
            cm.putObject("data").put("source", source).put("objects", "[]");
            try {
                return api.create(configMaps, RECORD_NAMESPACE, cm);
            } catch (ApiException e) {
                if (e.code() != 409) throw e;
                return api.find(configMaps, RECORD_NAMESPACE, name).orElseThrow(() -> e);
            }
        });
    }

    /** {@code k3j-addon-<base name>}, the base name made a valid object name (k3s names its Addon after it). */
    static String recordName(Path file) {
        String base = file.getFileName().toString();
        int dot = base.lastIndexOf('.');
        if (dot > 0) base = base.substring(0, dot);
        String n = base.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-").replaceAll("^[^a-z0-9]+|[^a-z0-9]+$", "");
        if (n.isEmpty()) n = "manifest";
        String name = "k3j-addon-" + n;
        return name.length() > 253 ? name.substring(0, 253) : name;
    }

    static List<Ref> refs(ObjectNode record) {
        List<Ref> out = new ArrayList<>();
        String text = Json.text(record.get("data"), "objects");
        if (text.isEmpty()) return out;
        try {
            for (JsonNode r : Json.parse(text.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
                out.add(new Ref(Json.text(r, "apiVersion"), Json.text(r, "kind"), Json.text(r, "namespace"), Json.text(r, "name")));
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "record {0} has unreadable objects: {1}", Meta.name(record), e.getMessage());
        }
        return out;
    }

    private static String checksum(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String message(RuntimeException e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
