package io.k3j.api.patch;

import java.util.List;

/**
 * How the fields of one kind merge: the patch metadata that Kubernetes keeps in its OpenAPI as
 * {@code x-kubernetes-patch-strategy}, {@code x-kubernetes-patch-merge-key} (strategic merge patch) and
 * {@code x-kubernetes-list-type}, {@code x-kubernetes-list-map-keys}, {@code x-kubernetes-map-type}
 * (server-side apply).
 *
 * <p>A field is named by its path of field names from the object's root; list items are implied, so the
 * containers of a Deployment are {@code ["spec", "template", "spec", "containers"]} and their ports
 * {@code ["spec", "template", "spec", "containers", "ports"]}. Map values (e.g. under {@code labels}) are not
 * addressed.
 */
public interface PatchSchema {

    /** Patch metadata of one field; {@link #UNKNOWN} when the schema says nothing about it. */
    FieldMeta field(List<String> path);

    /**
     * @param patchStrategy "merge", "replace", "retainKeys", "merge,retainKeys", or null (the default:
     *                      lists are replaced, maps merged)
     * @param patchMergeKey the merge key of a list of objects merged by strategic merge patch, or null
     * @param listType      "atomic", "set" or "map" for server-side apply, or null when not declared
     * @param listMapKeys   the keys of a {@code listType: map} list
     * @param mapType       "granular" or "atomic" for objects and maps, or null (granular)
     * @param kind          what the field holds, for merge decisions where the value alone can't tell
     */
    record FieldMeta(String patchStrategy, String patchMergeKey, String listType, List<String> listMapKeys,
                     String mapType, Kind kind) {
        public FieldMeta {
            listMapKeys = listMapKeys == null ? List.of() : List.copyOf(listMapKeys);
        }

        public boolean mergesList() {
            return patchStrategy != null && patchStrategy.contains("merge") && patchMergeKey != null;
        }

        public boolean mergesPrimitiveList() {
            return patchStrategy != null && patchStrategy.contains("merge") && patchMergeKey == null;
        }

        public boolean retainsKeys() {
            return patchStrategy != null && patchStrategy.contains("retainKeys");
        }
    }

    enum Kind { UNKNOWN, SCALAR, OBJECT, MAP, LIST }

    FieldMeta UNKNOWN = new FieldMeta(null, null, null, List.of(), null, Kind.UNKNOWN);

    /** A schema that knows nothing: strategic merge patch then behaves like JSON merge patch. */
    PatchSchema NONE = path -> UNKNOWN;
}
