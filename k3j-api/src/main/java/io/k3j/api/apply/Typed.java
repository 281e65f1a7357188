package io.k3j.api.apply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.patch.PatchSchema;
import io.k3j.api.patch.PatchSchema.FieldMeta;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The schema-aware walks of structured-merge-diff over JSON trees: field sets, comparison, merge and removal.
 * Shapes come from {@link PatchSchema}; where it says nothing an object is a granular map whose entries are owned
 * one by one and a list is atomic, which is what structured-merge-diff does for deduced types.
 */
final class Typed {

    /** A walk failed on malformed input (a list-map item without keys, duplicate items in an applied list). */
    static final class TypeError extends RuntimeException {
        TypeError(String message) {
            super(message, null, false, false);
        }
    }

    enum Form { STRUCT, MAP, SET, LIST_MAP, LEAF }

    /** How a value at one position merges; {@code path} is the schema path (field names, list items implied). */
    record Shape(Form form, List<String> path, List<String> keys) {}

    /** Fields added, modified and removed between two objects. */
    record Comparison(FieldSet added, FieldSet modified, FieldSet removed) {
        FieldSet changed() {
            return added.union(modified);
        }

        Comparison without(FieldSet ignored) {
            if (ignored == null || ignored.isEmpty()) return this;
            return new Comparison(added.recursiveDifference(ignored), modified.recursiveDifference(ignored),
                    removed.recursiveDifference(ignored));
        }
    }

    private static final Shape LEAF = new Shape(Form.LEAF, List.of(), List.of());
    private static final Shape DEDUCED_MAP = new Shape(Form.MAP, List.of(), List.of());

    private final PatchSchema schema;
    private final ApplySchema extra;

    Typed(PatchSchema schema) {
        this.schema = schema == null ? PatchSchema.NONE : schema;
        this.extra = this.schema instanceof ApplySchema a ? a : new ApplySchema() {};
    }

    // ---- shapes ----

    Shape root() {
        boolean typed = schema.field(List.of()).kind() == PatchSchema.Kind.OBJECT
                || schema.field(List.of("metadata")).kind() != PatchSchema.Kind.UNKNOWN;
        return typed ? new Shape(Form.STRUCT, List.of(), List.of()) : DEDUCED_MAP;
    }

    private static Shape deduced(JsonNode hint) {
        return hint != null && hint.isObject() ? DEDUCED_MAP : LEAF;
    }

    /** The shape of field {@code name} of an object of shape {@code parent}; hint is its value when known. */
    Shape child(Shape parent, String name, JsonNode hint) {
        if (parent.form != Form.STRUCT) return deduced(hint);
        List<String> path = new ArrayList<>(parent.path);
        path.add(name);
        return fromMeta(List.copyOf(path), schema.field(path), hint == null ? null : hint.isObject(),
                hint != null && hint.isArray());
    }

    private Shape fromMeta(List<String> path, FieldMeta meta, Boolean hintObject, boolean hintArray) {
        boolean objectHint = Boolean.TRUE.equals(hintObject);
        boolean listy = hintArray || meta.kind() == PatchSchema.Kind.LIST || meta.listType() != null;
        if (listy && !objectHint) {
            String lt = meta.listType();
            if (lt == null && meta.patchStrategy() != null
                    && (meta.patchStrategy().equals("merge") || meta.patchStrategy().equals("merge,retainKeys"))) {
                // kube-openapi's schemaconv: without x-kubernetes-list-type, a "merge" patch strategy makes the
                // list associative, keyed by the patch merge key, or a set without one.
                return meta.patchMergeKey() != null ? new Shape(Form.LIST_MAP, path, List.of(meta.patchMergeKey()))
                        : new Shape(Form.SET, path, List.of());
            }
            if ("set".equals(lt)) return new Shape(Form.SET, path, List.of());
            if ("map".equals(lt) && !meta.listMapKeys().isEmpty()) return new Shape(Form.LIST_MAP, path, meta.listMapKeys());
            return LEAF;
        }
        if (hintArray) return LEAF;
        if ("atomic".equals(meta.mapType())) return LEAF;
        return switch (meta.kind()) {
            case OBJECT -> new Shape(Form.STRUCT, path, List.of());
            case MAP -> DEDUCED_MAP;
            case UNKNOWN -> hintObject == null || objectHint ? DEDUCED_MAP : LEAF;
            default -> LEAF;
        };
    }

