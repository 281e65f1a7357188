package io.k3j.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.util.List;
import java.util.Objects;

/**
 * Applies the body of a PATCH request to the current object, as kube-apiserver's patch handler does for JSON
 * patch, JSON merge patch and strategic merge patch. Server-side apply ({@link PatchType#APPLY}) is not a patch
 * engine and lives in {@code io.k3j.api.apply}.
 */
public final class Patches {

    private Patches() {}

    /**
     * Applies {@code patchBody} to a copy of {@code target}.
     *
     * @param schema how lists merge under strategic merge patch; {@link PatchSchema#NONE} when unknown (ignored by
     *               the other types)
     * @return the patched object (a new tree; {@code target} is not modified)
     * @throws ApiException 400 BadRequest for a malformed patch body; 413 for a JSON patch of more than 10000
     *                      operations; 422 Invalid when the patch does not apply or does not yield a JSON object
     * @throws IllegalArgumentException for {@link PatchType#APPLY}, which the caller must route to server-side apply
     */
    public static JsonNode apply(PatchType type, JsonNode target, byte[] patchBody, PatchSchema schema) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(target, "target");
        JsonNode result = switch (type) {
            case JSON -> JsonPatch.apply(target, patchBody);
            case MERGE -> MergePatch.apply(target, patchBody);
            case STRATEGIC -> StrategicMergePatch.apply(target, patchBody, schema == null ? PatchSchema.NONE : schema);
            case APPLY -> throw new IllegalArgumentException(
                    "server-side apply (" + type.contentType() + ") is not a patch engine: route it to io.k3j.api.apply");
        };
        if (!result.isObject()) throw notAnObject(result);
        return result;
    }

    /**
     * A patch that turns the object into an array or a scalar: kube-apiserver fails to decode the result and
     * answers 422 with a cause on the field "patch" (for example a merge patch that is a JSON array).
     */
    private static ApiException notAnObject(JsonNode result) {
        String detail = "json: cannot unmarshal " + PatchErrors.jsonKind(result)
                + " into Go value of type map[string]interface {}";
        return ApiException.invalid("", "", "",
                List.of(ApiException.Cause.invalid("patch", Json.string(result), detail)));
    }
}
