package io.k3j.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * JSON patch ({@code application/json-patch+json}, <a href="https://www.rfc-editor.org/rfc/rfc6902">RFC 6902</a>)
 * as kube-apiserver applies it: with the semantics of {@code gopkg.in/evanphx/json-patch.v4}, including its
 * leniencies that clients rely on: {@code replace} of a missing object member adds it, negative array indices
 * count from the end, {@code copy} from a missing member copies {@code null}, and {@code replace} of the whole
 * document with a non-container value is ignored.
 *
 * <p>Errors as the API server reports them: a body that is not a JSON array of operations is 400 BadRequest
 * (with the decoder's message); more than 10000 operations is 413; an operation that does not apply (missing
 * path, failed {@code test}, bad index, unknown op) is 422 Invalid with the fixed message
 * "the server rejected our request due to an error in our request" (kube-apiserver drops the detail).
 */
public final class JsonPatch {

    /** kube-apiserver's {@code maxJSONPatchOperations}. */
    static final int MAX_OPERATIONS = 10_000;

    private JsonPatch() {}

    /**
     * Applies a JSON patch document to a copy of {@code target}.
     *
     * @return the patched document (a new tree; {@code target} is not modified)
     * @throws ApiException 400 BadRequest if {@code patch} is not a JSON array of objects, 413 RequestEntityTooLarge
     *                      for more than 10000 operations, 422 Invalid if an operation cannot be applied
     */
    public static JsonNode apply(JsonNode target, byte[] patch) {
        List<JsonNode> ops = decode(patch);
        try {
            return applyOps(target.deepCopy(), ops);
        } catch (Failure e) {
            throw PatchErrors.rejected();
        }
    }

    /** Decodes the body like {@code jsonpatch.DecodePatch}: a JSON array of objects (or JSON null: no ops). */
    static List<JsonNode> decode(byte[] body) {
        JsonNode root = PatchErrors.parse(body, ApiException::badRequest);
        List<JsonNode> ops = new ArrayList<>();
        if (root.isNull()) return ops;
        if (!root.isArray()) {
            throw ApiException.badRequest("json: cannot unmarshal " + PatchErrors.jsonKind(root)
                    + " into Go value of type jsonpatch.Patch");
        }
        for (JsonNode op : root) {
            if (!op.isObject() && !op.isNull()) {
                throw ApiException.badRequest("json: cannot unmarshal " + PatchErrors.jsonKind(op)
                        + " into Go value of type jsonpatch.Operation");
            }
            ops.add(op);
        }
        if (ops.size() > MAX_OPERATIONS) {
            throw ApiException.requestEntityTooLarge("The allowed maximum operations in a JSON patch is "
                    + MAX_OPERATIONS + ", got " + ops.size());
        }
        return ops;
    }

    /**
     * Applies decoded operations, mutating {@code doc} in place where it can.
     *
     * @return the resulting document (a different node only when the whole document was replaced)
     * @throws Failure with evanphx/json-patch's message when an operation does not apply
     */
    static JsonNode applyOps(JsonNode doc, List<JsonNode> ops) {
        JsonNode[] root = {doc};
        for (JsonNode op : ops) {
            String kind = stringMember(op, "op");
            switch (kind == null ? "unknown" : kind) {
                case "add" -> add(root[0], op);
                case "remove" -> remove(root[0], op);
                case "replace" -> replace(root, op);
                case "move" -> move(root[0], op);
                case "test" -> test(root[0], op);
                case "copy" -> copy(root[0], op);
                default -> throw new Failure("Unexpected kind: " + (kind == null ? "unknown" : kind));
            }
        }
        return root[0];
    }

