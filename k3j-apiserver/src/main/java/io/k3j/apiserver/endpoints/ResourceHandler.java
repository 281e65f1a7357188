package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import io.k3j.api.apply.ManagedFields;
import io.k3j.api.patch.PatchType;
import io.k3j.api.proto.KubeProtobuf;
import io.k3j.api.select.FieldSelector;
import io.k3j.api.select.LabelSelector;
import io.k3j.apiserver.auth.UserInfo;
import io.k3j.apiserver.crd.ScaleSubresource;
import io.k3j.apiserver.crd.serving.CustomResourceStrategy;
import io.k3j.apiserver.http.ApiRequest;
import io.k3j.apiserver.http.HttpExchange;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.ListOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.openapi.OpenApiService;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.core.PodBinding;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Serves the resource endpoints: list, watch, get, create, update, patch, delete, deletecollection, and the
 * status, scale, binding and eviction subresources. Decoding, content negotiation and status codes live here;
 * the object flow is {@link ObjectStore}'s.
 */
final class ResourceHandler {
    private final ResourceRegistry registry;
    private final ObjectStore objects;
    private final Patcher patcher;
    private final TableConverter tables;
    private final WatchServer watches;
    private final FieldValidator fields;

    ResourceHandler(ResourceRegistry registry, ObjectStore objects, Patcher patcher, TableConverter tables, WatchServer watches,
                    OpenApiService openApi) {
        this.fields = new FieldValidator(openApi);
        this.registry = registry;
        this.objects = objects;
        this.patcher = patcher;
        this.tables = tables;
        this.watches = watches;
    }

    /** A parsed resource request. */
    record Target(ResourceType type, String namespace, String name, String subresource) {}

    void handle(ApiRequest req, HttpExchange ex, Target t, UserInfo user) throws IOException {
        String method = req.method();
        if (t.name == null) {
            switch (method) {
                case "GET" -> {
                    if (isTrue(req.param("watch"))) {
                        requireVerb(t, "watch");
                        watches.serve(req, ex, t.type, t.namespace, listOptions(req));
                    } else {
                        requireVerb(t, "list");
                        list(req, ex, t);
                    }
                }
                case "POST" -> {
                    requireVerb(t, "create");
                    WriteOptions opts = writeOptions(req, user);
                    ObjectNode body = fields.decode(req, t.type, opts);
                    ObjectStore.Created created = objects.createWithJson(t.type, t.namespace, body, opts);
                    if (created.json() != null && Negotiation.forObjects(req.header("Accept")) == Negotiation.Output.JSON && !yaml(req)) {
                        ex.send(201, "application/json", created.json(), warningHeaders(opts.warnings()));
                    } else {
                        respond(req, ex, 201, t.type, created.object(), opts);
                    }
                }
                case "DELETE" -> {
                    requireVerb(t, "deletecollection");
                    deleteCollection(req, ex, t);
                }
                default -> throw notAllowed();
            }
            return;
        }
        String sub = t.subresource == null ? "" : t.subresource;
        switch (sub) {
            case "" -> item(req, ex, t, user);
            case "status" -> status(req, ex, t, user);
            case "scale" -> scale(req, ex, t, user);
            case "binding" -> binding(req, ex, t, user);
            case "eviction" -> eviction(req, ex, t);
            case "finalize" -> finalizeNamespace(req, ex, t, user);
            default -> throw ApiException.notFoundPath("the server could not find the requested resource");
        }
    }