    private static Shape item(Shape list, JsonNode item) {
        if (list.form == Form.LIST_MAP && (item == null || item.isObject())) return new Shape(Form.STRUCT, list.path, List.of());
        return LEAF;
    }

    private static boolean fits(Shape s, JsonNode v) {
        return switch (s.form) {
            case STRUCT, MAP -> v.isObject();
            case SET, LIST_MAP -> v.isArray();
            case LEAF -> false;
        };
    }

    private static boolean emptyish(JsonNode v) {
        return v == null || v.isNull() || (v.isContainerNode() && v.isEmpty());
    }

    private static List<PathElement> plus(List<PathElement> path, PathElement pe) {
        List<PathElement> p = new ArrayList<>(path.size() + 1);
        p.addAll(path);
        p.add(pe);
        return p;
    }

    private static String where(List<PathElement> path) {
        return path.isEmpty() ? "" : FieldSet.pathString(path) + ": ";
    }

    /** The path element of a list item: its keys for a list-map, its value for a set. */
    PathElement itemElement(Shape list, JsonNode item, List<PathElement> path, int index) {
        if (list.form == Form.LIST_MAP) {
            if (item == null || item.isNull()) throw new TypeError(where(path) + "element " + index
                    + ": associative list with keys may not have a null element");
            if (!item.isObject()) throw new TypeError(where(path) + "element " + index
                    + ": associative list with keys may not have non-map elements");
            ObjectNode key = Json.object();
            for (String k : list.keys) {
                JsonNode v = item.get(k);
                if (v == null) v = extra.listKeyDefault(list.path, k);
                if (v != null) key.set(k, v);
            }
            if (key.isEmpty()) {
                List<String> quoted = list.keys.stream().map(Values::goQuote).toList();
                throw new TypeError(where(path) + "element " + index + ": associative list with keys has an element that omits all key fields ["
                        + String.join(" ", quoted) + "] (and doesn't have default values for any key fields)");
            }
            return PathElement.key(key);
        }
        if (item == null || item.isObject()) throw new TypeError(where(path) + "element " + index
                + ": associative list without keys has an element that's a map type");
        if (item.isArray()) throw new TypeError(where(path) + "element " + index
                + ": not supported: associative list with lists as elements");
        if (item.isNull()) throw new TypeError(where(path) + "element " + index
                + ": associative list without keys has an element that's an explicit null");
        return PathElement.value(item);
    }

    // ---- field sets ----

    /** The set of fields {@code object} sets (structured-merge-diff's ToFieldSet). */
    FieldSet toFieldSet(JsonNode object) {
        FieldSet.Builder b = new FieldSet.Builder();
        toSet(object, root(), List.of(), b);
        return b.build();
    }

