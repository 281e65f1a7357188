package io.k3j.apiserver.openapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.patch.PatchSchema;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;

/**
 * Serves the cluster's OpenAPI the way kube-apiserver does: {@code /openapi/v2} (swagger 2.0, as JSON or as the
 * gnostic protobuf client-go insists on), {@code /openapi/v3} (an index of group-versions with
 * {@code ?hash=} URLs) and {@code /openapi/v3/api/v1}, {@code /openapi/v3/apis/<group>/<version>}; keeps the
 * schemas of custom resources current; and answers {@link PatchSchema} questions for built-in and custom kinds.
 *
 * <p>Built-in definitions come from a resource generated at build time (module k3j-openapi-gen) and are read
 * on first use; every document is rendered once into bytes and kept until a custom resource changes it.
 * Thread-safe.
 */
public final class OpenApiService {
    /** What client-go's {@code OpenAPISchema()} sends as Accept; the gnostic {@code openapi_v2.Document}. */
    public static final String V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
    /**
     * The same media type spelled without '@', which Go's mime parser rejects in a Content-Type: the protobuf
     * answer must carry this one or client-go fails with "mime: unexpected content after media subtype".
     */
    public static final String V2_PROTOBUF_ALT = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
    static final String JSON = "application/json";
    private static final String RESOURCE = "/io/k3j/openapi/builtin.json.gz";
    private static final String DEFS = "#/definitions/";
    private static final String SCHEMAS = "#/components/schemas/";
    private static final String META = "io.k8s.apimachinery.pkg.apis.meta.v1.";
    private static final String INFO_VERSION = "v1.33.0";

    /**
     * An HTTP answer: status, Content-Type (null when there is no body), body, the entity tag (unquoted
     * uppercase hex SHA-512, as kube-apiserver computes it; null when none) and further headers to send
     * ({@code ETag} already quoted, {@code Vary}, {@code Cache-Control}, {@code Expires}, {@code Location}).
     */
    public record Response(int status, String contentType, byte[] body, String etag, Map<String, String> headers) {}

    private record Doc(byte[] bytes, String etag) {}

    private record Resource(String group, String version, String kind, String plural, boolean namespaced,
                            String definition, String listDefinition, boolean custom) {
        String gvPath() {
            return group.isEmpty() ? "api/" + version : "apis/" + group + "/" + version;
        }
    }

    private final InputStreamSupplier source;
    private ObjectNode builtinDefinitions;
    private List<Resource> builtinResources;
    private final Map<String, CustomResource> customResources = new TreeMap<>();
    private final Map<String, ObjectNode> customDefinitions = new TreeMap<>();
    /**
     * The patch schemas handed out since the custom definitions last changed, by group/version/kind: every write
     * asks for one (managedFields, strategic merge patch), and a schema memoizes the fields it has looked up.
     */
    private final Map<String, PatchSchema> patchSchemas = new HashMap<>();

    private Doc v2Json;
    private byte[] builtinV2Proto;
    private Doc v2Proto;
    private Map<String, Doc> v3Docs;
    private Doc v3Index;

    @FunctionalInterface
    interface InputStreamSupplier {
        InputStream open() throws IOException;
    }

    OpenApiService(InputStreamSupplier source) {
        this.source = source;
    }

    /**
     * The service for the built-in kinds, read lazily from the classpath.
     *
     * @throws IllegalStateException on first use if the generated resource is missing from the classpath
     */
    public static OpenApiService builtin() {
        return new OpenApiService(() -> {
            InputStream in = OpenApiService.class.getResourceAsStream(RESOURCE);
            if (in == null) throw new IllegalStateException("missing " + RESOURCE + " (built by k3j-openapi-gen)");
            return in;
        });
    }