    private void item(ApiRequest req, HttpExchange ex, Target t, UserInfo user) throws IOException {
        switch (req.method()) {
            case "GET" -> {
                requireVerb(t, "get");
                ObjectNode obj = objects.get(t.type, t.namespace, t.name, nz(req.param("resourceVersion")));
                respond(req, ex, 200, t.type, obj);
            }
            case "PUT" -> {
                requireVerb(t, "update");
                WriteOptions opts = writeOptions(req, user);
                ObjectNode body = fields.decode(req, t.type, opts);
                ObjectNode updated = objects.update(t.type, t.namespace, t.name, body, "", opts);
                respond(req, ex, 200, t.type, updated, opts);
            }
            case "PATCH" -> {
                requireVerb(t, "patch");
                WriteOptions opts = writeOptions(req, user);
                Patched p = patch(req, t, "", opts);
                respond(req, ex, p.created() ? 201 : 200, t.type, p.object(), opts);
            }
            case "DELETE" -> {
                requireVerb(t, "delete");
                ObjectStore.Deleted d = objects.delete(t.type, t.namespace, t.name, deleteOptions(req));
                respondDeleted(req, ex, t, d);
            }
            default -> throw notAllowed();
        }
    }

    void watch(ApiRequest req, HttpExchange ex, ResourceType type, String namespace, ListOptions opts) throws IOException {
        if (!type.supports("watch")) throw notAllowed();
        watches.serve(req, ex, type, namespace, opts);
    }

    private void respondDeleted(ApiRequest req, HttpExchange ex, Target t, ObjectStore.Deleted d) throws IOException {
        if (!d.removed()) {
            respond(req, ex, 202, t.type, d.object());
            return;
        }
        if (returnsDeletedObject(t.type)) {
            respond(req, ex, 200, t.type, d.object());
            return;
        }
        ObjectNode status = Json.object();
        status.put("kind", "Status");
        status.put("apiVersion", "v1");
        status.putObject("metadata");
        status.put("status", "Success");
        ObjectNode details = status.putObject("details");
        details.put("name", t.name);
        if (!t.type.group().isEmpty()) details.put("group", t.type.group());
        details.put("kind", t.type.plural());
        details.put("uid", Meta.uid(d.object()));
        send(ex, 200, status, req);
    }

    /** kube-apiserver answers a finished delete with the object for these, with a Status for the rest. */
    private static boolean returnsDeletedObject(ResourceType type) {
        return type.custom() || (type.group().isEmpty() && (type.kind().equals("Pod") || type.kind().equals("Namespace")
                || type.kind().equals("Service")));
    }

    private record Patched(ObjectNode object, boolean created) {}

    private Patched patch(ApiRequest req, Target t, String subresource, WriteOptions opts) {
        PatchType patchType = PatchType.fromContentType(req.header("Content-Type"));
        if (patchType == PatchType.STRATEGIC && t.type.custom()) {
            // the patch types kube-apiserver's CRD handler accepts, in its order
            throw ApiException.unsupportedMediaType(List.of("application/json-patch+json", "application/merge-patch+json",
                    "application/apply-patch+yaml"));
        }
        byte[] body = req.body();
        if (body.length == 0) throw ApiException.badRequest("the body of the request was empty");
        if (patchType == PatchType.APPLY) {
            fields.checkApply(t.type, body, opts);
            Patcher.Applied a = patcher.apply(objects, t.type, t.namespace, t.name, subresource, body, isTrue(req.param("force")), opts);
            return new Patched(a.object(), a.created());
        }
        if (req.param("force") != null) {
            throw ApiException.invalid("meta.k8s.io", "PatchOptions", "", List.of(Cause.forbidden("force", "may not be specified for non-apply patch")));
        }
        return new Patched(objects.updateWith(t.type, t.namespace, t.name, subresource, opts,
                current -> fields.checkPatched(t.type, patchType, body, patcher.patch(patchType, t.type, current, body), opts)), false);
    }

    private void status(ApiRequest req, HttpExchange ex, Target t, UserInfo user) throws IOException {
        if (!t.type.has("status")) throw ApiException.notFoundPath("the server could not find the requested resource");
        switch (req.method()) {
            case "GET" -> respond(req, ex, 200, t.type, objects.get(t.type, t.namespace, t.name, nz(req.param("resourceVersion"))));
            case "PUT" -> {
                WriteOptions opts = writeOptions(req, user);
                ObjectNode body = fields.decode(req, t.type, opts);
                respond(req, ex, 200, t.type, objects.update(t.type, t.namespace, t.name, body, "status", opts), opts);
            }
            case "PATCH" -> {
                WriteOptions opts = writeOptions(req, user);
                respond(req, ex, 200, t.type, patch(req, t, "status", opts).object(), opts);
            }
            default -> throw notAllowed();
        }
    }