    private void toSet(JsonNode v, Shape s, List<PathElement> path, FieldSet.Builder b) {
        switch (s.form) {
            case LEAF -> b.add(path);
            case STRUCT, MAP -> {
                if (!v.isObject()) {
                    b.add(path);
                    return;
                }
                for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    JsonNode cv = e.getValue();
                    List<PathElement> cp = plus(path, PathElement.field(e.getKey()));
                    toSet(cv, child(s, e.getKey(), cv), cp, b);
                    // Null and empty values are owned as such; map entries (unlike struct fields) always are.
                    if (cv.isNull() || (cv.isObject() && cv.isEmpty()) || s.form == Form.MAP) b.add(cp);
                }
            }
            case SET, LIST_MAP -> {
                if (!v.isArray()) {
                    if (!v.isNull()) b.add(path);
                    return;
                }
                Map<PathElement, Integer> seen = new HashMap<>();
                List<PathElement> pes = new ArrayList<>();
                for (int i = 0; i < v.size(); i++) {
                    PathElement pe = itemElement(s, v.get(i), path, i);
                    pes.add(pe);
                    seen.merge(pe, 1, Integer::sum);
                }
                for (int i = 0; i < v.size(); i++) {
                    PathElement pe = pes.get(i);
                    List<PathElement> cp = plus(path, pe);
                    if (seen.get(pe) > 1) {
                        b.add(cp);
                        continue;
                    }
                    toSet(v.get(i), item(s, v.get(i)), cp, b);
                    b.add(cp);
                }
            }
        }
    }

    /** Makes every struct field with owned descendants a member too (structured-merge-diff's EnsureNamedFieldsAreMembers). */
    FieldSet ensureNamedFieldsAreMembers(FieldSet set) {
        FieldSet.Builder b = new FieldSet.Builder();
        ensureNamed(set, root(), new ArrayList<>(), b);
        return b.build();
    }

    private void ensureNamed(FieldSet set, Shape s, List<PathElement> path, FieldSet.Builder b) {
        for (PathElement m : set.memberElements()) b.add(plus(path, m));
        for (Map.Entry<PathElement, FieldSet> c : set.childSets().entrySet()) {
            PathElement pe = c.getKey();
            Shape cs;
            if (pe.type() == PathElement.Type.FIELD) {
                if (s.form == Form.STRUCT) b.add(plus(path, pe));
                boolean keyed = hasItemElements(c.getValue());
                List<String> cp = append(s.path, pe.fieldName());
                cs = s.form == Form.STRUCT ? fromMeta(List.copyOf(cp), schema.field(cp), !keyed, keyed) : DEDUCED_MAP;
            } else {
                cs = item(s, null);
            }
            path.add(pe);
            ensureNamed(c.getValue(), cs, path, b);
            path.remove(path.size() - 1);
        }
    }

    private static boolean hasItemElements(FieldSet set) {
        for (PathElement m : set.memberElements()) if (m.type() != PathElement.Type.FIELD) return true;
        for (PathElement c : set.childSets().keySet()) if (c.type() != PathElement.Type.FIELD) return true;
        return false;
    }

    private static List<String> append(List<String> path, String name) {
        List<String> p = new ArrayList<>(path);
        p.add(name);
        return p;
    }

    // ---- comparison ----

    /** What changed from {@code lhs} to {@code rhs} (structured-merge-diff's Compare). */
    Comparison compare(JsonNode lhs, JsonNode rhs) {
        FieldSet.Builder added = new FieldSet.Builder(), modified = new FieldSet.Builder(), removed = new FieldSet.Builder();
        cmp(lhs, rhs, root(), new ArrayList<>(), added, modified, removed);
        return new Comparison(added.build(), modified.build(), removed.build());
    }

    private void cmp(JsonNode l, JsonNode r, Shape s, List<PathElement> path,
                     FieldSet.Builder added, FieldSet.Builder modified, FieldSet.Builder removed) {
        if (l == null && r == null) return;
        JsonNode present = r != null ? r : l;
        boolean leaf = !fits(s, present) || (l != null && !fits(s, l)) || (r != null && !fits(s, r))
                || (emptyish(l) && emptyish(r));
        if (leaf) {
            if (l == null) added.add(path);
            else if (r == null) removed.add(path);
            else if (!Values.equal(l, r)) modified.add(path);
            return;
        }
        if (s.form == Form.STRUCT || s.form == Form.MAP) {
            Set<String> keys = new LinkedHashSet<>();
            if (l != null) l.fieldNames().forEachRemaining(keys::add);
            if (r != null) r.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                JsonNode lc = l == null ? null : l.get(k);
                JsonNode rc = r == null ? null : r.get(k);
                Shape cs = child(s, k, rc != null ? rc : lc);
                if (cs.form != Form.LEAF && (lc == null) != (rc == null) && extra.presentWhenZero(cs.path)) {
                    // kube-apiserver compares typed objects, where a non-pointer struct or a list without omitempty
                    // is always there, if only empty.
                    if (lc == null && l != null) lc = emptyLike(cs);
                    if (rc == null && r != null) rc = emptyLike(cs);
                }
                path.add(PathElement.field(k));
                cmp(lc, rc, cs, path, added, modified, removed);
                path.remove(path.size() - 1);
            }
        } else {
            compareItems(l, r, s, path, added, modified, removed);
        }
        if (l == null) added.add(path);
        else if (r == null) removed.add(path);
    }

    private static JsonNode emptyLike(Shape s) {
        return s.form == Form.STRUCT || s.form == Form.MAP ? Json.object() : Json.array();
    }

    private void compareItems(JsonNode l, JsonNode r, Shape s, List<PathElement> path,
                              FieldSet.Builder added, FieldSet.Builder modified, FieldSet.Builder removed) {
        Map<PathElement, List<JsonNode>> lv = new HashMap<>(), rv = new HashMap<>();
        List<PathElement> all = new ArrayList<>();
        if (l != null) for (int i = 0; i < l.size(); i++) {
            PathElement pe = itemElement(s, l.get(i), path, i);
            if (lv.computeIfAbsent(pe, k -> new ArrayList<>()).size() == 0) all.add(pe);
            lv.get(pe).add(l.get(i));
        }
        if (r != null) for (int i = 0; i < r.size(); i++) {
            PathElement pe = itemElement(s, r.get(i), path, i);
            if (rv.computeIfAbsent(pe, k -> new ArrayList<>()).size() == 0 && !lv.containsKey(pe)) all.add(pe);
            rv.get(pe).add(r.get(i));
        }
        for (PathElement pe : all) {
            List<JsonNode> ll = lv.getOrDefault(pe, List.of()), rl = rv.getOrDefault(pe, List.of());
            path.add(pe);
            if (ll.size() <= 1 && rl.size() <= 1) {
                JsonNode li = ll.isEmpty() ? null : ll.get(0), ri = rl.isEmpty() ? null : rl.get(0);
                cmp(li, ri, item(s, ri != null ? ri : li), path, added, modified, removed);
            } else if (ll.size() >= 2 && rl.size() >= 2) {
                boolean same = ll.size() == rl.size();
                for (int i = 0; same && i < ll.size(); i++) same = Values.equal(ll.get(i), rl.get(i));
                if (!same) modified.add(path);
            } else if (ll.size() >= 2) {
                if (!rl.isEmpty()) cmp(null, rl.get(0), item(s, rl.get(0)), path, added, modified, removed);
                removed.add(path);
            } else {
                if (!ll.isEmpty()) cmp(ll.get(0), null, item(s, ll.get(0)), path, added, modified, removed);
                added.add(path);
            }
            path.remove(path.size() - 1);
        }
    }

    // ---- merge ----

    /** {@code rhs} merged onto {@code lhs} (structured-merge-diff's Merge); neither input is modified. */
    JsonNode merge(JsonNode lhs, JsonNode rhs) {
        return merge(lhs, rhs, root(), new ArrayList<>());
    }

    private JsonNode merge(JsonNode l, JsonNode r, Shape s, List<PathElement> path) {
        if (r == null) return l.deepCopy();
        boolean leaf = !fits(s, r) || (l != null && !fits(s, l)) || (emptyish(l) && emptyish(r));
        if (leaf) return r.deepCopy();
        if (s.form == Form.STRUCT || s.form == Form.MAP) {
            ObjectNode out = Json.object();
            if (l != null) for (Iterator<Map.Entry<String, JsonNode>> it = l.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                mergeField(out, e.getKey(), e.getValue(), r.get(e.getKey()), s, path);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = r.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (l == null || !l.has(e.getKey())) mergeField(out, e.getKey(), null, e.getValue(), s, path);
            }
            return out;
        }
        return mergeItems(l, r, s, path);
    }

    private void mergeField(ObjectNode out, String k, JsonNode lc, JsonNode rc, Shape s, List<PathElement> path) {
        Shape cs = child(s, k, rc != null && !rc.isNull() ? rc : lc);
        if (rc != null && rc.isNull()) {
            // An applied null clears a value (kube-apiserver drops nulls converting to its typed object), but not
            // a granular map or list that others filled.
            if (lc != null && fits(cs, lc) && !lc.isEmpty()) out.set(k, lc.deepCopy());
            return;
        }
        path.add(PathElement.field(k));
        out.set(k, merge(lc, rc, cs, path));
        path.remove(path.size() - 1);
    }

    /**
     * Merges associative lists the way structured-merge-diff orders them: items only in the live list keep their
     * place, items of the applied list come in its order, shared items where the applied list puts them.
     */
    private JsonNode mergeItems(JsonNode l, JsonNode r, Shape s, List<PathElement> path) {
        List<PathElement> rPes = new ArrayList<>();
        Map<PathElement, JsonNode> rBy = new HashMap<>();
        for (int i = 0; i < r.size(); i++) {
            PathElement pe = itemElement(s, r.get(i), path, i);
            if (rBy.containsKey(pe)) throw new TypeError(where(path) + "duplicate entries for key " + pe);
            rBy.put(pe, r.get(i));
            rPes.add(pe);
        }
        List<PathElement> lPes = new ArrayList<>();
        Map<PathElement, JsonNode> lBy = new HashMap<>();
        if (l != null) for (int i = 0; i < l.size(); i++) {
            PathElement pe = itemElement(s, l.get(i), path, i);
            lBy.putIfAbsent(pe, l.get(i));
            lPes.add(pe);
        }
        List<PathElement> shared = new ArrayList<>();
        for (PathElement pe : rPes) if (lBy.containsKey(pe)) shared.add(pe);
        int next = 0;
        Set<PathElement> merged = new HashSet<>();
        ArrayNode out = Json.array();
        int li = 0, ri = 0;
        while (li < lPes.size() || ri < rPes.size()) {
            if (li < lPes.size() && ri < rPes.size()) {
                PathElement pe = lPes.get(li);
                if (pe.equals(rPes.get(ri))) {
                    merged.add(pe);
                    out.add(mergeItem(lBy.get(pe), rBy.get(pe), s, pe, path));
                    li++;
                    ri++;
                    next++;
                    continue;
                }
                if (rBy.containsKey(pe) && next < shared.size() && !shared.get(next).equals(pe)) {
                    li++; // shared item, placed when the applied list reaches it
                    continue;
                }
            }
            if (li < lPes.size()) {
                PathElement pe = lPes.get(li);
                if (!rBy.containsKey(pe)) {
                    out.add(l.get(li).deepCopy());
                    li++;
                    continue;
                } else if (merged.contains(pe)) {
                    li++;
                }
            }
            if (ri < rPes.size()) {
                PathElement pe = rPes.get(ri);
                merged.add(pe);
                out.add(mergeItem(lBy.get(pe), rBy.get(pe), s, pe, path));
                ri++;
                if (next < shared.size() && shared.get(next).equals(pe)) next++;
            }
        }
        return out;
    }

    private JsonNode mergeItem(JsonNode l, JsonNode r, Shape s, PathElement pe, List<PathElement> path) {
        path.add(pe);
        JsonNode m = merge(l, r, item(s, r), path);
        path.remove(path.size() - 1);
        return m;
    }

    // ---- removal ----

    /** A copy of {@code object} without the members of {@code set} (and all below them). */
    JsonNode removeItems(JsonNode object, FieldSet set) {
        JsonNode out = remove(object, set, root(), new ArrayList<>());
        return out == null ? Json.object() : out;
    }

    // Returns null when everything in a container was removed, so the parent drops it.
    private JsonNode remove(JsonNode v, FieldSet set, Shape s, List<PathElement> path) {
        if (set.isEmpty() || !fits(s, v) || v.isEmpty()) return v.deepCopy();
        if (s.form == Form.STRUCT || s.form == Form.MAP) {
            ObjectNode out = Json.object();
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                PathElement pe = PathElement.field(e.getKey());
                if (set.hasMember(pe)) continue;
                FieldSet sub = set.child(pe);
                if (sub.isEmpty()) {
                    out.set(e.getKey(), e.getValue().deepCopy());
                    continue;
                }
                path.add(pe);
                JsonNode nv = remove(e.getValue(), sub, child(s, e.getKey(), e.getValue()), path);
                path.remove(path.size() - 1);
                if (nv != null) out.set(e.getKey(), nv);
            }
            return out.isEmpty() ? null : out;
        }
        ArrayNode out = Json.array();
        for (int i = 0; i < v.size(); i++) {
            JsonNode it = v.get(i);
            PathElement pe = itemElement(s, it, path, i);
            if (set.hasMember(pe)) continue;
            FieldSet sub = set.child(pe);
            if (sub.isEmpty()) {
                out.add(it.deepCopy());
                continue;
            }
            path.add(pe);
            JsonNode nv = remove(it, sub, item(s, it), path);
            path.remove(path.size() - 1);
            if (nv != null) out.add(nv);
        }
        return out.isEmpty() ? null : out;
    }
}
