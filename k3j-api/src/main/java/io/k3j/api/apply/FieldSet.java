package io.k3j.api.apply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.patch.PatchSchema;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An immutable set of field paths: what one manager owns, in the shape of structured-merge-diff's
 * {@code fieldpath.Set}. A path is a member when it is owned itself; a path element may also have children (owned
 * paths below it). When an element is both, its {@code fieldsV1} object carries a {@code ".": {}} entry.
 *
 * <p>{@code fieldsV1} format: {@code {"f:metadata":{"f:labels":{".":{},"f:app":{}}}}} — one key per path element
 * ({@link PathElement#serialize()}), an empty object for a leaf member.
 */
public final class FieldSet {
    private static final FieldSet EMPTY = new FieldSet(new TreeSet<>(), new TreeMap<>());

    private final TreeSet<PathElement> members;
    private final TreeMap<PathElement, FieldSet> children;

    private FieldSet(TreeSet<PathElement> members, TreeMap<PathElement, FieldSet> children) {
        this.members = members;
        this.children = children;
    }

    public static FieldSet empty() {
        return EMPTY;
    }

    /** A set holding exactly the given paths. */
    @SafeVarargs
    public static FieldSet of(List<PathElement>... paths) {
        Builder b = new Builder();
        for (List<PathElement> p : paths) b.add(p);
        return b.build();
    }

    /** Shorthand for paths made only of field names: {@code FieldSet.ofFields("spec", "replicas")}. */
    public static FieldSet ofFields(String... names) {
        List<PathElement> p = new ArrayList<>();
        for (String n : names) p.add(PathElement.field(n));
        return of(p);
    }

    /**
     * The fields an object sets, as server-side apply computes them for an applied configuration: every scalar,
     * atomic list and atomic map; list-map and set items (with {@code "."}); map entries; and empty or null values.
     * Objects the schema declares as structs are not members themselves, only their contents.
     *
     * @throws io.k3j.api.ApiException 500 when a list-map item lacks all its keys or a list has duplicate items
     */
    public static FieldSet fromObject(ObjectNode object, PatchSchema schema) {
        return new Typed(schema).toFieldSet(object);
    }

    /**
     * Parses a {@code fieldsV1} object.
     *
     * @throws IllegalArgumentException when it is not a valid FieldsV1 tree
     */
    public static FieldSet fromFieldsV1(JsonNode fieldsV1) {
        if (fieldsV1 == null || fieldsV1.isNull()) return EMPTY;
        if (!fieldsV1.isObject()) throw new IllegalArgumentException("fieldsV1 must be an object");
        FieldSet s = read(fieldsV1);
        return s == null ? EMPTY : s;
    }

    // Returns the children read from node, or null when the node holds none (a plain member).
    private static FieldSet read(JsonNode node) {
        if (!node.isObject()) throw new IllegalArgumentException("fieldsV1 values must be objects");
        TreeSet<PathElement> members = new TreeSet<>();
        TreeMap<PathElement, FieldSet> children = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals(".")) continue;
            PathElement pe = PathElement.deserialize(e.getKey());
            if (pe == null) continue;
            FieldSet grand = read(e.getValue());
            boolean member = grand == null || e.getValue().has(".");
            if (member) members.add(pe);
            if (grand != null) {
                FieldSet prev = children.get(pe);
                children.put(pe, prev == null ? grand : prev.union(grand));
            }
        }
        if (members.isEmpty() && children.isEmpty()) return null;
        return new FieldSet(members, children);
    }

    /** The {@code fieldsV1} object, keys in structured-merge-diff order. */
    public ObjectNode toFieldsV1() {
        ObjectNode out = Json.object();
        write(out, false);
        return out;
    }

    private void write(ObjectNode out, boolean includeSelf) {
        if (includeSelf) out.putObject(".");
        TreeSet<PathElement> all = new TreeSet<>(members);
        all.addAll(children.keySet());
        for (PathElement pe : all) {
            ObjectNode child = out.putObject(pe.serialize());
            FieldSet sub = children.get(pe);
            if (sub != null) sub.write(child, members.contains(pe));
        }
    }

    public boolean isEmpty() {
        return members.isEmpty() && children.isEmpty();
    }

    /** True when the path is a member (owned itself, not only through descendants). */
    public boolean contains(List<PathElement> path) {
        if (path.isEmpty()) return false;
        FieldSet s = this;
        for (int i = 0; i < path.size() - 1; i++) {
            s = s.children.get(path.get(i));
            if (s == null) return false;
        }
        return s.members.contains(path.get(path.size() - 1));
    }

    /** Every member path in structured-merge-diff's iteration order: members first, then each child's paths. */
    public List<List<PathElement>> paths() {
        List<List<PathElement>> out = new ArrayList<>();
        collect(new ArrayList<>(), out);
        return out;
    }

    private void collect(List<PathElement> prefix, List<List<PathElement>> out) {
        for (PathElement m : members) {
            List<PathElement> p = new ArrayList<>(prefix);
            p.add(m);
            out.add(Collections.unmodifiableList(p));
        }
        for (Map.Entry<PathElement, FieldSet> c : children.entrySet()) {
            prefix.add(c.getKey());
            c.getValue().collect(prefix, out);
            prefix.remove(prefix.size() - 1);
        }
    }

    public FieldSet union(FieldSet o) {
        if (o.isEmpty()) return this;
        if (isEmpty()) return o;
        TreeSet<PathElement> m = new TreeSet<>(members);
        m.addAll(o.members);
        TreeMap<PathElement, FieldSet> c = new TreeMap<>(children);
        o.children.forEach((pe, s) -> c.merge(pe, s, FieldSet::union));
        return new FieldSet(m, c);
    }

    public FieldSet intersection(FieldSet o) {
        TreeSet<PathElement> m = new TreeSet<>(members);
        m.retainAll(o.members);
        TreeMap<PathElement, FieldSet> c = new TreeMap<>();
        children.forEach((pe, s) -> {
            FieldSet os = o.children.get(pe);
            if (os != null) {
                FieldSet r = s.intersection(os);
                if (!r.isEmpty()) c.put(pe, r);
            }
        });
        return make(m, c);
    }

    /** Members of this set that are not members of {@code o}; descendants of a removed member stay. */
    public FieldSet difference(FieldSet o) {
        if (o.isEmpty() || isEmpty()) return this;
        TreeSet<PathElement> m = new TreeSet<>(members);
        m.removeAll(o.members);
        TreeMap<PathElement, FieldSet> c = new TreeMap<>();
        children.forEach((pe, s) -> {
            FieldSet os = o.children.get(pe);
            FieldSet r = os == null ? s : s.difference(os);
            if (!r.isEmpty()) c.put(pe, r);
        });
        return make(m, c);
    }

    /** Like {@link #difference} but a member of {@code o} also removes everything below it. */
    public FieldSet recursiveDifference(FieldSet o) {
        if (o.isEmpty() || isEmpty()) return this;
        TreeSet<PathElement> m = new TreeSet<>(members);
        m.removeAll(o.members);
        TreeMap<PathElement, FieldSet> c = new TreeMap<>();
        children.forEach((pe, s) -> {
            if (o.members.contains(pe)) return;
            FieldSet os = o.children.get(pe);
            FieldSet r = os == null ? s : s.recursiveDifference(os);
            if (!r.isEmpty()) c.put(pe, r);
        });
        return make(m, c);
    }

    private static FieldSet make(TreeSet<PathElement> m, TreeMap<PathElement, FieldSet> c) {
        return m.isEmpty() && c.isEmpty() ? EMPTY : new FieldSet(m, c);
    }

    Iterable<PathElement> memberElements() {
        return members;
    }

    Map<PathElement, FieldSet> childSets() {
        return children;
    }

    FieldSet child(PathElement pe) {
        FieldSet s = children.get(pe);
        return s == null ? EMPTY : s;
    }

    boolean hasMember(PathElement pe) {
        return members.contains(pe);
    }

    /** Prints a path as kube-apiserver does in conflicts: {@code .spec.containers[name="nginx"].image}. */
    public static String pathString(List<PathElement> path) {
        StringBuilder sb = new StringBuilder();
        for (PathElement pe : path) sb.append(pe);
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FieldSet s && members.equals(s.members) && children.equals(s.children);
    }

    @Override
    public int hashCode() {
        return Objects.hash(members, children);
    }

    @Override
    public String toString() {
        return Json.string(toFieldsV1());
    }

    /** Mutable accumulation, used while walking objects. */
    static final class Builder {
        private final TreeSet<PathElement> members = new TreeSet<>();
        private final TreeMap<PathElement, Builder> children = new TreeMap<>();

        Builder add(List<PathElement> path) {
            if (path.isEmpty()) return this;
            Builder b = this;
            for (int i = 0; i < path.size() - 1; i++) b = b.children.computeIfAbsent(path.get(i), k -> new Builder());
            b.members.add(path.get(path.size() - 1));
            return this;
        }

        FieldSet build() {
            TreeMap<PathElement, FieldSet> c = new TreeMap<>();
            children.forEach((pe, b) -> {
                FieldSet s = b.build();
                if (!s.isEmpty()) c.put(pe, s);
            });
            return make(new TreeSet<>(members), c);
        }
    }
}