    /** An operation that does not apply; the message is evanphx/json-patch's, kept for logs and tests. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message, null, false, false);
        }
    }

    private static final String MISSING = ": missing value";
    private static final String INVALID_INDEX = ": invalid index referenced";

    private static void add(JsonNode root, JsonNode op) {
        String path = stringMember(op, "path");
        if (path == null) throw new Failure("add operation failed to decode path" + MISSING);
        Location at = find(root, path);
        if (at == null) throw new Failure("add operation does not apply: doc is missing path: \"" + path + "\"" + MISSING);
        String err = at.add(value(op));
        if (err != null) throw new Failure("error in add for path: '" + path + "': " + err);
    }

    private static void remove(JsonNode root, JsonNode op) {
        String path = stringMember(op, "path");
        if (path == null) throw new Failure("remove operation failed to decode path" + MISSING);
        Location at = find(root, path);
        if (at == null) throw new Failure("remove operation does not apply: doc is missing path: \"" + path + "\"" + MISSING);
        String err = at.remove();
        if (err != null) throw new Failure("error in remove for path: '" + path + "': " + err);
    }

    private static void replace(JsonNode[] root, JsonNode op) {
        String path = stringMember(op, "path");
        if (path == null) throw new Failure("replace operation failed to decode path: operation missing path field" + MISSING);
        if (path.isEmpty()) {
            // evanphx wraps a nil error here, so a scalar value silently leaves the document alone
            JsonNode v = value(op);
            if (v.isContainerNode()) root[0] = v;
            return;
        }
        Location at = find(root[0], path);
        if (at == null) throw new Failure("replace operation does not apply: doc is missing path: " + path + MISSING);
        Got current = at.get();
        if (current.error != null) {
            throw new Failure("replace operation does not apply: doc is missing key: " + path + MISSING);
        }
        at.set(value(op));
    }

    private static void move(JsonNode root, JsonNode op) {
        String from = stringMember(op, "from");
        if (from == null) throw new Failure("move operation failed to decode from: operation, missing from field" + MISSING);
        Location src = find(root, from);
        if (src == null) throw new Failure("move operation does not apply: doc is missing from path: " + from + MISSING);
        Got val = src.get();
        if (val.error != null) throw new Failure("error in move for path: '" + src.key + "': " + val.error);
        String err = src.remove();
        if (err != null) throw new Failure("error in move for path: '" + src.key + "': " + err);
        String path = stringMember(op, "path");
        if (path == null) throw new Failure("move operation failed to decode path: operation missing path field" + MISSING);
        Location dst = find(root, path);
        if (dst == null) throw new Failure("move operation does not apply: doc is missing destination path: " + path + MISSING);
        err = dst.add(val.node == null ? Json.NODES.nullNode() : val.node);
        if (err != null) throw new Failure("error in move for path: '" + path + "': " + err);
    }

    private static void test(JsonNode root, JsonNode op) {
        String path = stringMember(op, "path");
        if (path == null) throw new Failure("test operation failed to decode path: operation missing path field" + MISSING);
        JsonNode expected = op.get("value");
        if (path.isEmpty()) {
            if (expected != null && same(root, expected)) return;
            throw new Failure("testing value " + path + " failed: test failed");
        }
        Location at = find(root, path);
        if (at == null) throw new Failure("test operation does not apply: is missing path: " + path + MISSING);
        Got val = at.get();
        if (val.error != null) throw new Failure("error in test for path: '" + path + "': " + val.error);
        if (val.node == null || val.node.isNull()) {
            // a missing member and an explicit null both test equal to "value": null
            if (expected != null && expected.isNull()) return;
            throw new Failure("testing value " + path + " failed: test failed");
        }
        if (expected == null || !same(val.node, expected)) {
            throw new Failure("testing value " + path + " failed: test failed");
        }
    }

    private static void copy(JsonNode root, JsonNode op) {
        String from = stringMember(op, "from");
        if (from == null) throw new Failure("copy operation failed to decode from: operation, missing from field" + MISSING);
        Location src = find(root, from);
        if (src == null) throw new Failure("copy operation does not apply: doc is missing from path: " + from + MISSING);
        Got val = src.get();
        if (val.error != null) throw new Failure("error in copy for from: '" + from + "': " + val.error);
        String path = stringMember(op, "path");
        if (path == null) throw new Failure("copy operation failed to decode path" + MISSING);
        Location dst = find(root, path);
        if (dst == null) throw new Failure("copy operation does not apply: doc is missing destination path: " + path + MISSING);
        JsonNode copy = val.node == null ? Json.NODES.nullNode() : val.node.deepCopy();
        String err = dst.add(copy);
        if (err != null) throw new Failure("error while adding value during copy: " + err);
    }

    /** The op's string member, or null when absent, null or not a string (evanphx fails to decode it then). */
    private static String stringMember(JsonNode op, String name) {
        JsonNode v = op == null ? null : op.get(name);
        return v != null && v.isTextual() ? v.textValue() : null;
    }

    /** A missing "value" is a nil node in evanphx, which serializes as null. */
    private static JsonNode value(JsonNode op) {
        JsonNode v = op.get("value");
        return v == null ? Json.NODES.nullNode() : v;
    }

