package io.k3j.apiserver.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.watch.CachedObject;
import io.k3j.apiserver.watch.ResourceCache;
import io.k3j.apiserver.watch.Serialized;
import io.k3j.apiserver.watch.WatchCache;
import io.k3j.store.CompactedException;
import io.k3j.store.KeyExistsException;
import io.k3j.store.KeyNotFoundException;
import io.k3j.store.KeyValue;
import io.k3j.store.RangeResult;
import io.k3j.store.RevisionConflictException;
import io.k3j.store.Store;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * The generic object storage flow every resource goes through (what Kubernetes' {@code genericregistry.Store}
 * does): object metadata rules, strategies (defaulting, validation, what may change), optimistic concurrency,
 * graceful deletion and finalizers, dry-run, and reads served from the {@link WatchCache}.
 *
 * <p>It is HTTP-agnostic: the REST handlers and the in-process client of the controllers both call it, so
 * both see exactly the same API semantics.
 */
public final class ObjectStore {
    static final String CONFLICT_DETAIL = "the object has been modified; please apply your changes to the latest version and try again";
    private static final char[] NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789".toCharArray();
    private static final int MAX_RETRIES = 16;

    private final Store store;
    private final WatchCache cache;
    private final Strategies strategies;
    private final Clock clock;
    private final SecureRandom uidRandom = drbg();
    private volatile ManagedFieldsHook managedFields = ManagedFieldsHook.NONE;

    public ObjectStore(Store store, WatchCache cache, Strategies strategies, Clock clock) {
        this.store = store;
        this.cache = cache;
        this.strategies = strategies;
        this.clock = clock;
    }

    /** Sets what maintains metadata.managedFields on writes. */
    public void managedFields(ManagedFieldsHook hook) {
        this.managedFields = Objects.requireNonNull(hook);
    }

    public Clock clock() {
        return clock;
    }

    public WatchCache cache() {
        return cache;
    }

    public ResourceStrategy strategy(ResourceType type) {
        return strategies.of(type);
    }

    // ---------------------------------------------------------------- reads

    /**
     * The object, or 404.
     *
     * @param resourceVersion "" for the newest (consistent read), "0" for any cached state, or a revision
     *                        the answer must not be older than
     */
    public ObjectNode get(ResourceType type, String namespace, String name, String resourceVersion) {
        ResourceCache c = cache.cache(type.storagePrefix());
        freshen(resourceVersion, "");
        CachedObject o = c.get(type.key(namespace, name));
        if (o == null) throw ApiException.notFound(type.group(), type.plural(), name);
        return readCopy(type, o.object());
    }

    /** The object if it exists, read consistently; never throws NotFound. */
    public Optional<ObjectNode> find(ResourceType type, String namespace, String name) {
        ResourceCache c = cache.cache(type.storagePrefix());
        cache.sync();
        CachedObject o = c.get(type.key(namespace, name));
        return o == null ? Optional.empty() : Optional.of(readCopy(type, o.object()));
    }

    /** A private copy of a stored object as {@code type} serves it. */
    private ObjectNode readCopy(ResourceType type, ObjectNode stored) {
        ObjectNode read = strategies.of(type).onRead(type, stored);
        return withTypeMeta(type, read == stored ? read.deepCopy() : read);
    }

    private void freshen(String resourceVersion, String match) {
        if (resourceVersion == null || resourceVersion.isEmpty()) {
            cache.sync();
        } else if (!resourceVersion.equals("0")) {
            long rv = parseResourceVersion(resourceVersion);
            if (!"Exact".equals(match)) cache.waitFor(rv, 3000);
        }
    }

    public static long parseResourceVersion(String rv) {
        try {
            long v = Long.parseLong(rv);
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("invalid resource version \"" + rv + "\"");
        }
    }

    /** A page of a list: the objects (shared, don't mutate), the revision, and the continue token. */
    /**
     * @param json for each item, its cached JSON when the item is the cached object as stored (null otherwise),
     *             so lists are written without serializing objects again
     */
    public record ListResult(List<ObjectNode> items, long revision, String continueToken, Long remainingItemCount, List<Serialized> json) {
        public ListResult(List<ObjectNode> items, long revision, String continueToken, Long remainingItemCount) {
            this(items, revision, continueToken, remainingItemCount, java.util.Collections.nCopies(items.size(), null));
        }
    }