    /**
     * Answers a GET of an {@code /openapi/...} path.
     *
     * @param path        the request path without query, e.g. {@code /openapi/v3/apis/apps/v1}
     * @param hash        the {@code hash} query parameter, or null
     * @param accept      the Accept header, or null
     * @param ifNoneMatch the If-None-Match header, or null
     * @return 200, 304 (If-None-Match matched), 301 (stale {@code hash}), 404 (no such document) or 406
     *         (no acceptable format)
     * @throws IllegalStateException if the built-in definitions can't be read
     */
    public synchronized Response get(String path, String hash, String accept, String ifNoneMatch) {
        Objects.requireNonNull(path, "path");
        List<String> types = acceptedTypes(accept);
        Map<String, String> headers = new LinkedHashMap<>();
        if (path.equals("/openapi/v2") || path.equals("/openapi/v2/")) {
            headers.put("Vary", "Accept");
            for (String t : types) {
                if (t.equals(V2_PROTOBUF) || t.equals(V2_PROTOBUF_ALT)) return ok(v2Proto(), V2_PROTOBUF_ALT, headers, ifNoneMatch);
                if (isJson(t)) return ok(v2Json(), JSON, headers, ifNoneMatch);
            }
            return new Response(406, null, new byte[0], null, headers);
        }
        if (path.equals("/openapi/v3") || path.equals("/openapi/v3/")) {
            return ok(v3Index(), JSON, headers, ifNoneMatch);
        }
        if (path.startsWith("/openapi/v3/")) {
            String gv = path.substring("/openapi/v3/".length());
            Doc doc = v3Docs().get(gv);
            if (doc == null) return new Response(404, null, new byte[0], null, headers);
            headers.put("Vary", "Accept");
            if (types.stream().noneMatch(OpenApiService::isJson)) return new Response(406, null, new byte[0], null, headers);
            if (hash != null && !hash.isEmpty()) {
                if (!hash.equals(doc.etag())) {
                    headers.put("Location", "/openapi/v3/" + gv + "?hash=" + doc.etag());
                    return new Response(301, null, new byte[0], doc.etag(), headers);
                }
                headers.put("Cache-Control", "public, immutable");
                headers.put("Expires", DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusYears(1)));
            }
            return ok(doc, JSON, headers, ifNoneMatch);
        }
        return new Response(404, null, new byte[0], null, headers);
    }

    /**
     * Publishes (or replaces) one served version of a custom resource.
     *
     * @throws NullPointerException if {@code resource} is null
     */
    public synchronized void putCustomResource(CustomResource resource) {
        Objects.requireNonNull(resource, "resource");
        customResources.put(key(resource.group(), resource.version(), resource.kind()), resource);
        rebuildCustomDefinitions();
    }

    /** Withdraws one version of a custom resource; unknown ones are ignored. */
    public synchronized void removeCustomResource(String group, String version, String kind) {
        if (customResources.remove(key(group, version, kind)) != null) rebuildCustomDefinitions();
    }

    /**
     * The patch metadata of a kind; {@link PatchSchema#NONE} for a kind the service doesn't know.
     *
     * @throws IllegalStateException if the built-in definitions can't be read
     */
    public synchronized PatchSchema patchSchema(String group, String version, String kind) {
        String cacheKey = key(group, version, kind);
        PatchSchema cached = patchSchemas.get(cacheKey);
        if (cached != null) return cached;
        PatchSchema built = buildPatchSchema(group, version, kind);
        patchSchemas.put(cacheKey, built);
        return built;
    }

    private PatchSchema buildPatchSchema(String group, String version, String kind) {
        loadBuiltins();
        String def = null;
        CustomResource cr = customResources.get(key(group, version, kind));
        if (cr != null) def = crdDefinitionName(cr.group(), cr.version(), cr.kind());
        for (Resource r : builtinResources) {
            if (def == null && r.group().equals(group) && r.version().equals(version) && r.kind().equals(kind)) def = r.definition();
        }
        JsonNode root = def == null ? null : definition(def);
        if (root == null) return PatchSchema.NONE;
        // Snapshot of the definitions: a later CRD update doesn't change a schema handed out before it.
        Map<String, ObjectNode> custom = new TreeMap<>(customDefinitions);
        ObjectNode builtins = builtinDefinitions;
        return new SchemaPatchSchema(root, name -> custom.containsKey(name) ? custom.get(name) : builtins.get(name));
    }

    /**
     * Does to a built-in object what kube-apiserver's decoding into the Go type does: drops, in place, every
     * field the type lacks (kept: maps' keys, RawExtension/JSON/FieldsV1 contents, and anything under
     * {@code x-kubernetes-preserve-unknown-fields}).
     *
     * @param obj the decoded object of that kind (a request body, or the result of applying a patch)
     * @return the dropped fields as strict decoding names them ({@code spec.foo},
     *         {@code spec.template.spec.containers[0].bar}, {@code metadata.labels} keys never), in document order;
     *         kube-apiserver reports each as {@code unknown field "<path>"}
     * @throws IllegalArgumentException if no built-in definition has that group, version and kind
     * @throws IllegalStateException    if the built-in definitions can't be read
     */
    public List<String> pruneUnknownFields(String group, String version, String kind, ObjectNode obj) {
        return pruneUnknownFields(group, version, kind, obj, false);
    }

    /**
     * {@link #pruneUnknownFields(String, String, String, ObjectNode)}, reporting the fields in the order of the
     * same document with every object's keys sorted when {@code sortedKeys}: the order kube-apiserver reports for
     * JSON and merge patches, whose patched result Go re-encodes with sorted keys before decoding it.
     *
     * @throws IllegalArgumentException if no built-in definition has that group, version and kind
     * @throws IllegalStateException    if the built-in definitions can't be read
     */
    public List<String> pruneUnknownFields(String group, String version, String kind, ObjectNode obj, boolean sortedKeys) {
        Objects.requireNonNull(obj, "obj");
        Builtins b = builtins();
        JsonNode root = b.byKind().get(key(group, version, kind));
        if (root == null) throw new IllegalArgumentException("no built-in definition for " + key(group, version, kind));
        List<String> out = new ArrayList<>();
        b.pruner().prune(obj, root, "", out, sortedKeys);
        return out;
    }

    /**
     * The fields of {@code obj} that server-side apply rejects because the built-in type does not declare them,
     * in structured-merge-diff's path syntax ({@code .spec.foo}, {@code .spec.template.spec.containers[name="c"].bar});
     * {@code obj} is not changed.
     *
     * @throws IllegalArgumentException if no built-in definition has that group, version and kind
     * @throws IllegalStateException    if the built-in definitions can't be read
     */
    public List<String> undeclaredApplyFields(String group, String version, String kind, JsonNode obj) {
        Objects.requireNonNull(obj, "obj");
        Builtins b = builtins();
        JsonNode root = b.byKind().get(key(group, version, kind));
        if (root == null) throw new IllegalArgumentException("no built-in definition for " + key(group, version, kind));
        List<String> out = new ArrayList<>();
        b.pruner().undeclared(obj, root, "", out);
        return out;
    }

    /**
     * Whether a group, version and kind is a built-in type with a definition (the ones
     * {@link #pruneUnknownFields} accepts), including kinds served only as subresources (autoscaling/v1 Scale,
     * policy/v1 Eviction, v1 Binding).
     *
     * @throws IllegalStateException if the built-in definitions can't be read
     */
    public boolean isBuiltinKind(String group, String version, String kind) {
        return builtins().byKind().containsKey(key(group, version, kind));
    }

    /** Built-in definitions by GVK and a pruner over them; immutable once read, so used without the lock. */
    private record Builtins(Map<String, JsonNode> byKind, FieldPruner pruner) {}

    private volatile Builtins builtins;

    private Builtins builtins() {
        Builtins b = builtins;
        if (b != null) return b;
        synchronized (this) {
            if (builtins == null) {
                loadBuiltins();
                ObjectNode defs = builtinDefinitions;
                Map<String, JsonNode> byKind = new java.util.HashMap<>();
                defs.fields().forEachRemaining(e -> {
                    for (JsonNode gvk : e.getValue().path("x-kubernetes-group-version-kind")) {
                        byKind.put(key(gvk.path("group").asText(), gvk.path("version").asText(), gvk.path("kind").asText()), e.getValue());
                    }
                });
                for (Resource r : builtinResources) {
                    JsonNode d = defs.get(r.definition());
                    if (d != null) byKind.putIfAbsent(key(r.group(), r.version(), r.kind()), d);
                }
                builtins = new Builtins(Map.copyOf(byKind), new FieldPruner(defs::get));
            }
            return builtins;
        }
    }

    // ---- documents ----

    private Doc v2Json() {
        if (v2Json == null) {
            ObjectNode doc = Json.object();
            doc.put("swagger", "2.0");
            doc.putObject("info").put("title", "Kubernetes").put("version", INFO_VERSION);
            ObjectNode paths = doc.putObject("paths");
            for (Resource r : allResources()) addPaths(paths, r);
            ObjectNode defs = doc.putObject("definitions");
            builtinDefinitions.fields().forEachRemaining(e -> defs.set(e.getKey(), e.getValue()));
            customDefinitions.forEach((n, d) -> defs.set(n, toV2(d)));
            v2Json = doc(doc);
        }
        return v2Json;
    }

    private Doc v2Proto() {
        if (v2Proto == null) {
            loadBuiltins();
            if (builtinV2Proto == null) {
                ObjectNode doc = Json.object();
                doc.put("swagger", "2.0");
                doc.putObject("info").put("title", "Kubernetes").put("version", INFO_VERSION);
                ObjectNode paths = doc.putObject("paths");
                for (Resource r : builtinResources) addPaths(paths, r);
                doc.set("definitions", builtinDefinitions);
                builtinV2Proto = SwaggerProto.document(doc);
            }
            if (customResources.isEmpty()) {
                v2Proto = new Doc(builtinV2Proto, etag(builtinV2Proto));
            } else {
                ObjectNode paths = Json.object();
                for (CustomResource cr : customResources.values()) addPaths(paths, customResource(cr));
                ObjectNode defs = Json.object();
                customDefinitions.forEach((n, d) -> defs.set(n, toV2(d)));
                byte[] extra = SwaggerProto.appendix(paths, defs);
                byte[] all = new byte[builtinV2Proto.length + extra.length];
                System.arraycopy(builtinV2Proto, 0, all, 0, builtinV2Proto.length);
                System.arraycopy(extra, 0, all, builtinV2Proto.length, extra.length);
                v2Proto = new Doc(all, etag(all));
            }
        }
        return v2Proto;
    }

    private Map<String, Doc> v3Docs() {
        if (v3Docs == null) {
            Map<String, List<Resource>> byGv = new TreeMap<>();
            for (Resource r : allResources()) {
                if (r.plural() != null) byGv.computeIfAbsent(r.gvPath(), k -> new ArrayList<>()).add(r);
            }
            Map<String, Doc> docs = new TreeMap<>();
            byGv.forEach((gv, resources) -> docs.put(gv, doc(v3Document(resources))));
            v3Docs = docs;
        }
        return v3Docs;
    }

    private Doc v3Index() {
        if (v3Index == null) {
            ObjectNode index = Json.object();
            ObjectNode paths = index.putObject("paths");
            v3Docs().forEach((gv, doc) -> paths.putObject(gv)
                    .put("serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + doc.etag()));
            v3Index = doc(index);
        }
        return v3Index;
    }

    private ObjectNode v3Document(List<Resource> resources) {
        ObjectNode v2paths = Json.object();
        for (Resource r : resources) addPaths(v2paths, r);
        ObjectNode doc = Json.object();
        doc.put("openapi", "3.0.0");
        doc.putObject("info").put("title", "Kubernetes").put("version", INFO_VERSION);
        ObjectNode paths = doc.putObject("paths");
        v2paths.fields().forEachRemaining(e -> paths.set(e.getKey(), pathItemToV3(e.getValue())));
        ObjectNode schemas = doc.putObject("components").putObject("schemas");
        for (String name : closure(v2paths)) {
            JsonNode d = definition(name);
            if (d != null) schemas.set(name, toV3(d));
        }
        return doc;
    }

    /** Names of every definition reachable from the references in a node. */
    private Set<String> closure(JsonNode start) {
        Set<String> seen = new java.util.TreeSet<>();
        Deque<JsonNode> todo = new ArrayDeque<>();
        todo.add(start);
        while (!todo.isEmpty()) {
            JsonNode n = todo.poll();
            if (n.isObject()) {
                JsonNode ref = n.get("$ref");
                if (ref != null && ref.isTextual() && ref.asText().startsWith(DEFS)) {
                    String name = ref.asText().substring(DEFS.length());
                    JsonNode d = definition(name);
                    if (seen.add(name) && d != null) todo.add(d);
                }
                n.forEach(todo::add);
            } else if (n.isArray()) {
                n.forEach(todo::add);
            }
        }
        return seen;
    }

    // ---- paths ----

    private void addPaths(ObjectNode paths, Resource r) {
        if (r.plural() == null) return;
        String prefix = "/" + r.gvPath() + (r.namespaced() ? "/namespaces/{namespace}/" : "/") + r.plural();
        String opKind = opGroup(r.group()) + capitalize(r.version()) + (r.namespaced() ? "Namespaced" : "") + r.kind();
        ObjectNode gvk = Json.object().put("group", r.group()).put("kind", r.kind()).put("version", r.version());
        ObjectNode collection = paths.putObject(prefix);
        if (r.namespaced()) collection.putArray("parameters").add(pathParam("namespace"));
        collection.set("post", op("create" + opKind, "post", gvk, r.definition(), true, false));
        if (r.listDefinition() == null) return; // create-only kinds (Binding, SelfSubjectAccessReview)
        collection.set("get", op("list" + opKind, "list", gvk, r.listDefinition(), false, false));
        ObjectNode item = paths.putObject(prefix + "/{name}");
        ArrayNode itemParams = item.putArray("parameters").add(pathParam("name"));
        if (r.namespaced()) itemParams.add(pathParam("namespace"));
        item.set("get", op("read" + opKind, "get", gvk, r.definition(), false, false));
        item.set("put", op("replace" + opKind, "put", gvk, r.definition(), true, false));
        item.set("patch", op("patch" + opKind, "patch", gvk, r.definition(), true, true, r.custom()));
        item.set("delete", op("delete" + opKind, "delete", gvk, META + "Status", false, false));
        JsonNode def = definition(r.definition());
        if (def != null && def.path("properties").has("status")) {
            ObjectNode status = paths.putObject(prefix + "/{name}/status");
            status.set("parameters", itemParams.deepCopy());
            status.set("get", op("read" + opKind + "Status", "get", gvk, r.definition(), false, false));
            status.set("put", op("replace" + opKind + "Status", "put", gvk, r.definition(), true, false));
            status.set("patch", op("patch" + opKind + "Status", "patch", gvk, r.definition(), true, true, r.custom()));
        }
        if (Set.of("deployments", "replicasets", "statefulsets", "replicationcontrollers").contains(r.plural())) {
            ObjectNode scaleGvk = Json.object().put("group", "autoscaling").put("kind", "Scale").put("version", "v1");
            String scale = "io.k8s.api.autoscaling.v1.Scale";
            ObjectNode sp = paths.putObject(prefix + "/{name}/scale");
            sp.set("parameters", itemParams.deepCopy());
            sp.set("get", op("read" + opKind + "Scale", "get", scaleGvk, scale, false, false));
            sp.set("put", op("replace" + opKind + "Scale", "put", scaleGvk, scale, true, false));
            sp.set("patch", op("patch" + opKind + "Scale", "patch", scaleGvk, scale, true, true, r.custom()));
        }
        if (r.group().isEmpty() && r.plural().equals("pods")) {
            ObjectNode ev = paths.putObject(prefix + "/{name}/eviction");
            ev.set("parameters", itemParams.deepCopy());
            ev.set("post", op("create" + opKind + "Eviction", "post",
                    Json.object().put("group", "policy").put("kind", "Eviction").put("version", "v1"),
                    "io.k8s.api.policy.v1.Eviction", true, false));
            ObjectNode bind = paths.putObject(prefix + "/{name}/binding");
            bind.set("parameters", itemParams.deepCopy());
            bind.set("post", op("create" + opKind + "Binding", "post",
                    Json.object().put("group", "").put("kind", "Binding").put("version", "v1"),
                    "io.k8s.api.core.v1.Binding", true, false));
        }
    }

    private static ObjectNode op(String id, String action, ObjectNode gvk, String definition, boolean writes, boolean patch) {
        return op(id, action, gvk, definition, writes, patch, false);
    }

    /**
     * @param custom a custom resource: no strategic merge patch (it needs Go struct tags), so kubectl's client-side
     *               apply, which looks for it in the PATCH operation's request types, falls back to a JSON merge patch
     */
    private static ObjectNode op(String id, String action, ObjectNode gvk, String definition, boolean writes, boolean patch,
                                 boolean custom) {
        ObjectNode op = Json.object();
        op.put("operationId", id);
        ArrayNode consumes = op.putArray("consumes");
        if (patch) {
            consumes.add("application/json-patch+json").add("application/merge-patch+json");
            if (!custom) consumes.add("application/strategic-merge-patch+json");
            consumes.add("application/apply-patch+yaml");
        } else {
            consumes.add("*/*");
        }
        op.putArray("produces").add("application/json").add("application/yaml").add("application/vnd.kubernetes.protobuf");
        ArrayNode params = op.putArray("parameters");
        if (writes) {
            ObjectNode body = params.addObject().put("name", "body").put("in", "body").put("required", true);
            body.putObject("schema").put("$ref", DEFS + (patch ? META + "Patch" : definition));
            params.add(queryParam("dryRun", "string", "When present, indicates that modifications should not be persisted."));
            params.add(queryParam("fieldManager", "string", "A name associated with the actor or entity that is making these changes."));
            params.add(queryParam("fieldValidation", "string",
                    "How the server treats unknown or duplicate fields in the request: Ignore, Warn or Strict."));
            if (patch) params.add(queryParam("force", "boolean", "Force an apply request to take over conflicting fields."));
        }
        if (action.equals("list")) {
            params.add(queryParam("labelSelector", "string", "A selector to restrict the list of returned objects by their labels."));
            params.add(queryParam("fieldSelector", "string", "A selector to restrict the list of returned objects by their fields."));
            params.add(queryParam("watch", "boolean", "Watch for changes to the described resources."));
        }
        ObjectNode ok = op.putObject("responses").putObject("200").put("description", "OK");
        ok.putObject("schema").put("$ref", DEFS + definition);
        op.put("x-kubernetes-action", action);
        // an operation names one kind (an object); definitions list theirs (an array)
        op.set("x-kubernetes-group-version-kind", gvk);
        return op;
    }

    private static ObjectNode queryParam(String name, String type, String description) {
        return Json.object().put("uniqueItems", true).put("type", type).put("name", name).put("in", "query")
                .put("description", description);
    }

    private static ObjectNode pathParam(String name) {
        return Json.object().put("uniqueItems", true).put("type", "string").put("name", name).put("in", "path")
                .put("required", true).put("description", "name of the " + (name.equals("name") ? "object" : "Namespace"));
    }

    private static String opGroup(String group) {
        if (group.isEmpty()) return "Core";
        String g = group.endsWith(".k8s.io") ? group.substring(0, group.length() - ".k8s.io".length()) : group;
        StringBuilder sb = new StringBuilder();
        for (String part : g.split("[.-]")) sb.append(capitalize(part));
        return sb.toString();
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    // ---- v2 → v3 ----

    private static JsonNode pathItemToV3(JsonNode item) {
        ObjectNode out = Json.object();
        item.fields().forEachRemaining(e -> {
            if (e.getKey().equals("parameters")) {
                ArrayNode ps = out.putArray("parameters");
                e.getValue().forEach(p -> ps.add(paramToV3(p)));
            } else {
                out.set(e.getKey(), operationToV3(e.getValue()));
            }
        });
        return out;
    }

    private static JsonNode operationToV3(JsonNode op) {
        ObjectNode out = Json.object();
        out.set("operationId", op.get("operationId"));
        ArrayNode ps = out.putArray("parameters");
        for (JsonNode p : op.path("parameters")) {
            if (p.path("in").asText().equals("body")) {
                ObjectNode content = out.putObject("requestBody").put("required", true).putObject("content");
                for (JsonNode type : op.path("consumes")) {
                    content.putObject(type.asText()).set("schema", toV3(p.get("schema")));
                }
            } else {
                ps.add(paramToV3(p));
            }
        }
        ObjectNode responses = out.putObject("responses");
        op.path("responses").fields().forEachRemaining(e -> {
            ObjectNode r = responses.putObject(e.getKey()).put("description", e.getValue().path("description").asText());
            ObjectNode content = r.putObject("content");
            for (JsonNode type : op.path("produces")) content.putObject(type.asText()).set("schema", toV3(e.getValue().get("schema")));
        });
        op.fields().forEachRemaining(e -> {
            if (e.getKey().startsWith("x-")) out.set(e.getKey(), e.getValue());
        });
        return out;
    }

    private static JsonNode paramToV3(JsonNode p) {
        ObjectNode out = Json.object();
        out.set("name", p.get("name"));
        out.set("in", p.get("in"));
        if (p.has("description")) out.set("description", p.get("description"));
        if (p.has("required")) out.set("required", p.get("required"));
        ObjectNode schema = out.putObject("schema");
        schema.set("type", p.get("type"));
        if (p.has("uniqueItems")) schema.set("uniqueItems", p.get("uniqueItems"));
        return out;
    }

    /** A schema in OpenAPI v3 form: component references, and references with siblings wrapped in allOf. */
    static JsonNode toV3(JsonNode schema) {
        if (schema instanceof ArrayNode a) {
            ArrayNode out = Json.array();
            a.forEach(v -> out.add(toV3(v)));
            return out;
        }
        if (!(schema instanceof ObjectNode o)) return schema;
        ObjectNode out = Json.object();
        JsonNode ref = o.get("$ref");
        if (ref != null && ref.isTextual()) {
            String v3ref = ref.asText().startsWith(DEFS) ? SCHEMAS + ref.asText().substring(DEFS.length()) : ref.asText();
            if (o.size() == 1) return out.put("$ref", v3ref);
            out.putArray("allOf").addObject().put("$ref", v3ref);
        }
        o.fields().forEachRemaining(e -> {
            if (e.getKey().equals("$ref")) return;
            boolean keyed = e.getKey().equals("properties") || e.getKey().equals("x-kubernetes-group-version-kind")
                    || e.getKey().equals("definitions");
            if (e.getKey().equals("properties") && e.getValue().isObject()) {
                ObjectNode props = out.putObject("properties");
                e.getValue().fields().forEachRemaining(p -> props.set(p.getKey(), toV3(p.getValue())));
            } else if (keyed || e.getKey().equals("example") || e.getKey().equals("default") || e.getKey().equals("enum")) {
                out.set(e.getKey(), e.getValue());
            } else {
                out.set(e.getKey(), toV3(e.getValue()));
            }
        });
        return out;
    }

    /** A structural (v3) schema trimmed to what swagger 2.0 can say, as kube-apiserver publishes CRDs in v2. */
    private static JsonNode toV2(JsonNode schema) {
        if (schema instanceof ArrayNode a) {
            ArrayNode out = Json.array();
            a.forEach(v -> out.add(toV2(v)));
            return out;
        }
        if (!(schema instanceof ObjectNode o)) return schema;
        ObjectNode out = Json.object();
        o.fields().forEachRemaining(e -> {
            switch (e.getKey()) {
                case "nullable", "oneOf", "anyOf", "not", "x-kubernetes-validations" -> { }
                case "properties" -> {
                    ObjectNode props = out.putObject("properties");
                    e.getValue().fields().forEachRemaining(p -> props.set(p.getKey(), toV2(p.getValue())));
                }
                case "default", "example", "enum", "x-kubernetes-group-version-kind" -> out.set(e.getKey(), e.getValue());
                default -> out.set(e.getKey(), toV2(e.getValue()));
            }
        });
        if (o.path("x-kubernetes-int-or-string").asBoolean()) out.remove("type");
        return out;
    }

    // ---- custom resources ----

    private void rebuildCustomDefinitions() {
        patchSchemas.clear();
        customDefinitions.clear();
        for (CustomResource cr : customResources.values()) {
            String name = crdDefinitionName(cr.group(), cr.version(), cr.kind());
            ObjectNode def = cr.openAPIV3Schema() == null
                    ? Json.object().put("type", "object").put("x-kubernetes-preserve-unknown-fields", true)
                    : cr.openAPIV3Schema().deepCopy();
            ObjectNode props = def.has("properties") ? (ObjectNode) def.get("properties") : def.putObject("properties");
            props.set("apiVersion", Json.object().put("description", "APIVersion defines the versioned schema of this representation of an object.").put("type", "string"));
            props.set("kind", Json.object().put("description", "Kind is a string value representing the REST resource this object represents.").put("type", "string"));
            props.set("metadata", Json.object().put("description", "Standard object's metadata.").put("$ref", DEFS + META + "ObjectMeta"));
            def.putArray("x-kubernetes-group-version-kind").addObject()
                    .put("group", cr.group()).put("kind", cr.kind()).put("version", cr.version());
            customDefinitions.put(name, def);

            ObjectNode list = Json.object();
            list.put("description", cr.listKind() + " is a list of " + cr.kind());
            list.putArray("required").add("items");
            ObjectNode lp = list.putObject("properties");
            lp.set("apiVersion", props.get("apiVersion"));
            ObjectNode items = lp.putObject("items").put("description", "List of " + cr.plural() + ".").put("type", "array");
            items.putObject("items").put("$ref", DEFS + name);
            lp.set("kind", props.get("kind"));
            lp.set("metadata", Json.object().put("description", "Standard list metadata.").put("$ref", DEFS + META + "ListMeta"));
            list.put("type", "object");
            list.putArray("x-kubernetes-group-version-kind").addObject()
                    .put("group", cr.group()).put("kind", cr.listKind()).put("version", cr.version());
            customDefinitions.put(crdDefinitionName(cr.group(), cr.version(), cr.listKind()), list);
        }
        v2Json = null;
        v2Proto = null;
        v3Docs = null;
        v3Index = null;
    }

    /** Kubernetes names CRD definitions by the reversed group: stable.example.com → com.example.stable.v1.CronTab. */
    static String crdDefinitionName(String group, String version, String kind) {
        String[] parts = group.split("\\.");
        StringBuilder sb = new StringBuilder();
        for (int i = parts.length - 1; i >= 0; i--) sb.append(parts[i]).append('.');
        return sb.append(version).append('.').append(kind).toString();
    }

    private Resource customResource(CustomResource cr) {
        return new Resource(cr.group(), cr.version(), cr.kind(), cr.plural(), cr.namespaced(),
                crdDefinitionName(cr.group(), cr.version(), cr.kind()),
                crdDefinitionName(cr.group(), cr.version(), cr.listKind()), true);
    }

    private List<Resource> allResources() {
        loadBuiltins();
        List<Resource> all = new ArrayList<>(builtinResources);
        for (CustomResource cr : customResources.values()) all.add(customResource(cr));
        return all;
    }

    private JsonNode definition(String name) {
        ObjectNode custom = customDefinitions.get(name);
        if (custom != null) return custom;
        loadBuiltins();
        return builtinDefinitions.get(name);
    }

    private static String key(String group, String version, String kind) {
        return group + "/" + version + "/" + kind;
    }

    // ---- loading, hashing, negotiation ----

    private void loadBuiltins() {
        if (builtinDefinitions != null) return;
        try (InputStream in = new GZIPInputStream(source.open())) {
            JsonNode doc = Json.MAPPER.readTree(in);
            builtinDefinitions = (ObjectNode) doc.get("definitions");
            List<Resource> resources = new ArrayList<>();
            for (JsonNode r : doc.get("resources")) {
                resources.add(new Resource(r.get("group").asText(), r.get("version").asText(), r.get("kind").asText(),
                        r.hasNonNull("plural") ? r.get("plural").asText() : null, r.path("namespaced").asBoolean(),
                        r.get("definition").asText(), r.hasNonNull("listDefinition") ? r.get("listDefinition").asText() : null, false));
            }
            builtinResources = List.copyOf(resources);
        } catch (IOException e) {
            throw new IllegalStateException("reading the built-in OpenAPI definitions", e);
        }
    }

    private static Doc doc(JsonNode tree) {
        try {
            byte[] bytes = Json.MAPPER.writeValueAsBytes(tree);
            return new Doc(bytes, etag(bytes));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** kube-openapi's entity tag: the uppercase hex SHA-512 of the bytes. */
    static String etag(byte[] bytes) {
        try {
            return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-512").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Response ok(Doc doc, String contentType, Map<String, String> headers, String ifNoneMatch) {
        headers.put("ETag", "\"" + doc.etag() + "\"");
        if (ifNoneMatch != null && matches(ifNoneMatch, doc.etag())) {
            return new Response(304, null, new byte[0], doc.etag(), headers);
        }
        return new Response(200, contentType, doc.bytes(), doc.etag(), headers);
    }

    private static boolean matches(String ifNoneMatch, String etag) {
        for (String t : ifNoneMatch.split(",")) {
            String s = t.trim();
            if (s.startsWith("W/")) s = s.substring(2);
            if (s.equals("*") || s.equals("\"" + etag + "\"") || s.equals(etag)) return true;
        }
        return false;
    }

    private static boolean isJson(String type) {
        return type.equals(JSON) || type.equals("application/*") || type.equals("*/*");
    }

    /** Media types of an Accept header, most preferred first; q=0 ones dropped; none given means any. */
    static List<String> acceptedTypes(String accept) {
        if (accept == null || accept.isBlank()) return List.of("*/*");
        record Clause(String type, double q, int order) {}
        List<Clause> clauses = new ArrayList<>();
        String[] parts = accept.split(",");
        for (int i = 0; i < parts.length; i++) {
            String[] params = parts[i].split(";");
            String type = params[0].trim().toLowerCase(Locale.ROOT);
            if (type.isEmpty()) continue;
            double q = 1;
            for (int j = 1; j < params.length; j++) {
                String p = params[j].trim();
                if (p.startsWith("q=")) {
                    try {
                        q = Double.parseDouble(p.substring(2));
                    } catch (NumberFormatException e) {
                        q = 0;
                    }
                }
            }
            if (q > 0) clauses.add(new Clause(type, q, i));
        }
        clauses.sort(Comparator.comparingDouble((Clause c) -> -c.q()).thenComparingInt(Clause::order));
        List<String> types = new ArrayList<>();
        for (Clause c : clauses) types.add(c.type());
        return types;
    }
}
