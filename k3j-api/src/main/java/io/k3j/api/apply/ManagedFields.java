package io.k3j.api.apply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.GoJson;
import io.k3j.api.Json;
import io.k3j.api.patch.PatchSchema;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Server-side apply and {@code metadata.managedFields} tracking, as kube-apiserver's field manager does them
 * (k8s.io/apimachinery/pkg/util/managedfields, sigs.k8s.io/structured-merge-diff; KEP-555).
 *
 * <p>Every write goes through one of two entry points: {@link #trackUpdate} for create, update and non-apply
 * patches (operation {@code Update}), {@link #apply} for {@code application/apply-patch+yaml} (operation
 * {@code Apply}). Both take objects as JSON of the request's version and return a new object; inputs are not
 * modified. The wrapped behaviours, in kube-apiserver's order:
 * <ul>
 *   <li>managers are identified by name, operation, subresource and (for Update) apiVersion;</li>
 *   <li>apiVersion, kind and the server-owned metadata fields are never owned;</li>
 *   <li>an object without managedFields is not tracked by updates; the first apply first records its existing
 *       fields as owned by {@code before-first-apply};</li>
 *   <li>more than 10 Update managers are folded, oldest first, into {@code ancient-changes};</li>
 *   <li>apply by the manager {@code kubectl} may take over fields recorded in
 *       {@code kubectl.kubernetes.io/last-applied-configuration} (the client-side to server-side apply upgrade)
 *       and keeps that annotation, if present, in sync with the applied configuration.</li>
 * </ul>
 */
public final class ManagedFields {
    public static final String LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";
    static final int MAX_UPDATE_MANAGERS = 10;
    static final String BEFORE_FIRST_APPLY = "before-first-apply";
    static final String ANCIENT_CHANGES = "ancient-changes";
    private static final int FIELD_MANAGER_MAX_LENGTH = 128;
    private static final int ANNOTATIONS_MAX_BYTES = 256 * 1024;

    // Fields nobody owns: kube-apiserver strips these from the set of the manager that just wrote.
    private static final FieldSet STRIPPED = FieldSet.ofFields("apiVersion")
            .union(FieldSet.ofFields("kind"))
            .union(FieldSet.ofFields("metadata"))
            .union(meta("name")).union(meta("namespace")).union(meta("creationTimestamp")).union(meta("selfLink"))
            .union(meta("uid")).union(meta("clusterName")).union(meta("generation")).union(meta("managedFields"))
            .union(meta("resourceVersion"));

    private static FieldSet meta(String field) {
        return FieldSet.ofFields("metadata", field);
    }

    private final Clock clock;

    /** @param clock the source of the {@code time} of entries (truncated to seconds as Kubernetes serializes it) */
    public ManagedFields(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The manager name for a write without {@code ?fieldManager=}, derived from the User-Agent. */
    public static String managerOrUserAgent(String fieldManager, String userAgent) {
        return fieldManager != null && !fieldManager.isEmpty() ? fieldManager : managerFromUserAgent(userAgent);
    }

    /**
     * What kube-apiserver names a manager after a User-Agent: the part before the first {@code /}, without
     * non-printable characters, cut to 128 bytes. {@code kubectl/v1.30.0 (linux/amd64) kubernetes/7c48c2b}
     * becomes {@code kubectl}.
     */
    public static String managerFromUserAgent(String userAgent) {
        if (userAgent == null) return "";
        int slash = userAgent.indexOf('/');
        String prefix = slash < 0 ? userAgent : userAgent.substring(0, slash);
        StringBuilder sb = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < prefix.length(); ) {
            int cp = prefix.codePointAt(i);
            i += Character.charCount(cp);
            if (!Values.isPrint(cp)) continue;
            int len = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + len > FIELD_MANAGER_MAX_LENGTH) break;
            bytes += len;
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    /**
     * Validates the {@code fieldManager} query parameter as kube-apiserver validates {@code CreateOptions},
     * {@code UpdateOptions} and {@code PatchOptions}.
     *
     * @param optionsKind "CreateOptions", "UpdateOptions" or "PatchOptions"
     * @param applyPatch  whether this is an apply patch, which requires a field manager
     * @throws ApiException 422 Invalid ({@code PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required
     *                      value: is required for apply patch}) when missing for apply, too long or not printable
     */
    public static void validateFieldManager(String optionsKind, String fieldManager, boolean applyPatch) {
        List<ApiException.Cause> causes = new ArrayList<>();
        String fm = fieldManager == null ? "" : fieldManager;
        if (applyPatch && fm.isEmpty()) {
            causes.add(new ApiException.Cause("FieldValueRequired", "Required value: is required for apply patch", "fieldManager"));
        }
        if (fm.getBytes(StandardCharsets.UTF_8).length > FIELD_MANAGER_MAX_LENGTH) {
            causes.add(new ApiException.Cause("FieldValueTooLong",
                    "Too long: may not be more than " + FIELD_MANAGER_MAX_LENGTH + " bytes", "fieldManager"));
        }
        int position = 0;
        for (int i = 0; i < fm.length(); ) {
            int cp = fm.codePointAt(i);
            i += Character.charCount(cp);
            if (!Values.isPrint(cp)) {
                causes.add(new ApiException.Cause("FieldValueInvalid", "Invalid value: " + Values.goQuote(fm)
                        + ": invalid character " + String.format("U+%04X", cp) + " (at position " + position + ")", "fieldManager"));
            }
            position += new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
        }
        if (!causes.isEmpty()) throw ApiException.invalid("meta.k8s.io", optionsKind, "", causes);
    }

    // ---------------------------------------------------------------- Update

    /** {@link #trackUpdate(ObjectNode, ObjectNode, String, String, String, PatchSchema, FieldSet)} without reset fields. */
    public ObjectNode trackUpdate(ObjectNode oldObj, ObjectNode newObj, String manager, String apiVersion,
                                  String subresource, PatchSchema schema) {
        return trackUpdate(oldObj, newObj, manager, apiVersion, subresource, schema, FieldSet.empty());
    }

    /**
     * Records a create, update or non-apply patch: the fields that changed from {@code oldObj} to {@code newObj}
     * become owned by {@code manager} (an {@code Update} entry) and are taken from every other manager.
     *
     * <p>The managedFields to start from are the client's when it sent valid, non-empty ones (not for
     * subresources), none when it sent {@code []} or {@code [{}]} (a reset: the object is then no longer tracked),
     * else the old object's. An object that has no managedFields is not tracked on update.
     *
     * @param oldObj      the stored object, or null on create
     * @param newObj      the object about to be stored (after patching, defaulting and the strategy)
     * @param manager     the fieldManager, or {@link #managerFromUserAgent} of the request; "" becomes "unknown"
     * @param apiVersion  the group/version of the request, e.g. "apps/v1"
     * @param subresource "" or null for the main resource, else e.g. "status" or "scale"
     * @param resetFields fields the strategy resets for this endpoint (e.g. {@code status} on the main resource);
     *                    changes there are not owned by anyone
     * @return a copy of {@code newObj} with {@code metadata.managedFields} set (or removed when there are none)
     */
    public ObjectNode trackUpdate(ObjectNode oldObj, ObjectNode newObj, String manager, String apiVersion,
                                  String subresource, PatchSchema schema, FieldSet resetFields) {
        Objects.requireNonNull(newObj, "newObj");
        Objects.requireNonNull(apiVersion, "apiVersion");
        return track(oldObj, newObj, newObj.deepCopy(), manager, apiVersion, subresource, schema, resetFields);
    }

    /**
     * The {@code metadata.managedFields} that {@link #trackUpdate} would give {@code newObj}, or null for none,
     * without copying the object: for a caller that only stores them on its object. Nodes of the answer may be
     * shared with {@code newObj}'s managedFields; neither input is modified.
     */
    public JsonNode trackedManagedFields(ObjectNode oldObj, ObjectNode newObj, String manager, String apiVersion,
                                         String subresource, PatchSchema schema) {
        Objects.requireNonNull(newObj, "newObj");
        Objects.requireNonNull(apiVersion, "apiVersion");
        // only metadata.managedFields of the working object is written: a shallow copy with its own metadata will do
        ObjectNode work = newObj.objectNode();
        newObj.fields().forEachRemaining(e -> work.set(e.getKey(), e.getValue()));
        if (newObj.get("metadata") instanceof ObjectNode m) {
            ObjectNode meta = work.putObject("metadata");
            m.fields().forEachRemaining(e -> meta.set(e.getKey(), e.getValue()));
        }
        ObjectNode tracked = track(oldObj, newObj, work, manager, apiVersion, subresource, schema, FieldSet.empty());
        return managedFieldsOf(tracked);
    }

    /** {@link #trackUpdate} on {@code result}, a copy of {@code newObj} whose metadata.managedFields may be set. */
    private ObjectNode track(ObjectNode oldObj, ObjectNode newObj, ObjectNode result, String manager, String apiVersion,
                             String subresource, PatchSchema schema, FieldSet resetFields) {
        String sub = subresource == null ? "" : subresource;
        JsonNode liveMf = managedFieldsOf(oldObj);
        JsonNode newMf = managedFieldsOf(newObj);
        Map<Id, Entry> managed;
        if (!sub.isEmpty()) {
            managed = decodeOrEmpty(liveMf);
        } else if (isReset(newMf)) {
            managed = new LinkedHashMap<>();
        } else {
            Map<Id, Entry> fromNew;
            try {
                fromNew = newMf == null ? Map.of() : decode(newMf);
            } catch (IllegalArgumentException e) {
                fromNew = Map.of();
            }
            managed = fromNew.isEmpty() ? decodeOrEmpty(liveMf) : new LinkedHashMap<>(fromNew);
        }
        removeManagedFields(result);
        if (managed.isEmpty() && oldObj != null) return result;

        Typed typed = new Typed(schema);
        ObjectNode before = oldObj == null ? Json.object() : withoutManagedFields(oldObj);
        try {
            update(typed, before, result, managed, new Id(manager == null || manager.isEmpty() ? "unknown" : manager, "Update", apiVersion, sub),
                    apiVersion, resetFields);
        } catch (Typed.TypeError e) {
            // kube-apiserver's UpdateNoErrors: never fail a write over bookkeeping, keep the previous entries.
            if (liveMf != null) Json.obj(result, "metadata").set("managedFields", liveMf.deepCopy());
            return result;
        }
        capUpdateManagers(managed);
        setManagedFields(result, managed);
        return result;
    }

    private void update(Typed typed, JsonNode before, JsonNode after, Map<Id, Entry> managed, Id id,
                        String apiVersion, FieldSet resetFields) {
        Typed.Comparison cmp = typed.compare(before, after).without(resetFields);
        // The writer's own entry is reduced too (kube-apiserver updates as "current-operation", then merges back).
        takeFromOthers(managed, null, cmp.changed(), cmp.removed());
        FieldSet mine = cmp.changed().difference(STRIPPED);
        if (!mine.isEmpty()) {
            Entry prev = managed.get(id);
            managed.put(id, new Entry(prev == null ? mine : mine.union(prev.set()), apiVersion, now()));
        }
    }

    private static void takeFromOthers(Map<Id, Entry> managed, Id self, FieldSet changed, FieldSet removed) {
        for (Iterator<Map.Entry<Id, Entry>> it = managed.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Id, Entry> e = it.next();
            if (e.getKey().equals(self)) continue;
            FieldSet s = e.getValue().set().difference(changed).difference(removed);
            if (s.isEmpty()) it.remove();
            else e.setValue(e.getValue().withSet(s));
        }
    }

    /** Folds the oldest Update entries into "ancient-changes" so that at most 10 remain (capmanagers.go). */
    static void capUpdateManagers(Map<Id, Entry> managed) {
        List<Id> updaters = new ArrayList<>();
        managed.forEach((id, e) -> {
            if (id.operation().equals("Update")) updaters.add(id);
        });
        if (updaters.size() <= MAX_UPDATE_MANAGERS) return;
        updaters.sort(Comparator.comparingLong((Id id) -> seconds(managed.get(id).time())).thenComparing(Id::identifier));
        Map<String, Id> firstOfVersion = new HashMap<>();
        int length = updaters.size();
        for (int i = 0; i < updaters.size() && length > MAX_UPDATE_MANAGERS; i++) {
            Id id = updaters.get(i);
            Entry e = managed.get(id);
            String version = e.apiVersion();
            Id bucket = new Id(ANCIENT_CHANGES, "Update", version, "");
            Id first = firstOfVersion.get(version);
            if (first == null) {
                firstOfVersion.put(version, id);
                continue;
            }
            if (!managed.containsKey(bucket)) managed.put(bucket, managed.remove(first));
            Entry b = managed.get(bucket);
            managed.put(bucket, new Entry(e.set().union(b.set()), version, e.time()));
            managed.remove(id);
            length--;
        }
    }

    // ---------------------------------------------------------------- Apply

    /** {@link #apply(ObjectNode, ObjectNode, String, boolean, String, String, PatchSchema, FieldSet)} without reset fields. */
    public ApplyResult apply(ObjectNode live, ObjectNode applied, String manager, boolean force, String apiVersion,
                             String subresource, PatchSchema schema) {
        return apply(live, applied, manager, force, apiVersion, subresource, schema, FieldSet.empty());
    }

    /**
     * Server-side apply of {@code applied} (the parsed {@code application/apply-patch+yaml} body) onto
     * {@code live}: merges it per the schema's list and map types, makes {@code manager} own exactly the fields
     * it applied (an {@code Apply} entry), removes fields it applied before and no longer does unless another
     * manager owns them, and fails on fields another manager owns with a different value unless {@code force}.
     *
     * @param live        the stored object, or null when apply creates it
     * @param resetFields fields the strategy resets for this endpoint; they are not owned
     * @throws ApiException 409 Conflict listing each conflicting field (reason FieldManagerConflict);
     *                      422 when {@code manager} is empty; 400 when the applied object's apiVersion or kind is
     *                      not the endpoint's or it carries managedFields; 500 when a list has duplicate items or
     *                      list-map items without keys
     */
    public ApplyResult apply(ObjectNode live, ObjectNode applied, String manager, boolean force, String apiVersion,
                             String subresource, PatchSchema schema, FieldSet resetFields) {
        Objects.requireNonNull(applied, "applied");
        Objects.requireNonNull(apiVersion, "apiVersion");
        validateFieldManager("PatchOptions", manager, true);
        String sub = subresource == null ? "" : subresource;
        String appliedVersion = Json.text(applied, "apiVersion");
        String appliedKind = Json.text(applied, "kind");
        if (!appliedVersion.equals(apiVersion) || (live != null && !appliedKind.equals(Json.text(live, "kind")))) {
            throw ApiException.badRequest("invalid object type: " + gvk(appliedVersion, appliedKind));
        }
        JsonNode appliedMf = managedFieldsOf(applied);
        if (appliedMf != null && !appliedMf.isNull()) throw ApiException.badRequest("metadata.managedFields must be nil");

        Typed typed = new Typed(schema);
        ObjectNode liveWork = live == null ? Json.object() : withoutManagedFields(live);
        Map<Id, Entry> managed = decodeOrEmpty(managedFieldsOf(live));
        Outcome outcome;
        try {
            try {
                outcome = applyOnce(typed, liveWork, applied, managed, manager, force, apiVersion, sub, resetFields);
            } catch (Conflicts c) {
                // The upgrade from client-side apply: kubectl may take what its last-applied annotation says it set.
                if (!"kubectl".equals(manager)) throw c.toApiException();
                FieldSet allowed = lastAppliedFields(typed, liveWork, apiVersion);
                if (allowed == null) throw c.toApiException();
                Conflicts remaining = c.without(allowed);
                if (!remaining.isEmpty()) throw remaining.toApiException();
                outcome = applyOnce(typed, liveWork, applied, managed, manager, true, apiVersion, sub, resetFields);
            }
        } catch (Typed.TypeError e) {
            String ns = Json.text(Json.at(applied, "metadata"), "namespace");
            String name = Json.text(Json.at(applied, "metadata"), "name");
            throw ApiException.of(400, "BadRequest", "failed to create typed patch object (" + ns + "/" + name + "; "
                    + gvk(appliedVersion, appliedKind) + "): " + e.getMessage());
        }
        ObjectNode result = outcome.object();
        if ("kubectl".equals(manager) && !Json.text(Json.at(result, "metadata", "annotations"), LAST_APPLIED_ANNOTATION).isEmpty()) {
            setLastApplied(result, lastAppliedOf(applied));
        }
        setManagedFields(result, outcome.managed());
        return new ApplyResult(result, outcome.changed());
    }

    private record Outcome(ObjectNode object, Map<Id, Entry> managed, boolean changed) {}

    private Outcome applyOnce(Typed typed, ObjectNode live, ObjectNode applied, Map<Id, Entry> managed0, String manager,
                              boolean force, String apiVersion, String sub, FieldSet resetFields) {
        Map<Id, Entry> managed = new LinkedHashMap<>(managed0);
        if (managed.isEmpty()) {
            // Fields set before anyone applied belong to someone, so that apply can conflict with them.
            update(typed, Json.object(), live, managed, new Id(BEFORE_FIRST_APPLY, "Update", apiVersion, sub), apiVersion, resetFields);
            capUpdateManagers(managed);
        }
        Id id = new Id(manager, "Apply", null, sub);
        JsonNode merged = typed.merge(live, applied);
        Entry last = managed.get(id);
        FieldSet set = typed.toFieldSet(applied).recursiveDifference(resetFields);
        managed.put(id, new Entry(set, apiVersion, last == null ? null : last.time()));
        JsonNode pruned = prune(typed, merged, managed, last == null ? null : last.set());

        Typed.Comparison cmp = typed.compare(live, pruned).without(resetFields);
        FieldSet changed = cmp.changed();
        Map<Id, FieldSet> conflicts = new TreeMap<>(Comparator.comparing(Id::identifier));
        managed.forEach((other, e) -> {
            if (other.equals(id)) return;
            FieldSet c = e.set().intersection(changed);
            if (!c.isEmpty()) conflicts.put(other, c);
        });
        if (!force && !conflicts.isEmpty()) throw new Conflicts(conflicts, managed);
        takeFromOthers(managed, id, changed, cmp.removed());
        Entry mine = managed.get(id);
        FieldSet kept = mine.set().difference(STRIPPED);
        boolean objectChanged = !Values.equal(live, pruned);
        if (kept.isEmpty()) managed.remove(id);
        else managed.put(id, new Entry(kept, apiVersion, objectChanged ? now() : mine.time()));
        ObjectNode object = objectChanged ? (ObjectNode) pruned : live.deepCopy();
        return new Outcome(object, managed, objectChanged);
    }

    /**
     * Removes what the applier applied last time and no longer applies, unless someone (the applier now
     * included) still owns it; fields nobody owned stay (structured-merge-diff's prune, addBackOwnedItems and
     * addBackDanglingItems).
     */
    private static JsonNode prune(Typed typed, JsonNode merged, Map<Id, Entry> managed, FieldSet lastSet) {
        if (lastSet == null || lastSet.isEmpty()) return merged;
        FieldSet last = typed.ensureNamedFieldsAreMembers(lastSet);
        JsonNode pruned = typed.removeItems(merged, last);
        FieldSet owned = FieldSet.empty();
        for (Entry e : managed.values()) owned = owned.union(e.set());
        FieldSet mergedSet = typed.ensureNamedFieldsAreMembers(typed.toFieldSet(merged));
        FieldSet prunedSet = typed.ensureNamedFieldsAreMembers(typed.toFieldSet(pruned));
        pruned = typed.removeItems(merged, mergedSet.difference(prunedSet.union(typed.ensureNamedFieldsAreMembers(owned))));
        prunedSet = typed.ensureNamedFieldsAreMembers(typed.toFieldSet(pruned));
        return typed.removeItems(merged, mergedSet.difference(prunedSet).intersection(last));
    }

    /** Fields the last-applied annotation records with the value they still have (lastappliedmanager.go). */
    private static FieldSet lastAppliedFields(Typed typed, ObjectNode live, String apiVersion) {
        String text = Json.text(Json.at(live, "metadata", "annotations"), LAST_APPLIED_ANNOTATION);
        if (text.isEmpty()) return null;
        try {
            JsonNode lastApplied = Json.MAPPER.readTree(text);
            if (!(lastApplied instanceof ObjectNode) || !apiVersion.equals(Json.text(lastApplied, "apiVersion"))) return null;
            FieldSet set = typed.toFieldSet(lastApplied);
            Typed.Comparison cmp = typed.compare(lastApplied, live);
            return set.difference(cmp.modified()).difference(cmp.added()).difference(cmp.removed());
        } catch (Exception e) {
            return null;
        }
    }

    /** The annotation value kube-apiserver writes: the applied object without the annotation, as Go encodes it. */
    static String lastAppliedOf(ObjectNode applied) {
        ObjectNode copy = applied.deepCopy();
        JsonNode annotations = Json.at(copy, "metadata", "annotations");
        if (annotations instanceof ObjectNode a) a.remove(LAST_APPLIED_ANNOTATION);
        return Values.goJson(copy) + "\n";
    }

    private static void setLastApplied(ObjectNode object, String value) {
        ObjectNode annotations = Json.obj(Json.obj(object, "metadata"), "annotations");
        annotations.put(LAST_APPLIED_ANNOTATION, value);
        long size = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = annotations.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            size += e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().asText().getBytes(StandardCharsets.UTF_8).length;
        }
        if (size > ANNOTATIONS_MAX_BYTES) annotations.remove(LAST_APPLIED_ANNOTATION);
    }

    /** Apply conflicts, by manager; becomes the 409 kube-apiserver answers. */
    private static final class Conflicts extends RuntimeException {
        private final Map<Id, FieldSet> byManager;
        private final Map<Id, Entry> managed;

        Conflicts(Map<Id, FieldSet> byManager, Map<Id, Entry> managed) {
            super(null, null, false, false);
            this.byManager = byManager;
            this.managed = managed;
        }

        boolean isEmpty() {
            return byManager.isEmpty();
        }

        Conflicts without(FieldSet allowed) {
            Map<Id, FieldSet> left = new TreeMap<>(Comparator.comparing(Id::identifier));
            byManager.forEach((id, set) -> {
                FieldSet.Builder b = new FieldSet.Builder();
                for (List<PathElement> p : set.paths()) if (!allowed.contains(p)) b.add(p);
                FieldSet s = b.build();
                if (!s.isEmpty()) left.put(id, s);
            });
            return new Conflicts(left, managed);
        }

        ApiException toApiException() {
            List<ApiException.Cause> causes = new ArrayList<>();
            List<String> lines = new ArrayList<>();
            int count = 0;
            String single = null;
            for (Map.Entry<Id, FieldSet> e : byManager.entrySet()) {
                String who = e.getKey().print(managed.get(e.getKey()));
                lines.add("conflicts with " + who + ":");
                for (List<PathElement> p : e.getValue().paths()) {
                    String path = FieldSet.pathString(p);
                    causes.add(new ApiException.Cause("FieldManagerConflict", "conflict with " + who, path));
                    lines.add("- " + path);
                    single = "conflict with " + who + ": " + path;
                    count++;
                }
            }
            String message = count == 1 ? "Apply failed with 1 conflict: " + single
                    : "Apply failed with " + count + " conflicts: " + String.join("\n", lines);
            return ApiException.applyConflict(null, null, null, message, causes);
        }
    }

    // ---------------------------------------------------------------- encoding

    /** A manager's identity: entries with the same identity are one entry. */
    record Id(String manager, String operation, String apiVersion, String subresource) {
        Id {
            // Apply entries are one per manager whatever the version; Update entries are per version.
            if (operation.equals("Apply")) apiVersion = null;
            subresource = subresource == null ? "" : subresource;
        }

        // Written out: entries are hashed on every write, and the generated versions (invokedynamic) stayed
        // interpreted through method handles for thousands of writes after start in profiles.
        @Override
        public boolean equals(Object o) {
            return o instanceof Id other && Objects.equals(manager, other.manager) && operation.equals(other.operation)
                    && Objects.equals(apiVersion, other.apiVersion) && subresource.equals(other.subresource);
        }

        @Override
        public int hashCode() {
            int h = Objects.hashCode(manager);
            h = 31 * h + operation.hashCode();
            h = 31 * h + (apiVersion == null ? 0 : apiVersion.hashCode());
            return 31 * h + subresource.hashCode();
        }

        /** The JSON kube-apiserver uses as the identity (BuildManagerIdentifier); sorts conflicts and caps. */
        String identifier() {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (String[] kv : new String[][]{{"manager", manager}, {"operation", operation}, {"apiVersion", apiVersion},
                    {"subresource", subresource}}) {
                if (kv[1] == null || kv[1].isEmpty()) continue;
                if (!first) sb.append(',');
                first = false;
                sb.append('"').append(kv[0]).append("\":");
                GoJson.appendString(sb, kv[1]);
            }
            return sb.append('}').toString();
        }

        /** How a conflict names this manager: {@code "kubectl-client-side-apply" using apps/v1}. */
        String print(Entry entry) {
            String s = Values.goQuote(manager);
            if (!subresource.isEmpty()) s += " with subresource " + Values.goQuote(subresource);
            if (operation.equals("Update")) s += " using " + apiVersion;
            return s;
        }
    }

    record Entry(FieldSet set, String apiVersion, Instant time) {
        Entry withSet(FieldSet s) {
            return new Entry(s, apiVersion, time);
        }
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.SECONDS);
    }

    private static long seconds(Instant t) {
        return t == null ? 0 : t.getEpochSecond();
    }

    private static String gvk(String apiVersion, String kind) {
        int slash = apiVersion.indexOf('/');
        String gv = slash < 0 ? "/" + apiVersion : apiVersion;
        return gv + ", Kind=" + kind;
    }

    private static JsonNode managedFieldsOf(JsonNode obj) {
        if (obj == null) return null;
        JsonNode meta = obj.get("metadata");
        return meta == null || !meta.isObject() ? null : meta.get("managedFields");
    }

    private static ObjectNode withoutManagedFields(ObjectNode obj) {
        ObjectNode copy = obj.deepCopy();
        removeManagedFields(copy);
        return copy;
    }

    private static void removeManagedFields(ObjectNode obj) {
        if (obj.get("metadata") instanceof ObjectNode m) m.remove("managedFields");
    }

    /** {@code []} or {@code [{}]}: the client asks to drop all managedFields (isResetManagedFields). */
    private static boolean isReset(JsonNode mf) {
        if (mf == null || !mf.isArray()) return false;
        return mf.isEmpty() || (mf.size() == 1 && mf.get(0).isObject() && mf.get(0).isEmpty());
    }

    private static Map<Id, Entry> decodeOrEmpty(JsonNode mf) {
        if (mf == null || mf.isNull()) return new LinkedHashMap<>();
        try {
            return decode(mf);
        } catch (IllegalArgumentException e) {
            return new LinkedHashMap<>();
        }
    }

    /**
     * Parses {@code metadata.managedFields}.
     *
     * @throws IllegalArgumentException on an entry kube-apiserver would not decode
     */
    static Map<Id, Entry> decode(JsonNode mf) {
        Map<Id, Entry> out = new LinkedHashMap<>();
        if (mf == null || mf.isNull()) return out;
        if (!mf.isArray()) throw new IllegalArgumentException("managedFields must be a list");
        int i = 0;
        for (JsonNode e : mf) {
            if (!e.isObject()) throw new IllegalArgumentException("managed fields entry " + i + " is not an object");
            String operation = Json.text(e, "operation");
            if (!operation.equals("Apply") && !operation.equals("Update")) {
                throw new IllegalArgumentException("operation must be `Apply` or `Update`");
            }
            String apiVersion = Json.text(e, "apiVersion");
            if (apiVersion.isEmpty()) throw new IllegalArgumentException("apiVersion must not be empty");
            String fieldsType = Json.text(e, "fieldsType");
            if (fieldsType.isEmpty()) throw new IllegalArgumentException("missing fieldsType in managed fields entry " + i);
            if (!fieldsType.equals("FieldsV1")) {
                throw new IllegalArgumentException("invalid fieldsType \"" + fieldsType + "\" in managed fields entry " + i);
            }
            Instant time = null;
            String t = Json.text(e, "time");
            if (!t.isEmpty()) {
                try {
                    time = Instant.parse(t);
                } catch (DateTimeParseException ex) {
                    throw new IllegalArgumentException("bad time in managed fields entry " + i);
                }
            }
            Id id = new Id(Json.text(e, "manager"), operation, apiVersion, Json.text(e, "subresource"));
            out.put(id, new Entry(FieldSet.fromFieldsV1(e.get("fieldsV1")), apiVersion, time));
            i++;
        }
        return out;
    }

    /**
     * Serializes entries as kube-apiserver does: sorted by operation (Apply first), time, manager, apiVersion,
     * subresource; fields in ManagedFieldsEntry order. Null when there are none (the field is then omitted).
     */
    static ArrayNode encode(Map<Id, Entry> managed) {
        if (managed.isEmpty()) return null;
        List<Map.Entry<Id, Entry>> entries = new ArrayList<>(managed.entrySet());
        entries.sort(Comparator.<Map.Entry<Id, Entry>, String>comparing(e -> e.getKey().operation())
                .thenComparingLong(e -> seconds(e.getValue().time()))
                .thenComparing(e -> e.getKey().manager())
                .thenComparing(e -> e.getValue().apiVersion())
                .thenComparing(e -> e.getKey().subresource()));
        ArrayNode out = Json.array();
        for (Map.Entry<Id, Entry> e : entries) {
            ObjectNode o = out.addObject();
            if (!e.getKey().manager().isEmpty()) o.put("manager", e.getKey().manager());
            o.put("operation", e.getKey().operation());
            o.put("apiVersion", e.getValue().apiVersion());
            if (e.getValue().time() != null) o.put("time", e.getValue().time().truncatedTo(ChronoUnit.SECONDS).toString());
            o.put("fieldsType", "FieldsV1");
            o.set("fieldsV1", e.getValue().set().toFieldsV1());
            if (!e.getKey().subresource().isEmpty()) o.put("subresource", e.getKey().subresource());
        }
        return out;
    }

    private static void setManagedFields(ObjectNode object, Map<Id, Entry> managed) {
        ArrayNode encoded = encode(managed);
        if (encoded == null) {
            removeManagedFields(object);
        } else {
            Json.obj(object, "metadata").set("managedFields", encoded);
        }
    }
}