    private void finalizeNamespace(ApiRequest req, HttpExchange ex, Target t, UserInfo user) throws IOException {
        if (!t.type.has("finalize") || !req.method().equals("PUT")) throw notAllowed();
        ObjectNode body = decodeBody(req);
        JsonNode finalizers = Json.at(body, "spec", "finalizers");
        ObjectNode updated = objects.updateWith(t.type, t.namespace, t.name, "finalize", writeOptions(req, user), current -> {
            Meta.metadata(current).put("resourceVersion", Meta.resourceVersion(body).isEmpty() ? Meta.resourceVersion(current) : Meta.resourceVersion(body));
            ObjectNode spec = Json.obj(current, "spec");
            if (finalizers == null) spec.remove("finalizers");
            else spec.set("finalizers", finalizers.deepCopy());
            return current;
        });
        respond(req, ex, 200, t.type, updated);
    }

    // ------------------------------------------------------------------ scale

    private void scale(ApiRequest req, HttpExchange ex, Target t, UserInfo user) throws IOException {
        if (!t.type.has("scale")) throw ApiException.notFoundPath("the server could not find the requested resource");
        ScaleView view = scaleView(t.type);
        switch (req.method()) {
            case "GET" -> sendJson(ex, 200, view.of(objects.get(t.type, t.namespace, t.name, "")), req);
            case "PUT" -> {
                ObjectNode body = decodeBody(req);
                requireType(body, "spec", "Scale", "v1.ScaleSpec", JsonNode::isObject);
                if (body.get("spec") instanceof ObjectNode spec) {
                    requireType(spec, "replicas", "ScaleSpec.spec", "int32", n -> n.isIntegralNumber() && n.canConvertToInt());
                }
                sendJson(ex, 200, view.of(updateScale(t, view, user, req, current -> body)), req);
            }
            case "PATCH" -> {
                PatchType patchType = PatchType.fromContentType(req.header("Content-Type"));
                if (patchType == PatchType.APPLY) throw ApiException.unsupportedMediaType(req.header("Content-Type"));
                byte[] body = req.body();
                sendJson(ex, 200, view.of(updateScale(t, view, user, req,
                        current -> patcher.patch(patchType, null, view.of(current), body))), req);
            }
            default -> throw notAllowed();
        }
    }

    /** How a resource maps to and from its autoscaling/v1 Scale: built-in workloads, or a CRD's scale paths. */
    private interface ScaleView {
        ObjectNode of(ObjectNode obj);

        /** The object with the Scale's spec.replicas (validated) written into it. */
        ObjectNode write(ObjectNode obj, ObjectNode scale, JsonNode replicas);
    }

    private ScaleView scaleView(ResourceType type) {
        if (objects.strategy(type) instanceof CustomResourceStrategy custom && custom.scale() != null) {
            ScaleSubresource s = custom.scale();
            return new ScaleView() {
                public ObjectNode of(ObjectNode obj) {
                    return s.toScale(obj);
                }

                public ObjectNode write(ObjectNode obj, ObjectNode scale, JsonNode replicas) {
                    return s.applyScale(obj, scale);
                }
            };
        }
        return new ScaleView() {
            public ObjectNode of(ObjectNode obj) {
                return Scale.of(type, obj);
            }

            public ObjectNode write(ObjectNode obj, ObjectNode scale, JsonNode replicas) {
                Scale.write(type, obj, replicas == null ? 0 : replicas.asInt());
                return obj;
            }
        };
    }

