package io.k3j.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * JSON merge patch ({@code application/merge-patch+json}, <a href="https://www.rfc-editor.org/rfc/rfc7386">RFC
 * 7386</a>): objects merge recursively, {@code null} deletes a member, everything else (lists included) replaces.
 * Follows {@code evanphx/json-patch.v4}'s {@code MergePatch}, which kube-apiserver uses: nulls are pruned from
 * values that are added rather than merged, and a patch that is a JSON array replaces the whole document.
 */
public final class MergePatch {

    /** {@code jsonpatch.ErrBadJSONPatch}, answered as 400 BadRequest. */
    static final String BAD_PATCH = "Invalid JSON Patch";

    private MergePatch() {}

    /**
     * Applies a merge patch to a copy of {@code target}.
     *
     * @return the merged document (a new tree; {@code target} is not modified). It is the patch itself when the
     *         patch is a JSON array; callers that need an object must check.
     * @throws ApiException 400 BadRequest "Invalid JSON Patch" if the body is not valid JSON, is JSON null or a
     *                      scalar
     */
    public static JsonNode apply(JsonNode target, byte[] patch) {
        JsonNode p = PatchErrors.parse(patch, m -> ApiException.badRequest(BAD_PATCH));
        return apply(target, p);
    }

    /**
     * Applies an already parsed merge patch to a copy of {@code target}.
     *
     * @throws ApiException 400 BadRequest if {@code patch} is null or a scalar
     */
    public static JsonNode apply(JsonNode target, JsonNode patch) {
        if (patch.isObject()) {
            ObjectNode p = (ObjectNode) patch.deepCopy();
            if (target != null && target.isObject()) {
                ObjectNode doc = ((ObjectNode) target).deepCopy();
                mergeInto(doc, p);
                return doc;
            }
            return pruneNulls(p);
        }
        if (patch.isArray()) return pruneNulls(patch.deepCopy());
        throw ApiException.badRequest(BAD_PATCH);
    }

    private static void mergeInto(ObjectNode doc, ObjectNode patch) {
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            String k = e.getKey();
            JsonNode v = e.getValue();
            if (v.isNull()) {
                doc.remove(k);
                continue;
            }
            JsonNode cur = doc.get(k);
            if (cur == null || cur.isNull()) {
                doc.set(k, pruneNulls(v));
            } else if (!cur.isObject()) {
                doc.set(k, pruneNulls(v));
            } else if (v.isObject()) {
                mergeInto((ObjectNode) cur, (ObjectNode) v);
            } else {
                // evanphx returns a non-object patch value over an object unpruned
                doc.set(k, v);
            }
        }
    }

    /** Drops null members of objects, recursively, also inside arrays; null array elements stay. */
    static JsonNode pruneNulls(JsonNode n) {
        if (n instanceof ObjectNode o) {
            List<String> drop = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                if (e.getValue().isNull()) drop.add(e.getKey());
                else pruneNulls(e.getValue());
            }
            o.remove(drop);
        } else if (n instanceof ArrayNode a) {
            for (JsonNode x : a) pruneNulls(x);
        }
        return n;
    }
}