    /**
     * evanphx's {@code findObject}: split on "/", walk every segment but the last (the first is ignored, so a
     * path without a leading slash still resolves relative to the root), unescape ~1 then ~0.
     */
    private static Location find(JsonNode root, String path) {
        String[] split = path.split("/", -1);
        if (split.length < 2) return null;
        JsonNode doc = root;
        for (int i = 1; i < split.length - 1; i++) {
            Got next = new Location(doc, unescape(split[i])).get();
            if (next.error != null || next.node == null || !next.node.isContainerNode()) return null;
            doc = next.node;
        }
        return new Location(doc, unescape(split[split.length - 1]));
    }

    /** RFC 6901 section 4, done in one left-to-right pass as Go's strings.Replacer does. */
    static String unescape(String token) {
        if (token.indexOf('~') < 0) return token;
        StringBuilder sb = new StringBuilder(token.length());
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c == '~' && i + 1 < token.length() && (token.charAt(i + 1) == '0' || token.charAt(i + 1) == '1')) {
                sb.append(token.charAt(++i) == '0' ? '~' : '/');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** A get result: node null with error null means a missing object member. */
    private record Got(JsonNode node, String error) {}

    /** A member of an object or an index of an array, addressed by its unescaped key. */
    private record Location(JsonNode container, String key) {

        Got get() {
            if (container instanceof ObjectNode o) return new Got(o.get(key), null);
            ArrayNode a = (ArrayNode) container;
            Integer idx = atoi(key);
            if (idx == null) return new Got(null, "strconv.Atoi: parsing \"" + key + "\": invalid syntax");
            int i = idx;
            if (i < 0) {
                if (i < -a.size()) return new Got(null, "Unable to access invalid index: " + i + INVALID_INDEX);
                i += a.size();
            }
            if (i >= a.size()) return new Got(null, "Unable to access invalid index: " + i + INVALID_INDEX);
            return new Got(a.get(i), null);
        }

        /** Only called after {@link #get()} succeeded, as evanphx's replace does. */
        void set(JsonNode value) {
            if (container instanceof ObjectNode o) {
                o.set(key, value);
                return;
            }
            ArrayNode a = (ArrayNode) container;
            int i = atoi(key);
            a.set(i < 0 ? i + a.size() : i, value);
        }

        String add(JsonNode value) {
            if (container instanceof ObjectNode o) {
                o.set(key, value);
                return null;
            }
            ArrayNode a = (ArrayNode) container;
            if (key.equals("-")) {
                a.add(value);
                return null;
            }
            Integer idx = atoi(key);
            if (idx == null) {
                return "value was not a proper array index: '" + key + "': strconv.Atoi: parsing \"" + key + "\": invalid syntax";
            }
            int i = idx;
            int size = a.size() + 1;
            if (i >= size) return "Unable to access invalid index: " + i + INVALID_INDEX;
            if (i < 0) {
                if (i < -size) return "Unable to access invalid index: " + i + INVALID_INDEX;
                i += size;
            }
            a.insert(i, value);
            return null;
        }

        String remove() {
            if (container instanceof ObjectNode o) {
                if (!o.has(key)) return "Unable to remove nonexistent key: " + key + MISSING;
                o.remove(key);
                return null;
            }
            ArrayNode a = (ArrayNode) container;
            Integer idx = atoi(key);
            if (idx == null) return "strconv.Atoi: parsing \"" + key + "\": invalid syntax";
            int i = idx;
            if (i >= a.size()) return "Unable to access invalid index: " + i + INVALID_INDEX;
            if (i < 0) {
                if (i < -a.size()) return "Unable to access invalid index: " + i + INVALID_INDEX;
                i += a.size();
            }
            a.remove(i);
            return null;
        }
    }

    /** strconv.Atoi: optional sign and decimal digits, no overflow; null when it fails. */
    private static Integer atoi(String s) {
        if (s.isEmpty()) return null;
        int start = s.charAt(0) == '+' || s.charAt(0) == '-' ? 1 : 0;
        if (start == s.length()) return null;
        for (int i = start; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') return null;
        }
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** evanphx's lazyNode.equal: containers structurally, scalars by their compact JSON text. */
    static boolean same(JsonNode a, JsonNode b) {
        if (a.isObject()) {
            if (!b.isObject() || a.size() != b.size()) return false;
            for (Map.Entry<String, JsonNode> e : a.properties()) {
                JsonNode other = b.get(e.getKey());
                if (other == null || !same(e.getValue(), other)) return false;
            }
            return true;
        }
        if (a.isArray()) {
            if (!b.isArray() || a.size() != b.size()) return false;
            Iterator<JsonNode> ib = b.elements();
            for (JsonNode x : a) {
                if (!same(x, ib.next())) return false;
            }
            return true;
        }
        return !b.isContainerNode() && Json.string(a).equals(Json.string(b));
    }
}