    /**
     * Lists objects of a resource, in one namespace or all ({@code namespace} null), filtered and paged as
     * kube-apiserver does. Returned objects are shared with the cache: never mutate them.
     */
    public ListResult list(ResourceType type, String namespace, ListOptions opts) {
        ResourceStrategy strategy = strategies.of(type);
        checkFieldSelector(type, strategy, opts);
        String keyPrefix = type.namespaced() && namespace != null ? type.storagePrefix() + namespace + "/" : type.storagePrefix();
        String rv = opts.resourceVersion() == null ? "" : opts.resourceVersion();
        String match = opts.resourceVersionMatch() == null ? "" : opts.resourceVersionMatch();
        validateListOptions(rv, match, opts);
        if (opts.continueToken() != null && !opts.continueToken().isEmpty()) {
            Continue token = Continue.decode(opts.continueToken());
            return listFromStore(type, keyPrefix, token.revision(), type.storagePrefix() + token.start(), opts, strategy, true);
        }
        if ("Exact".equals(match)) {
            return listFromStore(type, keyPrefix, parseResourceVersion(rv), keyPrefix, opts, strategy, false);
        }
        ResourceCache c = cache.cache(type.storagePrefix());
        freshen(rv, match);
        ResourceCache.Snapshot snap = c.list(keyPrefix);
        List<ObjectNode> items = new ArrayList<>();
        List<Serialized> json = new ArrayList<>();
        long limit = opts.limit();
        int i = 0;
        List<CachedObject> all = snap.objects();
        for (; i < all.size(); i++) {
            CachedObject o = all.get(i);
            ObjectNode obj = o.object(); // once: an object cached as bytes is decoded on each call
            if (!matches(strategy, obj, opts)) continue;
            if (limit > 0 && items.size() == limit) break;
            ObjectNode read = strategy.onRead(type, obj);
            items.add(read);
            json.add(read == obj && type.apiVersion().equals(Json.text(read, "apiVersion")) ? o.json() : null);
        }
        if (limit > 0 && i < all.size()) {
            String lastKey = all.get(i - 1).key();
            Long remaining = opts.labels().isEmpty() && opts.fields().isEmpty() ? (long) (all.size() - i) : null;
            String token = new Continue(snap.revision(), lastKey.substring(type.storagePrefix().length()) + "\0").encode();
            return new ListResult(items, snap.revision(), token, remaining, json);
        }
        return new ListResult(items, snap.revision(), null, null, json);
    }

    private static void validateListOptions(String rv, String match, ListOptions opts) {
        boolean hasContinue = opts.continueToken() != null && !opts.continueToken().isEmpty();
        if (!match.isEmpty()) {
            if (!match.equals("Exact") && !match.equals("NotOlderThan")) {
                throw invalidList("resourceVersionMatch", match, "supported values: \"Exact\", \"NotOlderThan\", \"\"");
            }
            if (rv.isEmpty()) {
                throw ApiException.invalid("", "ListOptions", "", List.of(Cause.forbidden("resourceVersionMatch",
                        "resourceVersionMatch is forbidden unless resourceVersion is provided")));
            }
            if (hasContinue) {
                throw ApiException.invalid("", "ListOptions", "", List.of(Cause.forbidden("resourceVersionMatch",
                        "resourceVersionMatch is forbidden when continue is provided")));
            }
            if (match.equals("Exact") && rv.equals("0")) {
                throw ApiException.invalid("", "ListOptions", "", List.of(Cause.forbidden("resourceVersionMatch",
                        "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")));
            }
        }
        if (hasContinue && !rv.isEmpty() && !rv.equals("0")) {
            throw ApiException.badRequest("specifying resource version is not allowed when using continue");
        }
    }

    private static ApiException invalidList(String field, String value, String detail) {
        return ApiException.invalid("", "ListOptions", "", List.of(Cause.invalid(field, value, detail)));
    }

    private ListResult listFromStore(ResourceType type, String keyPrefix, long revision, String start, ListOptions opts,
                                     ResourceStrategy strategy, boolean continuing) {
        List<ObjectNode> items = new ArrayList<>();
        long limit = opts.limit();
        String from = start.compareTo(keyPrefix) < 0 ? keyPrefix : start;
        String lastKey = null;
        try {
            while (true) {
                int page = (int) (limit > 0 ? Math.min(Math.max(limit - items.size(), 1) + 1, 5000) : 5000);
                RangeResult r = store.range(keyPrefix, from, revision, page);
                boolean full = false;
                for (KeyValue kv : r.kvs()) {
                    if (limit > 0 && items.size() == limit) {
                        full = true;
                        break;
                    }
                    lastKey = kv.key();
                    ObjectNode obj = WatchCache.decode(kv.value(), kv.modRevision());
                    if (matches(strategy, obj, opts)) items.add(strategy.onRead(type, obj));
                }
                if (full) {
                    String token = new Continue(revision, lastKey.substring(type.storagePrefix().length()) + "\0").encode();
                    return new ListResult(items, revision, token, null);
                }
                if (!r.more()) return new ListResult(items, revision, null, null);
                from = r.kvs().getLast().key() + "\0";
            }
        } catch (CompactedException e) {
            // etcd3 store's interpretListError: a continue token and an Exact list expire with different words
            if (!continuing) throw ApiException.gone("The resourceVersion for the provided list is too old.");
            throw ApiException.gone("The provided continue parameter is too old to display a consistent list result. "
                    + "You can start a new list without the continue parameter, or use the continue token in this response "
                    + "to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent "
                    + "list - objects that were created, modified, or deleted between the time the first chunk was returned "
                    + "and now may show up in the list.");
        } catch (io.k3j.store.FutureRevisionException e) {
            throw ApiException.timeout("Too large resource version: " + revision + ", current: " + store.currentRevision());
        }
    }