    private ObjectNode updateScale(Target t, ScaleView view, UserInfo user, ApiRequest req,
                                   java.util.function.UnaryOperator<ObjectNode> newScale) {
        return objects.updateWith(t.type, t.namespace, t.name, "scale", writeOptions(req, user), current -> {
            ObjectNode scale = newScale.apply(current);
            String rv = Meta.resourceVersion(scale);
            JsonNode replicas = Json.at(scale, "spec", "replicas");
            if (replicas != null && (!replicas.canConvertToInt() || replicas.asInt() < 0)) {
                throw ApiException.invalid("autoscaling", "Scale", t.name, List.of(Cause.invalid("spec.replicas", replicas.asText(),
                        "must be greater than or equal to 0")));
            }
            ObjectNode updated = view.write(current, scale, replicas);
            if (!rv.isEmpty()) Meta.metadata(updated).put("resourceVersion", rv);
            return updated;
        });
    }

    // ------------------------------------------------------------------ pods/binding, pods/eviction

    private void binding(ApiRequest req, HttpExchange ex, Target t, UserInfo user) throws IOException {
        if (!t.type.has("binding") || !req.method().equals("POST")) throw notAllowed();
        ObjectNode body = decodeBody(req);
        requireType(body, "target", "Binding", "v1.ObjectReference", JsonNode::isObject);
        String node = Json.text(body.get("target"), "name");
        if (node.isEmpty()) {
            throw ApiException.invalid("", "Binding", t.name, List.of(Cause.required("target.name")));
        }
        String uid = Json.text(Json.at(body, "metadata"), "uid");
        PodBinding.bind(objects, t.type, t.namespace, t.name, uid, node, writeOptions(req, user));
        sendJson(ex, 201, successStatus(), req);
    }

    private void eviction(ApiRequest req, HttpExchange ex, Target t) throws IOException {
        if (!t.type.has("eviction") || !req.method().equals("POST")) throw notAllowed();
        ObjectNode body = decodeBody(req);
        requireType(body, "deleteOptions", "Eviction", "v1.DeleteOptions", JsonNode::isObject);
        JsonNode opts = body.get("deleteOptions");
        if (opts != null && opts.isObject()) {
            requireType(opts, "gracePeriodSeconds", "DeleteOptions.deleteOptions", "int64", n -> n.isIntegralNumber() && n.canConvertToLong());
        }
        Long grace = opts != null && opts.hasNonNull("gracePeriodSeconds") ? opts.get("gracePeriodSeconds").asLong() : null;
        objects.delete(t.type, t.namespace, t.name, new DeleteOptions(grace, null, null, null, isDryRun(req)));
        sendJson(ex, 201, successStatus(), req);
    }

    private static ObjectNode successStatus() {
        ObjectNode status = Json.object();
        status.put("kind", "Status");
        status.put("apiVersion", "v1");
        status.putObject("metadata");
        status.put("status", "Success");
        status.put("code", 201);
        return status;
    }

    // ------------------------------------------------------------------ list, deletecollection

    private void list(ApiRequest req, HttpExchange ex, Target t) throws IOException {
        ListOptions opts = listOptions(req);
        Negotiation.Output out = Negotiation.forObjects(req.header("Accept"));
        ObjectStore.ListResult result = objects.list(t.type, t.namespace, opts);
        ObjectNode listMeta = Json.object();
        listMeta.put("resourceVersion", Long.toString(result.revision()));
        if (result.continueToken() != null) listMeta.put("continue", result.continueToken());
        if (result.remainingItemCount() != null) listMeta.put("remainingItemCount", result.remainingItemCount());
        if (out == Negotiation.Output.TABLE) {
            ObjectNode table = tables.toTable(t.type, result.items(), req.param("includeObject"), listMeta, true,
                    objects.clock().instant());
            sendJson(ex, 200, table, req);
            return;
        }
        if (out == Negotiation.Output.YAML) {
            ObjectNode list = listObject(t.type, result, listMeta);
            ex.send(200, "application/yaml", Json.yaml(list).getBytes(java.nio.charset.StandardCharsets.UTF_8), Map.of());
            return;
        }
        if (out == Negotiation.Output.PARTIAL_METADATA) ex.send(200, "application/json", serializePartialList(result, listMeta), Map.of());
        else sendList(ex, t.type, result, listMeta);
    }

