package io.k3j.api.apply;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * OpenAPI facts that server-side apply needs beyond {@link io.k3j.api.patch.PatchSchema}. Optional: a
 * {@code PatchSchema} that also implements this interface is asked; otherwise both answers are "no".
 * Paths are as in {@code PatchSchema} (field names from the root, list items implied).
 */
public interface ApplySchema {

    /**
     * The OpenAPI default of a key field of a {@code listType: map} list, used when an item omits that key, e.g.
     * {@code "TCP"} for {@code protocol} of container ports (structured-merge-diff reads these defaults too, so
     * {@code {containerPort: 80}} and {@code {containerPort: 80, protocol: TCP}} are the same item). Null if none.
     */
    default JsonNode listKeyDefault(List<String> listPath, String key) {
        return null;
    }

    /**
     * True when kube-apiserver's typed objects always carry this field, even unset: a non-pointer Go struct
     * (OpenAPI {@code "default": {}} on an object field of a built-in type, e.g. {@code spec}, {@code
     * spec.template}, {@code metadata}, a container's {@code resources}) or a list serialized without omitempty
     * (e.g. a pod's {@code containers}). Such fields are not "added" when an update first sets something inside
     * them, so they get no {@code "."} entry of their own. Never true for custom resources, which kube-apiserver
     * handles as unstructured.
     */
    default boolean presentWhenZero(List<String> path) {
        return false;
    }
}