    public boolean matches(ResourceStrategy strategy, ObjectNode obj, ListOptions opts) {
        if (!opts.labels().isEmpty() && !opts.labels().matches(Meta.labels(obj))) return false;
        return opts.fields().isEmpty() || opts.fields().matches(f -> strategy.fieldValue(obj, f));
    }

    public void checkFieldSelector(ResourceType type, ResourceStrategy strategy, ListOptions opts) {
        for (var req : opts.fields().requirements()) {
            String f = req.field();
            if (f.equals("metadata.name") || f.equals("metadata.namespace")) continue;
            if (strategy.selectableFields().isEmpty()) {
                throw ApiException.badRequest("\"" + f + "\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
            }
            if (!strategy.selectableFields().contains(f)) throw ApiException.badRequest("field label not supported: " + f);
        }
    }

    // ---------------------------------------------------------------- writes

    /**
     * Creates an object.
     *
     * @throws ApiException 400 on a mismatching namespace or kind, 404/403 for a missing or terminating
     *                      namespace, 409 AlreadyExists, 422 Invalid
     */
    public ObjectNode create(ResourceType type, String namespace, ObjectNode obj, WriteOptions opts) {
        return createWithJson(type, namespace, obj, opts).object();
    }

    /**
     * An object just created, with its JSON as a client gets it when that could be made from the stored bytes.
     *
     * @param json the object's JSON ({@code Json.bytes(object)}, byte for byte), or null when not made: a dry
     *             run, or an object whose JSON the stored form doesn't give by splicing in its resourceVersion
     */
    public record Created(ObjectNode object, byte[] json) {}

    /**
     * {@link #create}, also giving the created object's JSON made from the bytes written to the store: the stored
     * form lacks only the resourceVersion, which goes at the end of metadata in both, so a create serializes its
     * object once instead of once for the store and again for the answer.
     *
     * @throws ApiException as {@link #create}
     */
    public Created createWithJson(ResourceType type, String namespace, ObjectNode obj, WriteOptions opts) {
        ResourceStrategy strategy = strategies.of(type);
        checkTypeMeta(type, obj);
        decode(type, strategy, obj, opts, true);
        ObjectNode meta = Meta.metadata(obj);
        scope(type, namespace, meta);
        if (!Json.text(meta, "resourceVersion").isEmpty()) {
            throw ApiException.badRequest("resourceVersion should not be set on objects to be created");
        }
        String requestedName = Json.text(meta, "name").isEmpty() ? Json.text(meta, "generateName") : Json.text(meta, "name");
        if (Json.text(meta, "name").isEmpty()) {
            String generate = Json.text(meta, "generateName");
            if (generate.isEmpty()) {
                throw ApiException.invalid(type.group(), type.kind(), "",
                        List.of(new Cause("FieldValueRequired", "Required value: name or generateName is required", "metadata.name")));
            }
            meta.put("name", generateName(generate));
        }
        String name = Json.text(meta, "name");
        if (type.namespaced() && !type.kind().equals("Namespace")) requireNamespace(type, namespace, requestedName);
        meta.put("uid", newUid());
        meta.put("creationTimestamp", Meta.timestamp(clock.instant()));
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        meta.remove("selfLink");
        if (type.tracksGeneration()) meta.put("generation", 1);
        else meta.remove("generation");
        strategy.prepareForCreate(type, obj);
        strategy.defaults(type, obj);
        strategy.admit(type, obj);
        List<Cause> causes = strategy.validateCreate(type, obj);
        if (!causes.isEmpty()) throw ApiException.invalid(type.group(), type.kind(), name, causes);
        managedFields.onWrite(type, null, obj, opts, "");
        if (opts.dryRun()) {
            meta.remove("resourceVersion");
            return new Created(obj, null);
        }
        strategy.allocate(type, obj, null);
        byte[] json;
        try {
            boolean hadResourceVersion = meta.has("resourceVersion");
            byte[] stored = encode(obj);
            KeyValue kv = store.create(type.key(namespace, name), stored);
            meta.put("resourceVersion", Long.toString(kv.modRevision()));
            json = hadResourceVersion || !startsWithTypeMeta(stored, type) ? null
                    : Serialized.ofStored(obj, stored, kv.modRevision(), false).bytes();
        } catch (KeyExistsException e) {
            strategy.abort(type, obj, null);
            throw ApiException.alreadyExists(type.group(), type.plural(), name);
        } catch (RuntimeException e) {
            strategy.abort(type, obj, null);
            throw e;
        }
        strategy.committed(type, obj);
        return new Created(obj, json);
    }

    /** Whether JSON begins with the type's apiVersion and kind, as {@link #withTypeMeta} orders an answer. */
    private static boolean startsWithTypeMeta(byte[] json, ResourceType type) {
        // apiVersion and kind are names without characters JSON escapes
        byte[] prefix = ("{\"apiVersion\":\"" + type.apiVersion() + "\",\"kind\":\"" + type.kind() + "\"").getBytes(StandardCharsets.UTF_8);
        return json.length >= prefix.length && Arrays.equals(json, 0, prefix.length, prefix, 0, prefix.length);
    }

    /**
     * Replaces an object (PUT). When the body carries a resourceVersion it must be the current one.
     *
     * @param subresource "" for the object, "status" to change only its status
     */
    public ObjectNode update(ResourceType type, String namespace, String name, ObjectNode body, String subresource, WriteOptions opts) {
        checkTypeMeta(type, body);
        ObjectNode meta = Meta.metadata(body);
        scope(type, namespace, meta);
        String bodyName = Json.text(meta, "name");
        if (bodyName.isEmpty()) meta.put("name", name);
        else if (!bodyName.equals(name)) {
            throw ApiException.badRequest("the name of the object (" + bodyName + ") does not match the name on the URL (" + name + ")");
        }
        String precondition = Json.text(meta, "resourceVersion");
        if (precondition.isEmpty() && !strategies.of(type).allowUnconditionalUpdate()) {
            throw ApiException.invalid(type.group(), type.kind(), name, List.of(Cause.invalid("metadata.resourceVersion", "0x0",
                    "must be specified for an update")));
        }
        if (precondition.isEmpty() && strategies.of(type).allowCreateOnUpdate()
                && find(type, namespace, name).isEmpty() && subresource.isEmpty()) {
            try {
                return create(type, namespace, body, opts);
            } catch (ApiException e) {
                if (e.code() != 409) throw e;
            }
        }
        return updateWith(type, namespace, name, subresource, opts, current -> body.deepCopy(), true);
    }

    /**
     * Read-modify-write of one object: {@code mutate} gets a copy of the current object (with its
     * resourceVersion) and returns the desired one. A desired resourceVersion other than the current one is a
     * failed precondition (409 Conflict); a concurrent change makes the mutation run again on the newer object.
     */
    public ObjectNode updateWith(ResourceType type, String namespace, String name, String subresource, WriteOptions opts,
                                 UnaryOperator<ObjectNode> mutate) {
        return updateWith(type, namespace, name, subresource, opts, mutate, false);
    }

    /**
     * Runs the resource's decoding step on a request body and enforces {@code fieldValidation}: unknown fields are
     * refused (Strict, 400 as kube-apiserver words it for a body, or for a patch's result) or reported as warnings (Warn).
     */
    private static void decode(ResourceType type, ResourceStrategy strategy, ObjectNode obj, WriteOptions opts, boolean body) {
        List<String> unknown = strategy.decode(type, obj);
        if (unknown.isEmpty()) return;
        switch (opts.fieldValidation()) {
            case STRICT -> {
                StringBuilder sb = new StringBuilder("strict decoding error: ");
                for (int i = 0; i < unknown.size(); i++) {
                    if (i > 0) sb.append(", ");
                    sb.append("unknown field \"").append(unknown.get(i)).append('"');
                }
                String msg = sb.toString();
                if (body) msg = type.kind() + " in version \"" + type.version() + "\" cannot be handled as a " + type.kind() + ": " + msg;
                throw ApiException.badRequest(msg);
            }
            case WARN -> unknown.forEach(f -> opts.warn("unknown field \"" + f + "\""));
            case IGNORE -> { }
        }
    }

    private ObjectNode updateWith(ResourceType type, String namespace, String name, String subresource, WriteOptions opts,
                                  UnaryOperator<ObjectNode> mutate, boolean put) {
        ResourceStrategy strategy = strategies.of(type);
        String key = type.key(namespace, name);
        for (int attempt = 0; ; attempt++) {
            KeyValue currentKv = store.get(key).orElseThrow(() -> ApiException.notFound(type.group(), type.plural(), name));
            ObjectNode current = withTypeMeta(type, strategy.onRead(type, WatchCache.decode(currentKv.value(), currentKv.modRevision())));
            ObjectNode desired = mutate.apply(current.deepCopy());
            checkTypeMeta(type, desired); // shapes first: a patch may have made metadata a string
            boolean binding = subresource.equals("binding");
            if (!binding) decode(type, strategy, desired, opts, put);
            ObjectNode dmeta = Meta.metadata(desired);
            String precondition = Json.text(dmeta, "resourceVersion");
            if (!precondition.isEmpty() && !precondition.equals(Long.toString(currentKv.modRevision()))) {
                throw ApiException.conflict(type.group(), type.plural(), name, CONFLICT_DETAIL);
            }
            // an unconditional update is validated as if it carried the version it replaces (genericregistry.Store.Update)
            if (precondition.isEmpty()) dmeta.put("resourceVersion", Long.toString(currentKv.modRevision()));
            checkIdentity(type, namespace, name, dmeta);
            ObjectNode updated = prepareUpdate(type, strategy, current, desired, subresource);
            // pods/binding sets spec.nodeName, which a pod update may not change: kube's BindingREST skips update validation
            List<Cause> causes = subresource.equals("status") ? strategy.validateStatusUpdate(type, updated, current)
                    : subresource.equals("binding") ? List.of() : strategy.validateUpdate(type, updated, current);
            if (!causes.isEmpty()) throw ApiException.invalid(type.group(), type.kind(), name, causes);
            // kube's BindingREST writes the pod directly: a binding leaves no managedFields entry on the pod
            if (!binding) managedFields.onWrite(type, current, updated, opts, subresource);
            if (sameObject(updated, current)) return current;
            if (opts.dryRun()) return updated;
            boolean finalize = Meta.deleting(updated) && Meta.finalizers(updated).isEmpty() && !strategy.deletionBlocked(updated)
                    && gracePeriodOver(updated);
            try {
                if (finalize) {
                    long rev = store.delete(key, currentKv.modRevision()).revision();
                    Meta.metadata(updated).put("resourceVersion", Long.toString(rev));
                    strategy.afterDelete(type, updated);
                    return updated;
                }
                strategy.allocate(type, updated, current);
                KeyValue kv;
                try {
                    kv = store.update(key, encode(updated), currentKv.modRevision());
                } catch (RuntimeException e) {
                    strategy.abort(type, updated, current);
                    throw e;
                }
                Meta.metadata(updated).put("resourceVersion", Long.toString(kv.modRevision()));
                strategy.committed(type, updated);
                return updated;
            } catch (RevisionConflictException e) {
                // run the mutation again on the newer object: a resourceVersion it carries then no longer
                // matches (409 above), while patches without one simply apply again, as kube-apiserver retries
                if (attempt >= MAX_RETRIES) throw ApiException.conflict(type.group(), type.plural(), name, CONFLICT_DETAIL);
            } catch (KeyNotFoundException e) {
                throw ApiException.notFound(type.group(), type.plural(), name);
            }
        }
    }

    /** A patch or apply may not rename or move the object: kube-apiserver's checkName. */
    private static void checkIdentity(ResourceType type, String namespace, String name, ObjectNode meta) {
        String bodyName = Json.text(meta, "name");
        if (!bodyName.isEmpty() && !bodyName.equals(name)) {
            throw ApiException.badRequest("the name of the object (" + bodyName + ") does not match the name on the URL (" + name + ")");
        }
        String bodyNamespace = Json.text(meta, "namespace");
        if (type.namespaced() && namespace != null && !bodyNamespace.isEmpty() && !bodyNamespace.equals(namespace)) {
            throw ApiException.badRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
    }

    private static boolean gracePeriodOver(ObjectNode obj) {
        JsonNode grace = Json.at(obj, "metadata", "deletionGracePeriodSeconds");
        return grace == null || grace.asLong() == 0;
    }

    /** Carries over what an update may not change and applies the strategy's update rules. */
    private ObjectNode prepareUpdate(ResourceType type, ResourceStrategy strategy, ObjectNode current, ObjectNode desired, String subresource) {
        ObjectNode updated;
        if (subresource.equals("status")) {
            updated = current.deepCopy();
            JsonNode status = desired.get("status");
            if (status == null) updated.remove("status");
            else updated.set("status", status.deepCopy());
            // which metadata a status update may change depends on the resource (pods, nodes... some; apps none)
            ObjectNode m = Meta.metadata(updated);
            ObjectNode dm = Meta.metadata(desired);
            for (String f : strategy.statusUpdateMetadata(type)) {
                if (dm.has(f)) m.set(f, dm.get(f).deepCopy());
                else m.remove(f);
            }
            if (dm.has("managedFields")) m.set("managedFields", dm.get("managedFields").deepCopy());
            return updated;
        }
        if (subresource.equals("binding")) {
            // pods/binding sets the node and the PodScheduled condition, nothing else (kube's BindingREST)
            updated = current.deepCopy();
            Json.obj(updated, "spec").put("nodeName", Json.text(desired.get("spec"), "nodeName"));
            JsonNode conditions = Json.at(desired, "status", "conditions");
            if (conditions != null) Json.obj(updated, "status").set("conditions", conditions.deepCopy());
            return updated;
        }
        if (subresource.equals("finalize")) {
            // a namespace's spec.finalizers change only here
            updated = current.deepCopy();
            JsonNode finalizers = Json.at(desired, "spec", "finalizers");
            if (finalizers == null) Json.obj(updated, "spec").remove("finalizers");
            else Json.obj(updated, "spec").set("finalizers", finalizers.deepCopy());
            return updated;
        }
        updated = desired;
        ObjectNode m = Meta.metadata(updated);
        ObjectNode cm = Meta.metadata(current);
        for (String f : new String[] {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name"}) {
            if (cm.has(f)) m.set(f, cm.get(f).deepCopy());
            else m.remove(f);
        }
        m.remove("selfLink");
        if (Meta.deleting(current)) {
            // new finalizers can't be added to an object being deleted
            List<String> old = Meta.finalizers(current);
            List<String> now = Meta.finalizers(updated);
            for (String f : now) {
                if (!old.contains(f)) {
                    throw ApiException.invalid(type.group(), type.kind(), Meta.name(current), List.of(Cause.forbidden("metadata.finalizers",
                            "no new finalizers can be added if the object is being deleted, found new finalizers []string{\"" + f + "\"}")));
                }
            }
        }
        strategy.prepareForUpdate(type, updated, current);
        strategy.defaults(type, updated);
        if (type.tracksGeneration() && specChanged(type, current, updated)) {
            m.put("generation", cm.path("generation").asLong(1) + 1);
        }
        return updated;
    }

    private static boolean specChanged(ResourceType type, ObjectNode current, ObjectNode updated) {
        ObjectNode a = current.deepCopy();
        ObjectNode b = updated.deepCopy();
        a.remove("metadata");
        b.remove("metadata");
        if (type.has("status")) {
            a.remove("status");
            b.remove("status");
        }
        return !a.equals(NUMBERS_BY_VALUE, b);
    }

    /**
     * Compares leaves the way decoded Go structs compare: a default filled in as a long equals the same number
     * parsed from JSON as an int, so re-sending an unchanged object is a no-op.
     */
    private static final java.util.Comparator<JsonNode> NUMBERS_BY_VALUE = (x, y) -> {
        if (x.equals(y)) return 0;
        if (x.isNumber() && y.isNumber()) return x.decimalValue().compareTo(y.decimalValue()) == 0 ? 0 : 1;
        return 1;
    };

    private static boolean sameObject(ObjectNode a, ObjectNode b) {
        ObjectNode x = a.deepCopy();
        ObjectNode y = b.deepCopy();
        Meta.metadata(x).remove("resourceVersion");
        Meta.metadata(y).remove("resourceVersion");
        Meta.metadata(x).remove("managedFields");
        Meta.metadata(y).remove("managedFields");
        return x.equals(NUMBERS_BY_VALUE, y);
    }

    /** The outcome of a delete: the object as it was deleted or as it now waits (terminating), and which. */
    public record Deleted(ObjectNode object, boolean removed) {}

    /**
     * Deletes an object: at once, or gracefully (pods on a node) or after its finalizers (which a
     * propagationPolicy may add) by setting deletionTimestamp.
     */
    public Deleted delete(ResourceType type, String namespace, String name, DeleteOptions opts) {
        ResourceStrategy strategy = strategies.of(type);
        String key = type.key(namespace, name);
        String policy = opts.propagationPolicy();
        if (policy != null && !policy.equals("Orphan") && !policy.equals("Background") && !policy.equals("Foreground")) {
            throw ApiException.invalid("", "DeleteOptions", "", List.of(Cause.notSupported("propagationPolicy", policy,
                    List.of("Foreground", "Background", "Orphan", "nil"))));
        }
        // rest.BeforeDelete: a negative grace period means the shortest graceful one
        Long requested = opts.gracePeriodSeconds();
        if (requested != null && requested < 0) requested = 1L;
        for (int attempt = 0; ; attempt++) {
            KeyValue kv = store.get(key).orElseThrow(() -> ApiException.notFound(type.group(), type.plural(), name));
            ObjectNode current = withTypeMeta(type, strategy.onRead(type, WatchCache.decode(kv.value(), kv.modRevision())));
            checkPreconditions(type, name, current, opts);
            ObjectNode updated = current.deepCopy();
            ObjectNode meta = Meta.metadata(updated);
            boolean wasDeleting = Meta.deleting(current);
            long storedGrace = meta.path("deletionGracePeriodSeconds").asLong(0);
            long grace;
            if (wasDeleting && storedGrace > 0) {
                // a graceful deletion is under way: only a shorter grace period changes it, counted from the
                // first request's time and never into the past (rest.BeforeDelete)
                if (requested == null || requested >= storedGrace) return new Deleted(current, false);
                Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
                Instant at = Instant.parse(Json.text(meta, "deletionTimestamp")).minusSeconds(storedGrace).plusSeconds(requested);
                grace = requested;
                if (at.isBefore(now)) {
                    at = now;
                    if (grace != 0) grace = 1;
                }
                meta.put("deletionTimestamp", Meta.timestamp(at));
                meta.put("deletionGracePeriodSeconds", grace);
            } else if (!wasDeleting && strategy.deletesGracefully(current)) {
                grace = requested != null ? requested : strategy.defaultGracePeriodSeconds(current);
            } else {
                grace = 0;
            }
            List<String> finalizers = new ArrayList<>(Meta.finalizers(updated));
            if ("Orphan".equals(policy) && !finalizers.contains("orphan")) {
                finalizers.remove("foregroundDeletion");
                finalizers.add("orphan");
            } else if ("Foreground".equals(policy) && !finalizers.contains("foregroundDeletion")) {
                finalizers.remove("orphan");
                finalizers.add("foregroundDeletion");
            } else if ("Background".equals(policy)) {
                finalizers.remove("orphan");
                finalizers.remove("foregroundDeletion");
            }
            if (finalizers.isEmpty() && grace == 0 && !strategy.deletionBlocked(current)) {
                if (opts.dryRun()) return new Deleted(current, true);
                try {
                    long rev = store.delete(key, kv.modRevision()).revision();
                    Meta.metadata(current).put("resourceVersion", Long.toString(rev));
                    strategy.afterDelete(type, current);
                    return new Deleted(current, true);
                } catch (RevisionConflictException e) {
                    if (attempt >= MAX_RETRIES) throw ApiException.conflict(type.group(), type.plural(), name, CONFLICT_DETAIL);
                    continue;
                } catch (KeyNotFoundException e) {
                    throw ApiException.notFound(type.group(), type.plural(), name);
                }
            }
            Meta.setFinalizers(updated, finalizers);
            strategy.markDeleting(updated);
            if (!wasDeleting) {
                meta.put("deletionTimestamp", Meta.timestamp(clock.instant().plusSeconds(grace)));
                meta.put("deletionGracePeriodSeconds", grace);
                // controllers see the deletion as a change of what they should do (markAsDeleting, rest.BeforeDelete)
                if (meta.path("generation").asLong(0) > 0) meta.put("generation", meta.get("generation").asLong() + 1);
            }
            if (sameObject(updated, current)) return new Deleted(current, false);
            if (opts.dryRun()) return new Deleted(updated, false);
            try {
                KeyValue nkv = store.update(key, encode(updated), kv.modRevision());
                meta.put("resourceVersion", Long.toString(nkv.modRevision()));
                return new Deleted(updated, false);
            } catch (RevisionConflictException e) {
                if (attempt >= MAX_RETRIES) throw ApiException.conflict(type.group(), type.plural(), name, CONFLICT_DETAIL);
            } catch (KeyNotFoundException e) {
                throw ApiException.notFound(type.group(), type.plural(), name);
            }
        }
    }

    /** rest.BeforeDelete's early check; its Conflict names the kind, not the resource. */
    private static void checkPreconditions(ResourceType type, String name, ObjectNode current, DeleteOptions opts) {
        if (opts.preconditionUid() != null && !opts.preconditionUid().equals(Meta.uid(current))) {
            throw ApiException.conflict(type.group(), type.kind(), name, "the UID in the precondition (" + opts.preconditionUid()
                    + ") does not match the UID in record (" + Meta.uid(current) + "). The object might have been deleted and then recreated");
        }
        if (opts.preconditionResourceVersion() != null && !opts.preconditionResourceVersion().equals(Meta.resourceVersion(current))) {
            throw ApiException.conflict(type.group(), type.kind(), name, "the ResourceVersion in the precondition ("
                    + opts.preconditionResourceVersion() + ") does not match the ResourceVersion in record (" + Meta.resourceVersion(current)
                    + "). The object might have been modified");
        }
    }

    // ---------------------------------------------------------------- helpers

    /** NamespaceLifecycle admission: 404 for a missing namespace, 403 for one being deleted. */
    private void requireNamespace(ResourceType type, String namespace, String name) {
        ResourceCache c = cache.cache("/registry/core/namespaces/");
        CachedObject ns = c.get("/registry/core/namespaces/" + namespace);
        if (ns == null) {
            cache.sync();
            ns = c.get("/registry/core/namespaces/" + namespace);
        }
        if (ns == null) throw ApiException.notFound("", "namespaces", namespace);
        if (Meta.deleting(ns.object()) || "Terminating".equals(Json.text(ns.object().get("status"), "phase"))) {
            // admission.NewForbidden names the object (its generateName when it has no name yet)
            throw ApiException.forbidden(type.qualifiedName() + " \"" + name + "\" is forbidden: unable to create new content in namespace "
                    + namespace + " because it is being terminated");
        }
    }

    private static void scope(ResourceType type, String namespace, ObjectNode meta) {
        if (type.namespaced()) {
            String ns = Json.text(meta, "namespace");
            if (ns.isEmpty()) meta.put("namespace", namespace);
            else if (!ns.equals(namespace)) {
                throw ApiException.badRequest("the namespace of the provided object does not match the namespace sent on the request");
            }
        } else {
            meta.remove("namespace");
        }
    }

    /**
     * Checks a request body's apiVersion, kind and metadata shape against the resource it was sent to, then
     * puts the resource's apiVersion and kind first.
     *
     * @throws ApiException 400 BadRequest when they don't match or have the wrong JSON types
     */
    public static void checkTypeMeta(ResourceType type, ObjectNode obj) {
        ObjectShapes.check(type.kind(), obj);
        String apiVersion = Json.text(obj, "apiVersion");
        String kind = Json.text(obj, "kind");
        if (!apiVersion.isEmpty() && !apiVersion.equals(type.apiVersion())) {
            throw ApiException.badRequest("the API version in the data (" + apiVersion + ") does not match the expected API version ("
                    + type.apiVersion() + ")");
        }
        if (!kind.isEmpty() && !kind.equals(type.kind())) {
            throw ApiException.badRequest("the kind in the data (" + kind + ") does not match the expected kind (" + type.kind() + ")");
        }
        withTypeMeta(type, obj);
    }

    /** Puts apiVersion and kind first, as kube-apiserver serializes objects. */
    public static ObjectNode withTypeMeta(ResourceType type, ObjectNode obj) {
        if (type.apiVersion().equals(Json.text(obj, "apiVersion")) && type.kind().equals(Json.text(obj, "kind"))) {
            java.util.Iterator<String> names = obj.fieldNames();
            if (names.hasNext() && names.next().equals("apiVersion") && names.hasNext() && names.next().equals("kind")) return obj;
        }
        ObjectNode copy = Json.object();
        copy.put("apiVersion", type.apiVersion());
        copy.put("kind", type.kind());
        obj.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("apiVersion") && !e.getKey().equals("kind")) copy.set(e.getKey(), e.getValue());
        });
        obj.removeAll();
        obj.setAll(copy);
        return obj;
    }

