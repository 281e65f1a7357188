package io.k3j.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes equal subtrees of cached trees one shared, read-only subtree (hash-consing). The pods of one ReplicaSet
 * differ in their names, uids, nodes, times and the random name of their service-account volume, but most of
 * their JSON objects are equal: container resources, probes, tolerations, labels, owner references, the
 * projected volume's sources, and nearly all of their managedFields' field sets, whose leaves are empty objects.
 * A pod is ~110 JSON objects, ~75 of them in managedFields; shared, a thousand pods hold the equal ones once.
 *
 * <p>Every object and array below the second level is shared (the top level and {@code metadata}, {@code spec},
 * {@code status} are each object's own: they hold its name and resourceVersion, which the cache sets). Subtrees
 * are shared bottom-up, so a node's children are already shared ones: a node is found by a shallow hash of its
 * keys and its children's identities, and compared shallowly, which keeps sharing linear in the tree's size.
 * The table holds its subtrees weakly: one no cached object refers to any more is collected.
 *
 * <p>A shared subtree is rebuilt read-only ({@link CompactMap#frozen}, {@link List#copyOf}): code that changes a
 * cached object below the second level without copying it fails instead of changing every object that shares the
 * subtree. A deep copy is writable.
 */
final class SharedSubtrees {
    private final JsonNodeFactory factory;
    private final ReferenceQueue<JsonNode> collected = new ReferenceQueue<>();
    private Entry[] table = new Entry[1 << 12];
    private int count;

    /** A shared subtree, held weakly, with its shallow hash; chained in its bucket. */
    private static final class Entry extends WeakReference<JsonNode> {
        final int hash;
        Entry next;

        Entry(JsonNode node, int hash, Entry next, ReferenceQueue<JsonNode> queue) {
            super(node, queue);
            this.hash = hash;
            this.next = next;
        }
    }

    SharedSubtrees(JsonNodeFactory factory) {
        this.factory = factory;
    }

    /** Replaces, in place, every object and array below {@code root}'s second level with the shared equal one. */
    synchronized void share(ObjectNode root) {
        expunge();
        for (JsonNode top : root) {
            if (top instanceof ObjectNode o) shareChildren(o);
            else if (top instanceof ArrayNode a) shareChildren(a);
        }
    }

    /** How many distinct shared subtrees the table holds (for tests). */
    synchronized int size() {
        expunge();
        return count;
    }

    private void shareChildren(ObjectNode o) {
        for (Map.Entry<String, JsonNode> field : o.properties()) {
            JsonNode value = field.getValue();
            if (value.isContainerNode()) field.setValue(shared(value));
        }
    }

    private void shareChildren(ArrayNode a) {
        for (int i = 0; i < a.size(); i++) {
            JsonNode value = a.get(i);
            if (value.isContainerNode()) a.set(i, shared(value));
        }
    }

    /** The shared subtree equal to {@code node} (an object or array just parsed, so still writable). */
    private JsonNode shared(JsonNode node) {
        if (node instanceof ObjectNode o) shareChildren(o);
        else shareChildren((ArrayNode) node);
        int hash = shallowHash(node);
        Entry[] t = table;
        int bucket = hash & (t.length - 1);
        for (Entry e = t[bucket]; e != null; e = e.next) {
            JsonNode candidate;
            if (e.hash == hash && (candidate = e.get()) != null && shallowEquals(candidate, node)) return candidate;
        }
        JsonNode frozen = freeze(node);
        t[bucket] = new Entry(frozen, hash, t[bucket], collected);
        if (++count > t.length - (t.length >> 2)) grow();
        return frozen;
    }

    /** Keys and children in order; a child object or array counts by identity (it is already shared). */
    private static int shallowHash(JsonNode node) {
        int h = node.isObject() ? 1 : 2;
        if (node instanceof ObjectNode o) {
            for (Map.Entry<String, JsonNode> field : o.properties()) h = 31 * (31 * h + field.getKey().hashCode()) + childHash(field.getValue());
        } else {
            for (JsonNode element : node) h = 31 * h + childHash(element);
        }
        return h ^ (h >>> 16);
    }

    private static int childHash(JsonNode child) {
        return child.isContainerNode() ? System.identityHashCode(child) : child.hashCode();
    }

    private static boolean shallowEquals(JsonNode shared, JsonNode node) {
        if (shared.getNodeType() != node.getNodeType() || shared.size() != node.size()) return false;
        if (shared instanceof ObjectNode so) {
            Iterator<Map.Entry<String, JsonNode>> other = node.properties().iterator();
            for (Map.Entry<String, JsonNode> field : so.properties()) {
                Map.Entry<String, JsonNode> f = other.next();
                if (!field.getKey().equals(f.getKey()) || !sameChild(field.getValue(), f.getValue())) return false;
            }
            return true;
        }
        for (int i = 0; i < shared.size(); i++) {
            if (!sameChild(shared.get(i), node.get(i))) return false;
        }
        return true;
    }

    private static boolean sameChild(JsonNode a, JsonNode b) {
        return a == b || (!a.isContainerNode() && a.getClass() == b.getClass() && a.equals(b));
    }

    /** A read-only copy of {@code node}, whose children are shared already. */
    private JsonNode freeze(JsonNode node) {
        if (node instanceof ObjectNode o) {
            Map<String, JsonNode> fields = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> field : o.properties()) fields.put(field.getKey(), field.getValue());
            return new ObjectNode(factory, CompactMap.frozen(fields));
        }
        List<JsonNode> elements = new ArrayList<>(node.size());
        for (JsonNode element : node) elements.add(element);
        return new ArrayNode(factory, List.copyOf(elements));
    }

    private void grow() {
        Entry[] old = table;
        Entry[] t = new Entry[old.length * 2];
        for (Entry head : old) {
            for (Entry e = head; e != null; ) {
                Entry next = e.next;
                int bucket = e.hash & (t.length - 1);
                e.next = t[bucket];
                t[bucket] = e;
                e = next;
            }
        }
        table = t;
    }

    /** Drops the entries of subtrees that were collected. */
    private void expunge() {
        for (Reference<? extends JsonNode> r; (r = collected.poll()) != null; ) {
            Entry gone = (Entry) r;
            int bucket = gone.hash & (table.length - 1);
            Entry prev = null;
            for (Entry e = table[bucket]; e != null; prev = e, e = e.next) {
                if (e == gone) {
                    if (prev == null) table[bucket] = e.next;
                    else prev.next = e.next;
                    count--;
                    break;
                }
            }
        }
    }
}