    private static ObjectNode listObject(ResourceType type, ObjectStore.ListResult result, ObjectNode listMeta) {
        ObjectNode list = Json.object();
        list.put("apiVersion", type.apiVersion());
        list.put("kind", type.listKind());
        list.set("metadata", listMeta);
        ArrayNode items = list.putArray("items");
        for (ObjectNode o : result.items()) items.add(ObjectStore.withTypeMeta(type, o.deepCopy()));
        return list;
    }

    /**
     * Sends the list as it is written: items come from their cached JSON (the stored bytes, shared with watches
     * and other lists), copied into chunks that go out as they fill, with the flow control of a watch. A LIST of
     * 10,000 pods is ~25 MB: built as one array (and a copy of it) it outlived young collections, was copied into
     * the old generation and filled it with garbage, and collections cost the server more CPU than the LIST itself.
     */
    private static void sendList(HttpExchange ex, ResourceType type, ObjectStore.ListResult result, ObjectNode listMeta) throws IOException {
        List<ObjectNode> items = result.items();
        byte[][] bodies = new byte[items.size()][];
        ObjectNode head = Json.object();
        head.put("kind", type.listKind());
        head.put("apiVersion", type.apiVersion());
        head.set("metadata", listMeta);
        byte[] headBytes = Json.bytes(head);
        long size = headBytes.length - 1 + ITEMS.length + LIST_END.length + Math.max(0, bodies.length - 1);
        for (int i = 0; i < bodies.length; i++) {
            var cached = result.json().get(i);
            if (cached != null) {
                size += cached.length();
            } else {
                bodies[i] = Json.bytes(items.get(i));
                size += bodies[i].length;
            }
        }
        try (ChunkedBody out = new ChunkedBody(ex.stream(200, "application/json", size, Map.of()))) {
            out.write(headBytes, 0, headBytes.length - 1); // without the closing brace
            out.write(ITEMS);
            for (int i = 0; i < bodies.length; i++) {
                if (i > 0) out.write(',');
                if (bodies[i] != null) out.write(bodies[i]);
                else result.json().get(i).writeTo(out);
            }
            out.write(LIST_END);
        }
    }