    /**
     * A random (version 4) UUID, as {@link UUID#randomUUID} makes, from a DRBG: as unpredictable, without the
     * read of /dev/urandom under a lock that the default SecureRandom does for each one.
     */
    private String newUid() {
        byte[] b = new byte[16];
        uidRandom.nextBytes(b);
        b[6] = (byte) ((b[6] & 0x0f) | 0x40);
        b[8] = (byte) ((b[8] & 0x3f) | 0x80);
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) msb = (msb << 8) | (b[i] & 0xff);
        for (int i = 8; i < 16; i++) lsb = (lsb << 8) | (b[i] & 0xff);
        return new UUID(msb, lsb).toString();
    }

    private static SecureRandom drbg() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (java.security.NoSuchAlgorithmException e) {
            return new SecureRandom();
        }
    }

    private String generateName(String base) {
        if (base.length() > 58) base = base.substring(0, 58);
        StringBuilder sb = new StringBuilder(base);
        // not secret (Kubernetes uses math/rand): the default SecureRandom's lock held up 148 threads of a busy server
        var random = java.util.concurrent.ThreadLocalRandom.current();
        for (int i = 0; i < 5; i++) sb.append(NAME_ALPHABET[random.nextInt(NAME_ALPHABET.length)]);
        return sb.toString();
    }

    /** The stored form: the object without resourceVersion (the store's revision is the source of truth). */
    static byte[] encode(ObjectNode obj) {
        ObjectNode meta = Meta.metadata(obj);
        JsonNode rv = meta.remove("resourceVersion");
        try {
            return Json.bytes(obj);
        } finally {
            if (rv != null) meta.set("resourceVersion", rv);
        }
    }

    /** Builds keys for continue tokens in kube-apiserver's format: base64 of {"v","rv","start"}. */
    record Continue(long revision, String start) {
        String encode() {
            ObjectNode n = Json.object();
            n.put("v", "meta.k8s.io/v1");
            n.put("rv", revision);
            n.put("start", start);
            return Base64.getUrlEncoder().encodeToString(Json.bytes(n));
        }

        static Continue decode(String token) {
            try {
                byte[] raw;
                try {
                    raw = Base64.getUrlDecoder().decode(token);
                } catch (IllegalArgumentException e) {
                    raw = Base64.getDecoder().decode(token);
                }
                JsonNode n = Json.MAPPER.readTree(new String(raw, StandardCharsets.UTF_8));
                if (!"meta.k8s.io/v1".equals(n.path("v").asText()) || !n.has("rv") || n.path("rv").asLong() <= 0) {
                    throw new IllegalArgumentException("bad continue token");
                }
                return new Continue(n.get("rv").asLong(), n.path("start").asText());
            } catch (Exception e) {
                throw ApiException.badRequest("continue key is not valid: " + e.getMessage());
            }
        }
    }

    /** Maintains metadata.managedFields on every write (server-side apply's bookkeeping). */
    public interface ManagedFieldsHook {
        void onWrite(ResourceType type, ObjectNode current, ObjectNode updated, WriteOptions opts, String subresource);

        ManagedFieldsHook NONE = (type, current, updated, opts, subresource) -> {};
    }
}
