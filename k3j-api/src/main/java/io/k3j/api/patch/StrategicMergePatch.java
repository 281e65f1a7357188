package io.k3j.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.patch.GoValues.GoType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Kubernetes strategic merge patch ({@code application/strategic-merge-patch+json}) as kube-apiserver applies
 * it ({@code k8s.io/apimachinery/pkg/util/strategicpatch}, {@code StrategicMergeMapPatch}), driven by a
 * {@link PatchSchema} instead of Go struct tags.
 *
 * <p>Like a JSON merge patch, maps merge and {@code null} deletes; in addition lists whose field has
 * {@code patchStrategy: merge} merge: lists of objects by their {@code patchMergeKey} (patch items update the
 * matching item or are added), lists of primitives as sets. Directives: {@code $patch: replace|delete} in maps
 * and list items, {@code $deleteFromPrimitiveList/<field>}, {@code $setElementOrder/<field>}, {@code $retainKeys}.
 * Merged lists are ordered as Kubernetes orders them: items named by the patch (or by {@code $setElementOrder})
 * in that order, server-only items interleaved where they stood relative to them; so a new container comes
 * before the existing ones unless {@code $setElementOrder} says otherwise.
 *
 * <p>With {@link PatchSchema#NONE} no list merges and this is a JSON merge patch plus the map directives.
 * (kube-apiserver refuses strategic merge patches on custom resources with 415; that is the caller's call.)
 *
 * <p>Errors: kube-apiserver answers 400 for the patch format errors {@code strategicpatch} names
 * (e.g. "invalid patch format of retainKeys") and 422 "the server rejected our request due to an error in our
 * request" for lists of lists; every other error of the library (a list item without its merge key, an unknown
 * {@code $patch} value, list element types that differ, {@code $setElementOrder} disagreeing with the patch
 * list) reaches clients as a 500 there. Here they are 400 BadRequest with the same message, since the patch
 * body is at fault.
 *
 * <p>Values taken over from the patch lose their {@code null} members and stray directive keys, as decoding
 * the result into a typed object does in kube-apiserver.
 */
public final class StrategicMergePatch {

    static final String DIRECTIVE = "$patch";
    static final String RETAIN_KEYS = "$retainKeys";
    static final String DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList";
    static final String SET_ELEMENT_ORDER = "$setElementOrder";

    private StrategicMergePatch() {}

    /**
     * Applies a strategic merge patch body to a copy of {@code target}.
     *
     * @param target the current object, a JSON object
     * @return the patched object (a new tree; {@code target} is not modified)
     * @throws ApiException 400 BadRequest if the body is not a JSON object or the patch is malformed, 422 Invalid
     *                      if it cannot be applied (lists of lists)
     * @throws IllegalArgumentException if {@code target} is not a JSON object
     */
    public static ObjectNode apply(JsonNode target, byte[] patch, PatchSchema schema) {
        JsonNode p = PatchErrors.parse(patch, ApiException::badRequest);
        if (p.isNull()) return requireObject(target).deepCopy(); // Go decodes null into the empty map: a no-op
        if (!p.isObject()) {
            throw ApiException.badRequest("json: cannot unmarshal " + PatchErrors.jsonKind(p)
                    + " into Go value of type map[string]interface {}");
        }
        return apply(target, (ObjectNode) p, schema);
    }

    /**
     * Applies a parsed strategic merge patch to a copy of {@code target}; {@code patch} is not modified either.
     *
     * @throws ApiException as {@link #apply(JsonNode, byte[], PatchSchema)}
     */
    public static ObjectNode apply(JsonNode target, ObjectNode patch, PatchSchema schema) {
        Objects.requireNonNull(schema, "schema");
        ObjectNode original = requireObject(target).deepCopy();
        Merger merger = new Merger(schema);
        ObjectNode result = merger.mergeMap(original, patch.deepCopy(), List.of());
        merger.scrubAdopted(result);
        return result;
    }

    private static ObjectNode requireObject(JsonNode target) {
        if (target instanceof ObjectNode o) return o;
        throw new IllegalArgumentException("target must be a JSON object (got "
                + (target == null ? "null" : target.getNodeType()) + ")");
    }

    /** One application; remembers which nodes came from the patch so they can be cleaned at the end. */
    private static final class Merger {
        private final PatchSchema schema;
        private final Set<JsonNode> adopted = Collections.newSetFromMap(new IdentityHashMap<>());

        Merger(PatchSchema schema) {
            this.schema = schema;
        }

        private JsonNode adopt(JsonNode n) {
            if (n.isContainerNode()) adopted.add(n);
            return n;
        }

        ObjectNode mergeMap(ObjectNode original, ObjectNode patch, List<String> path) {
            JsonNode directive = patch.get(DIRECTIVE);
            if (directive != null) {
                if (isText(directive, "replace")) {
                    patch.remove(DIRECTIVE);
                    adopt(patch);
                    return patch;
                }
                if (isText(directive, "delete")) return Json.object();
                throw bad("unknown patch type: " + GoValues.format(directive) + " in map: " + GoValues.format(patch));
            }
            if (original == null) original = Json.object();

            applyRetainKeys(original, patch);
            mergeOrderedLists(original, patch, path);

            for (Map.Entry<String, JsonNode> e : new ArrayList<>(patch.properties())) {
                String key = e.getKey();
                JsonNode patchV = e.getValue();
                boolean isDeleteList = false;
                if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
                    key = extractKey(key, DELETE_FROM_PRIMITIVE_LIST);
                    isDeleteList = true;
                }
                if (patchV.isNull()) {
                    original.remove(key);
                    continue;
                }
                JsonNode originalV = original.get(key);
                if (originalV == null || GoValues.type(originalV) != GoValues.type(patchV)) {
                    // a delete list never adds anything; otherwise the patch value is taken as is
                    if (!isDeleteList) takeFromPatch(original, key, patchV);
                    continue;
                }
                List<String> child = child(path, key);
                PatchSchema.FieldMeta meta = meta(child);
                switch (GoValues.type(originalV)) {
                    case MAP -> {
                        if ("replace".equals(strategy(meta))) {
                            original.set(key, adopt(patchV));
                        } else {
                            original.set(key, mergeMap((ObjectNode) originalV, (ObjectNode) patchV,
                                    meta.kind() == PatchSchema.Kind.MAP ? null : child));
                        }
                    }
                    case SLICE -> original.set(key, mergeSliceHandler((ArrayNode) originalV, (ArrayNode) patchV, child,
                            strategy(meta), meta.patchMergeKey(), isDeleteList));
                    default -> original.set(key, patchV);
                }
            }
            return original;
        }

        private void takeFromPatch(ObjectNode original, String key, JsonNode patchV) {
            discardNulls(patchV);
            JsonNode v = removeDirectives(patchV);
            if (v == null) original.remove(key);
            else original.set(key, adopt(v));
        }

        /** {@code $retainKeys}: drop every field of the original not listed; the patch may only set listed fields. */
        private void applyRetainKeys(ObjectNode original, ObjectNode patch) {
            JsonNode retain = patch.remove(RETAIN_KEYS);
            if (retain == null) return;
            if (!retain.isArray()) throw bad("invalid patch format of retainKeys");
            for (Map.Entry<String, JsonNode> e : patch.properties()) {
                String k = e.getKey();
                if (e.getValue().isNull() || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) {
                    continue;
                }
                if (!listsKey(retain, k)) throw bad("invalid patch format of retainKeys");
            }
            original.remove(new ArrayList<>(original.properties()).stream()
                    .map(Map.Entry::getKey).filter(k -> !listsKey(retain, k)).toList());
        }

        private static boolean listsKey(JsonNode list, String key) {
            for (JsonNode v : list) {
                if (v.isTextual() && v.textValue().equals(key)) return true;
            }
            return false;
        }

        /**
         * {@code $setElementOrder/<field>}: merge the field's patch list (if any) and order the result: listed items in
         * the directive's order, server-only items where they stood relative to them.
         */
        private void mergeOrderedLists(ObjectNode original, ObjectNode patch, List<String> path) {
            List<String> directives = new ArrayList<>();
            patch.fieldNames().forEachRemaining(k -> {
                if (k.startsWith(SET_ELEMENT_ORDER)) directives.add(k);
            });
            for (String directiveKey : directives) {
                JsonNode order = patch.remove(directiveKey);
                if (!order.isArray()) throw badArgType("[]interface {}", order);
                String key = extractKey(directiveKey, SET_ELEMENT_ORDER);
                ArrayNode originalList = listAt(original, key);
                ArrayNode patchList = listAt(patch, key);
                List<String> child = child(path, key);
                PatchSchema.FieldMeta meta = meta(child);
                String mergeKey = meta.patchMergeKey();
                validateAgainstOrder(patchList, (ArrayNode) order, mergeKey);

                ArrayNode merged;
                if (originalList != null && patchList == null) {
                    merged = originalList;
                } else if (originalList == null && patchList != null) {
                    merged = (ArrayNode) adopt(removeDirectives(patchList));
                } else if (originalList != null) {
                    merged = mergeSliceHandler(originalList, patchList, child, strategy(meta), mergeKey, false);
                } else {
                    continue;
                }
                List<List<JsonNode>> parts = isEmpty(mergeKey)
                        ? partitionPrimitives(items(merged), items(order))
                        : partitionMaps(items(merged), items(order), mergeKey);
                GoType kind = elementType(items(originalList), items(patchList));
                // Kubernetes fails here ("no elements in any of the given slices") when both lists are empty;
                // there is nothing to order, so keep the (empty) merge result instead
                original.set(key, kind == null ? merged
                        : normalizeOrder(parts.get(0), parts.get(1), items(order), items(originalList), mergeKey, kind));
                patch.remove(key);
            }
        }

        private ArrayNode listAt(ObjectNode map, String key) {
            if (!map.has(key)) return null;
            JsonNode v = map.get(key);
            if (!v.isArray()) throw badArgType("[]interface {}", v);
            return (ArrayNode) v;
        }

        /** The patch list must name its items in the relative order of {@code $setElementOrder}. */
        private void validateAgainstOrder(ArrayNode patchList, ArrayNode order, String mergeKey) {
            if (order.isEmpty() || patchList == null || patchList.isEmpty()) return;
            List<JsonNode> nonDelete = new ArrayList<>();
            for (JsonNode v : patchList) {
                if (!isEmpty(mergeKey)) {
                    if (!v.isObject()) throw badArgType("map[string]interface {}", v);
                    if (isText(v.get(DIRECTIVE), "delete")) continue;
                }
                nonDelete.add(v);
            }
            int p = 0;
            int s = 0;
            while (p < nonDelete.size() && s < order.size()) {
                JsonNode item = nonDelete.get(p);
                if (item.isObject() && item.has(DIRECTIVE)) {
                    p++;
                    continue;
                }
                if (mergeKeyValueEqual(item, order.get(s), mergeKey)) p++;
                s++;
            }
            if (p < nonDelete.size()) {
                throw bad("The order in patch list:\n" + GoValues.format(patchList) + "\n doesn't match "
                        + SET_ELEMENT_ORDER + " list:\n" + GoValues.format(order) + "\n");
            }
        }

        private boolean mergeKeyValueEqual(JsonNode left, JsonNode right, String mergeKey) {
            if (isEmpty(mergeKey)) return GoValues.eq(left, right);
            if (!left.isObject()) throw badArgType("map[string]interface {}", left);
            if (!right.isObject()) throw badArgType("map[string]interface {}", right);
            if (!left.has(mergeKey)) throw noMergeKey(left, mergeKey);
            if (!right.has(mergeKey)) throw noMergeKey(right, mergeKey);
            return GoValues.eq(left.get(mergeKey), right.get(mergeKey));
        }

        private ArrayNode mergeSliceHandler(ArrayNode original, ArrayNode patch, List<String> path, String strategy,
                                            String mergeKey, boolean isDeleteList) {
            // delete lists are handled the same way whatever the field's strategy
            if ("merge".equals(strategy) || isDeleteList) return mergeSlice(original, patch, path, mergeKey, isDeleteList);
            return (ArrayNode) adopt(patch);
        }

        private ArrayNode mergeSlice(ArrayNode original, ArrayNode patch, List<String> path, String mergeKey,
                                     boolean isDeleteList) {
            if (original.isEmpty() && patch.isEmpty()) return original;
            GoType kind = elementType(items(original), items(patch));
            List<JsonNode> serverOrder = items(original);
            List<JsonNode> patchItems = items(patch);
            List<JsonNode> merged;
            if (kind != GoType.MAP) {
                if (isDeleteList) {
                    ArrayNode kept = Json.array();
                    for (JsonNode v : original) {
                        if (indexOf(patchItems, v) < 0) kept.add(v);
                    }
                    return kept;
                }
                merged = new ArrayList<>();
                for (JsonNode v : serverOrder) if (indexOf(merged, v) < 0) merged.add(v);
                for (JsonNode v : patchItems) if (indexOf(merged, v) < 0) merged.add(v);
            } else {
                if (isEmpty(mergeKey)) {
                    throw bad("cannot merge lists without merge key for " + (path == null ? "" : String.join(".", path)));
                }
                // items with $patch: delete / replace act on the original list first
                List<JsonNode> plain = new ArrayList<>();
                boolean replace = false;
                for (JsonNode v : patchItems) {
                    JsonNode directive = v.get(DIRECTIVE);
                    if (directive == null) {
                        plain.add(v);
                    } else if (isText(directive, "delete")) {
                        if (!v.has(mergeKey)) throw noMergeKey(v, mergeKey);
                        JsonNode value = v.get(mergeKey);
                        serverOrder.removeIf(o -> o.has(mergeKey) && GoValues.eq(o.get(mergeKey), value));
                    } else if (isText(directive, "replace")) {
                        replace = true; // keep going: the other directive items must still be dropped
                    } else if (isText(directive, "merge")) {
                        throw bad("merging lists cannot yet be specified in the patch");
                    } else {
                        throw bad("unknown patch type: " + GoValues.format(directive) + " in map: " + GoValues.format(v));
                    }
                }
                if (replace) {
                    plain.forEach(this::adopt);
                    serverOrder = plain;
                    patchItems = List.of();
                } else {
                    patchItems = plain;
                }
                merged = new ArrayList<>(serverOrder);
                for (JsonNode v : patchItems) {
                    if (!v.has(mergeKey)) throw noMergeKey(v, mergeKey);
                    int at = indexByKey(merged, mergeKey, v.get(mergeKey));
                    if (at >= 0) {
                        ObjectNode m = mergeMap((ObjectNode) merged.get(at), (ObjectNode) v, path);
                        merged.set(at, m);
                        // Go's slices share their backing array here: the server order sees the merged item too
                        if (at < serverOrder.size()) serverOrder.set(at, m);
                    } else {
                        merged.add(adopt(v));
                    }
                }
            }
            List<List<JsonNode>> parts = isEmpty(mergeKey)
                    ? partitionPrimitives(merged, patchItems)
                    : partitionMaps(merged, patchItems, mergeKey);
            return normalizeOrder(parts.get(0), parts.get(1), patchItems, serverOrder, mergeKey, kind);
        }

        private int indexByKey(List<JsonNode> list, String mergeKey, JsonNode value) {
            for (int i = 0; i < list.size(); i++) {
                JsonNode v = list.get(i);
                if (!v.isObject()) throw bad("value for key " + i + " is not a map");
                if (v.has(mergeKey) && GoValues.eq(v.get(mergeKey), value)) return i;
            }
            return -1;
        }

        private static int indexOf(List<JsonNode> list, JsonNode value) {
            for (int i = 0; i < list.size(); i++) {
                if (GoValues.eq(list.get(i), value)) return i;
            }
            return -1;
        }

        /** [items present in {@code by}, items not present], each in the order of {@code merged}. */
        private static List<List<JsonNode>> partitionPrimitives(List<JsonNode> merged, List<JsonNode> by) {
            List<JsonNode> in = new ArrayList<>();
            List<JsonNode> out = new ArrayList<>();
            for (JsonNode v : merged) (indexOf(by, v) >= 0 ? in : out).add(v);
            return List.of(in, out);
        }

        private List<List<JsonNode>> partitionMaps(List<JsonNode> merged, List<JsonNode> by, String mergeKey) {
            List<JsonNode> in = new ArrayList<>();
            List<JsonNode> out = new ArrayList<>();
            for (JsonNode v : merged) {
                if (!v.isObject()) throw badArgType("map[string]interface {}", v);
                if (!v.has(mergeKey)) throw noMergeKey(v, mergeKey);
                (indexByKey(by, mergeKey, v.get(mergeKey)) >= 0 ? in : out).add(v);
            }
            return List.of(in, out);
        }

        /**
         * Sorts the patch items by {@code patchOrder} and the server-only items by {@code serverOrder}, then interleaves:
         * a server-only item goes before the next patch item only when the server order puts it before that item.
         */
        private ArrayNode normalizeOrder(List<JsonNode> patchItems, List<JsonNode> serverOnly, List<JsonNode> patchOrder,
                                         List<JsonNode> serverOrder, String mergeKey, GoType kind) {
            List<JsonNode> right = sortBy(patchItems, patchOrder, mergeKey, kind);
            List<JsonNode> left = sortBy(serverOnly, serverOrder, mergeKey, kind);
            ArrayNode out = Json.array();
            int i = 0;
            int j = 0;
            while (i < left.size() || j < right.size()) {
                if (i >= left.size()) {
                    out.add(right.get(j++));
                } else if (j >= right.size()) {
                    out.add(left.get(i++));
                } else {
                    int li = position(serverOrder, left.get(i), mergeKey, kind);
                    int ri = position(serverOrder, right.get(j), mergeKey, kind);
                    if (li >= 0 && ri >= 0 && li < ri) out.add(left.get(i++));
                    else out.add(right.get(j++));
                }
            }
            return out;
        }

        /**
         * Go's sort.SliceStable (an insertion sort at these sizes) with Kubernetes' comparator, which calls an item
         * "less" whenever either item is missing from {@code order}; reproduced step by step so such items land
         * where Kubernetes puts them.
         */
        private List<JsonNode> sortBy(List<JsonNode> items, List<JsonNode> order, String mergeKey, GoType kind) {
            List<JsonNode> toSort = new ArrayList<>();
            List<JsonNode> toDelete = new ArrayList<>();
            if (kind == GoType.MAP) {
                for (List<JsonNode> list : List.of(items, order)) {
                    for (JsonNode v : list) {
                        if (!v.isObject()) throw badArgType("map[string]interface {}", v);
                        if (!v.has(mergeKey)) throw noMergeKey(v, mergeKey);
                    }
                }
                for (JsonNode v : items) (isText(v.get(DIRECTIVE), "delete") ? toDelete : toSort).add(v);
            } else {
                toSort.addAll(items);
            }
            for (int i = 1; i < toSort.size(); i++) {
                for (int j = i; j > 0 && less(toSort.get(j), toSort.get(j - 1), order, mergeKey, kind); j--) {
                    Collections.swap(toSort, j, j - 1);
                }
            }
            toSort.addAll(toDelete);
            return toSort;
        }

        private static boolean less(JsonNode a, JsonNode b, List<JsonNode> order, String mergeKey, GoType kind) {
            int ia = position(order, a, mergeKey, kind);
            if (ia >= 0) {
                int ib = position(order, b, mergeKey, kind);
                if (ib >= 0) return ia < ib;
            }
            return true;
        }

        /** Index of the item in {@code list}: by merge key value for objects, by value otherwise; -1 if absent. */
        private static int position(List<JsonNode> list, JsonNode item, String mergeKey, GoType kind) {
            JsonNode wanted = kind == GoType.MAP ? keyOf(item, mergeKey) : item;
            for (int i = 0; i < list.size(); i++) {
                JsonNode v = kind == GoType.MAP ? keyOf(list.get(i), mergeKey) : list.get(i);
                if (GoValues.eq(wanted, v)) return i;
            }
            return -1;
        }

        private static JsonNode keyOf(JsonNode item, String mergeKey) {
            return item.isObject() && mergeKey != null ? item.get(mergeKey) : null;
        }

        /** The one element type of the lists, null if they are all empty. */
        private GoType elementType(List<JsonNode> a, List<JsonNode> b) {
            GoType type = null;
            for (List<JsonNode> list : List.of(a, b)) {
                for (JsonNode v : list) {
                    GoType t = GoValues.type(v);
                    if (type == null) {
                        if (t == GoType.SLICE) throw PatchErrors.rejected(); // mergepatch.ErrNoListOfLists
                        type = t;
                    } else if (type != t) {
                        List<JsonNode> lists = List.of(arrayOf(a), arrayOf(b));
                        throw bad("list element types are not identical: " + GoValues.formatAll(lists));
                    }
                }
            }
            return type;
        }

        private PatchSchema.FieldMeta meta(List<String> path) {
            if (path == null) return PatchSchema.UNKNOWN;
            PatchSchema.FieldMeta meta = schema.field(path);
            return meta == null ? PatchSchema.UNKNOWN : meta;
        }

        /** The last pass: values taken from the patch lose null members and directive keys. */
        void scrubAdopted(JsonNode n) {
            if (adopted.contains(n)) {
                scrub(n);
                return;
            }
            if (n.isContainerNode()) {
                for (JsonNode child : n) scrubAdopted(child);
            }
        }

        private static void scrub(JsonNode n) {
            if (n instanceof ObjectNode o) {
                List<String> drop = new ArrayList<>();
                for (Map.Entry<String, JsonNode> e : o.properties()) {
                    if (e.getValue().isNull() || isDirectiveKey(e.getKey())) drop.add(e.getKey());
                    else scrub(e.getValue());
                }
                o.remove(drop);
            } else if (n instanceof ArrayNode a) {
                for (JsonNode x : a) scrub(x);
            }
        }
    }

    private static boolean isDirectiveKey(String k) {
        return k.equals(DIRECTIVE) || k.equals(RETAIN_KEYS) || k.startsWith(DELETE_FROM_PRIMITIVE_LIST + "/")
                || k.startsWith(SET_ELEMENT_ORDER + "/");
    }

    /** The field's strategy other than retainKeys (which only matters when computing patches): "", merge, replace. */
    static String strategy(PatchSchema.FieldMeta meta) {
        String s = meta.patchStrategy();
        if (s == null || s.isBlank()) return "";
        List<String> parts = new ArrayList<>();
        for (String p : s.split(",")) parts.add(p.trim());
        if (parts.size() == 1) return parts.get(0).equals("retainKeys") ? "" : parts.get(0);
        if (parts.size() == 2 && parts.get(0).equals("retainKeys")) return parts.get(1);
        if (parts.size() == 2 && parts.get(1).equals("retainKeys")) return parts.get(0);
        throw new IllegalStateException("unexpected patch strategy: " + parts);
    }

    /** {@code $prefix/field} to {@code field}; anything else is the prefix's format error. */
    private static String extractKey(String key, String prefix) {
        int slash = key.indexOf('/');
        if (slash < 0 || !key.substring(0, slash).equals(prefix)) {
            throw bad(prefix.equals(DELETE_FROM_PRIMITIVE_LIST) ? "invalid patch format of primitive list"
                    : "invalid patch format of setElementOrder list");
        }
        return key.substring(slash + 1);
    }

    /** Drops null members of objects, recursively through objects and arrays. */
    private static void discardNulls(JsonNode n) {
        if (n instanceof ObjectNode o) {
            List<String> drop = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                if (e.getValue().isNull()) drop.add(e.getKey());
                else discardNulls(e.getValue());
            }
            o.remove(drop);
        } else if (n instanceof ArrayNode a) {
            for (JsonNode x : a) discardNulls(x);
        }
    }

    /**
     * strategicpatch's removeDirectives: a map carrying {@code $patch} is dropped (null is returned), as are such
     * maps inside maps and lists.
     */
    private static JsonNode removeDirectives(JsonNode n) {
        if (n instanceof ObjectNode o) {
            if (o.has(DIRECTIVE)) return null;
            for (Map.Entry<String, JsonNode> e : new ArrayList<>(o.properties())) {
                JsonNode v = removeDirectives(e.getValue());
                if (v == null) o.remove(e.getKey());
                else if (v != e.getValue()) o.set(e.getKey(), v);
            }
            return o;
        }
        if (n instanceof ArrayNode a) {
            ArrayNode out = Json.array();
            for (JsonNode x : a) {
                JsonNode v = removeDirectives(x);
                if (v != null) out.add(v);
            }
            return out;
        }
        return n;
    }

    private static List<String> child(List<String> path, String key) {
        if (path == null) return null;
        List<String> c = new ArrayList<>(path.size() + 1);
        c.addAll(path);
        c.add(key);
        return List.copyOf(c);
    }

    private static List<JsonNode> items(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        if (array != null) array.forEach(out::add);
        return out;
    }

    private static JsonNode arrayOf(List<JsonNode> items) {
        ArrayNode a = Json.array();
        items.forEach(a::add);
        return a;
    }

    private static boolean isText(JsonNode n, String text) {
        return n != null && n.isTextual() && n.textValue().equals(text);
    }

    private static boolean isEmpty(String s) {
        return s == null || s.isEmpty();
    }

    private static ApiException bad(String message) {
        return ApiException.badRequest(message);
    }

    private static ApiException badArgType(String expected, JsonNode actual) {
        return bad("expected a " + expected + ", but received a " + GoValues.typeName(actual));
    }

    private static ApiException noMergeKey(JsonNode map, String mergeKey) {
        return bad("map: " + GoValues.format(map) + " does not contain declared merge key: " + mergeKey);
    }
}