    private static final byte[] ITEMS = ",\"items\":[".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] LIST_END = "]}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * Bytes gathered into chunks of {@link #CHUNK} handed to a response stream as each fills: each chunk is young
     * garbage once written, and the stream's back-pressure keeps only a few in flight.
     */
    private static final class ChunkedBody extends java.io.OutputStream {
        static final int CHUNK = 128 * 1024;
        private final HttpExchange.Stream stream;
        private byte[] buf = new byte[CHUNK];
        private int n;

        ChunkedBody(HttpExchange.Stream stream) {
            this.stream = stream;
        }

        @Override
        public void write(int b) throws IOException {
            if (n == buf.length) flushChunk();
            buf[n++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (n == buf.length) flushChunk();
                int k = Math.min(len, buf.length - n);
                System.arraycopy(b, off, buf, n, k);
                n += k;
                off += k;
                len -= k;
            }
        }

        private void flushChunk() throws IOException {
            stream.write(n == buf.length ? buf : java.util.Arrays.copyOf(buf, n));
            buf = new byte[CHUNK];
            n = 0;
        }

        /** Sends what is left and ends the response. */
        @Override
        public void close() throws IOException {
            try {
                if (n > 0) {
                    stream.write(java.util.Arrays.copyOf(buf, n));
                    n = 0;
                }
            } finally {
                stream.close();
            }
        }
    }

    private static byte[] serializePartialList(ObjectStore.ListResult result, ObjectNode listMeta) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(256, result.items().size() * 512));
        try (JsonGenerator g = Json.MAPPER.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("kind", "PartialObjectMetadataList");
            g.writeStringField("apiVersion", "meta.k8s.io/v1");
            g.writeFieldName("metadata");
            Json.MAPPER.writeTree(g, listMeta);
            g.writeArrayFieldStart("items");
            for (ObjectNode o : result.items()) {
                g.writeStartObject();
                g.writeStringField("kind", "PartialObjectMetadata");
                g.writeStringField("apiVersion", "meta.k8s.io/v1");
                g.writeFieldName("metadata");
                Json.MAPPER.writeTree(g, o.get("metadata"));
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private void deleteCollection(ApiRequest req, HttpExchange ex, Target t) throws IOException {
        ListOptions opts = listOptions(req);
        DeleteOptions del = deleteOptions(req);
        ObjectStore.ListResult result = objects.list(t.type, t.namespace,
                new ListOptions(opts.labels(), opts.fields(), "", "", 0, ""));
        ObjectNode list = Json.object();
        list.put("apiVersion", t.type.apiVersion());
        list.put("kind", t.type.listKind());
        ObjectNode listMeta = list.putObject("metadata");
        ArrayNode items = list.putArray("items");
        for (ObjectNode o : result.items()) {
            try {
                ObjectStore.Deleted d = objects.delete(t.type, Meta.namespace(o).isEmpty() ? null : Meta.namespace(o), Meta.name(o), del);
                items.add(d.object());
            } catch (ApiException e) {
                if (e.code() != 404) throw e;
            }
        }
        listMeta.put("resourceVersion", Long.toString(objects.cache().revision()));
        sendJson(ex, 200, list, req);
    }

    // ------------------------------------------------------------------ options

    /** The list parameters kube-apiserver decodes, refusing what doesn't parse (400) as it does. */
    static ListOptions listOptions(ApiRequest req) {
        long limit = 0;
        String l = req.param("limit");
        if (l != null && !l.isEmpty()) {
            try {
                limit = Math.max(0, Long.parseLong(l));
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("invalid limit \"" + l + "\"");
            }
        }
        String timeout = req.param("timeoutSeconds");
        if (timeout != null && !timeout.isEmpty()) {
            try {
                Long.parseLong(timeout);
            } catch (NumberFormatException e) {
                // kube-apiserver decodes every ListOptions parameter, used or not, and refuses what doesn't parse
                throw ApiException.badRequest("invalid timeoutSeconds \"" + timeout + "\"");
            }
        }
        return new ListOptions(LabelSelector.parse(req.param("labelSelector")), FieldSelector.parse(req.param("fieldSelector")),
                nz(req.param("resourceVersion")), nz(req.param("resourceVersionMatch")), limit, nz(req.param("continue")));
    }

    static WriteOptions writeOptions(ApiRequest req, UserInfo user) {
        String fv = req.param("fieldValidation");
        WriteOptions.FieldValidation validation;
        if (fv == null || fv.isEmpty() || fv.equalsIgnoreCase("Warn")) validation = WriteOptions.FieldValidation.WARN;
        else if (fv.equalsIgnoreCase("Strict")) validation = WriteOptions.FieldValidation.STRICT;
        else if (fv.equalsIgnoreCase("Ignore")) validation = WriteOptions.FieldValidation.IGNORE;
        else throw ApiException.badRequest("fieldValidation parameter unsupported: " + fv);
        String manager = req.param("fieldManager");
        boolean apply = req.method().equals("PATCH")
                && "application/apply-patch+yaml".equals(Negotiation.contentType(req.header("Content-Type")));
        ManagedFields.validateFieldManager(optionsKind(req), manager, apply);
        manager = ManagedFields.managerOrUserAgent(manager, req.header("User-Agent"));
        return new WriteOptions(isDryRun(req), manager, validation, user);
    }

    private static String optionsKind(ApiRequest req) {
        return switch (req.method()) {
            case "POST" -> "CreateOptions";
            case "PUT" -> "UpdateOptions";
            default -> "PatchOptions";
        };
    }

    private static boolean isDryRun(ApiRequest req) {
        List<String> values = req.params("dryRun");
        for (String v : values) {
            if (!v.equals("All")) {
                throw ApiException.badRequest("Invalid dryRun value: \"" + v + "\" (supported: All)");
            }
        }
        return !values.isEmpty();
    }

    private static DeleteOptions deleteOptions(ApiRequest req) {
        Long grace = null;
        String policy = req.param("propagationPolicy");
        String orphan = req.param("orphanDependents");
        String uid = null;
        String rv = null;
        if (req.param("gracePeriodSeconds") != null) {
            try {
                grace = Long.parseLong(req.param("gracePeriodSeconds"));
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("invalid gracePeriodSeconds \"" + req.param("gracePeriodSeconds") + "\"");
            }
        }
        if (req.body().length > 0) {
            ObjectNode body = deleteOptionsBody(req);
            if (body.hasNonNull("gracePeriodSeconds")) grace = body.get("gracePeriodSeconds").asLong();
            if (body.hasNonNull("propagationPolicy")) policy = body.get("propagationPolicy").asText();
            if (body.hasNonNull("orphanDependents")) orphan = body.get("orphanDependents").asText();
            JsonNode pre = body.get("preconditions");
            if (pre != null && !pre.isNull()) {
                if (pre.hasNonNull("uid")) uid = pre.get("uid").asText();
                if (pre.hasNonNull("resourceVersion")) rv = pre.get("resourceVersion").asText();
            }
            JsonNode dry = body.get("dryRun");
            if (dry != null && dry.isArray() && !dry.isEmpty()) {
                return new DeleteOptions(grace, resolvePolicy(policy, orphan), uid, rv, true);
            }
        }
        return new DeleteOptions(grace, resolvePolicy(policy, orphan), uid, rv, isDryRun(req));
    }

    /** A DeleteOptions body, with the JSON types Go's decoder insists on (400 otherwise). */
    private static ObjectNode deleteOptionsBody(ApiRequest req) {
        JsonNode parsed = Json.parseYamlOrJson(req.body());
        if (!(parsed instanceof ObjectNode body)) {
            throw ApiException.badRequest("json: cannot unmarshal " + jsonType(parsed) + " into Go value of type v1.DeleteOptions");
        }
        requireType(body, "gracePeriodSeconds", "DeleteOptions", "int64", n -> n.isIntegralNumber() && n.canConvertToLong());
        requireType(body, "propagationPolicy", "DeleteOptions", "v1.DeletionPropagation", JsonNode::isTextual);
        requireType(body, "orphanDependents", "DeleteOptions", "bool", JsonNode::isBoolean);
        requireType(body, "dryRun", "DeleteOptions", "[]string", JsonNode::isArray);
        requireType(body, "preconditions", "DeleteOptions", "v1.Preconditions", JsonNode::isObject);
        JsonNode pre = body.get("preconditions");
        if (pre != null && pre.isObject()) {
            requireType(pre, "uid", "Preconditions", "types.UID", JsonNode::isTextual);
            requireType(pre, "resourceVersion", "Preconditions", "string", JsonNode::isTextual);
        }
        return body;
    }

    private static void requireType(JsonNode parent, String field, String struct, String goType,
                                    java.util.function.Predicate<JsonNode> ok) {
        JsonNode v = parent.get(field);
        if (v != null && !v.isNull() && !ok.test(v)) {
            throw ApiException.badRequest("json: cannot unmarshal " + jsonType(v) + " into Go struct field " + struct + "." + field
                    + " of type " + goType);
        }
    }

    private static String jsonType(JsonNode v) {
        if (v.isTextual()) return "string";
        if (v.isNumber()) return "number";
        if (v.isBoolean()) return "bool";
        if (v.isArray()) return "array";
        return "object";
    }

    private static String resolvePolicy(String policy, String orphan) {
        if (policy != null && orphan != null) {
            throw ApiException.invalid("", "DeleteOptions", "", List.of(Cause.invalid("propagationPolicy", policy,
                    "orphanDependents and deletionPropagation cannot be both set")));
        }
        if (orphan != null) return Boolean.parseBoolean(orphan) ? "Orphan" : "Background";
        return policy;
    }

    // ------------------------------------------------------------------ body, responses

    static ObjectNode decodeBody(ApiRequest req) {
        String contentType = Negotiation.contentType(req.header("Content-Type"));
        if (req.body().length == 0) throw ApiException.badRequest("the body of the request was empty");
        JsonNode node;
        if (contentType == null || contentType.equals("application/json")) node = Json.parse(req.body());
        else if (contentType.equals("application/yaml")) node = Json.parseYamlOrJson(req.body());
        else if (contentType.equals(KubeProtobuf.MEDIA_TYPE)) node = KubeProtobuf.decode(req.body());
        else throw ApiException.unsupportedMediaType(contentType);
        if (!(node instanceof ObjectNode obj)) throw ApiException.badRequest("Object 'Kind' is missing in '" + abbreviate(req.body()) + "'");
        return obj;
    }

    private static String abbreviate(byte[] body) {
        String s = new String(body, java.nio.charset.StandardCharsets.UTF_8);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private void respond(ApiRequest req, HttpExchange ex, int code, ResourceType type, ObjectNode obj) {
        respond(req, ex, code, type, obj, Map.of());
    }

    /** Answers a write, with the warnings it left as {@code Warning} headers (RFC 7234 §5.5, code 299). */
    private void respond(ApiRequest req, HttpExchange ex, int code, ResourceType type, ObjectNode obj, WriteOptions opts) {
        respond(req, ex, code, type, obj, warningHeaders(opts.warnings()));
    }

    static Map<String, String> warningHeaders(List<String> warnings) {
        if (warnings.isEmpty()) return Map.of();
        StringBuilder sb = new StringBuilder();
        for (String w : warnings) {
            if (!sb.isEmpty()) sb.append(", ");
            sb.append("299 - \"").append(w.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return Map.of("Warning", sb.toString());
    }

    private void respond(ApiRequest req, HttpExchange ex, int code, ResourceType type, ObjectNode obj, Map<String, String> headers) {
        Negotiation.Output out = Negotiation.forObjects(req.header("Accept"));
        ObjectStore.withTypeMeta(type, obj);
        switch (out) {
            case TABLE -> {
                send(ex, code, tables.toTable(type, List.of(obj), req.param("includeObject"), null, true,
                        objects.clock().instant()), req, headers);
            }
            case PARTIAL_METADATA -> {
                ObjectNode p = Json.object();
                p.put("kind", "PartialObjectMetadata");
                p.put("apiVersion", "meta.k8s.io/v1");
                p.set("metadata", obj.get("metadata"));
                send(ex, code, p, req, headers);
            }
            default -> send(ex, code, obj, req, headers);
        }
    }

    static void send(HttpExchange ex, int code, ObjectNode obj, ApiRequest req) {
        send(ex, code, obj, req, Map.of());
    }

    private static boolean yaml(ApiRequest req) {
        String accept = req.header("Accept");
        return accept != null && accept.startsWith("application/yaml");
    }

    private static void send(HttpExchange ex, int code, ObjectNode obj, ApiRequest req, Map<String, String> headers) {
        if (yaml(req)) {
            ex.send(code, "application/yaml", Json.yaml(obj).getBytes(java.nio.charset.StandardCharsets.UTF_8), headers);
        } else {
            ex.send(code, "application/json", Json.bytes(obj), headers);
        }
    }

    private static void sendJson(HttpExchange ex, int code, ObjectNode obj, ApiRequest req) {
        send(ex, code, obj, req);
    }

    private static void requireVerb(Target t, String verb) {
        if (!t.type.supports(verb)) throw notAllowed();
    }

    private static ApiException notAllowed() {
        return ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
    }

    /** A boolean query parameter as kube-apiserver reads it: present and not one of Go's false spellings. */
    static boolean isTrue(String v) {
        return v != null && !v.isEmpty() && !FALSE.contains(v);
    }

    private static final java.util.Set<String> FALSE = java.util.Set.of("0", "f", "F", "false", "False", "FALSE");

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
