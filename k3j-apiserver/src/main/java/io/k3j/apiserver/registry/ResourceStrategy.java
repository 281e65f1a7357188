package io.k3j.apiserver.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException.Cause;
import io.k3j.apiserver.resource.ResourceType;
import java.util.List;
import java.util.Set;

/**
 * What is particular to one resource on its way to and from the store (what a Kubernetes
 * {@code rest.RESTCreateStrategy}/{@code RESTUpdateStrategy} is): defaulting, validation, what create and
 * update may change, field selectors, deletion behaviour. The generic flow lives in {@link ObjectStore}.
 */
public interface ResourceStrategy {

    /**
     * The decoding step of a request body (a create, an update, or a patch's result): drops the fields the
     * resource does not know, in place, and names them as kube-apiserver does for {@code fieldValidation}
     * ({@code spec.foo}). Built-in resources keep what they are given here.
     */
    default List<String> decode(ResourceType type, ObjectNode obj) {
        return List.of();
    }

    /**
     * The object as served at {@code type}'s version, for every read (get, list, watch, the current object of an
     * update). Must not change {@code stored} (it is shared with the cache): returns it as is, or a changed copy
     * (a custom resource gets its apiVersion rewritten, unknown fields pruned and defaults applied).
     */
    default ObjectNode onRead(ResourceType type, ObjectNode stored) {
        return stored;
    }

    /** Fills defaults (and admission mutations) into a new or updated object. */
    default void defaults(ResourceType type, ObjectNode obj) {}

    /** Create-time admission mutations, after defaulting (service account, tolerations, Job selectors...). */
    default void admit(ResourceType type, ObjectNode obj) {}

    /** Resets what a create may not set (e.g. status, for resources with a status subresource). */
    default void prepareForCreate(ResourceType type, ObjectNode obj) {
        if (type.has("status")) obj.remove("status");
    }

    /** Resets what a main-resource update may not change (e.g. status, kept from {@code old}). */
    default void prepareForUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        if (type.has("status")) {
            if (old.has("status")) obj.set("status", old.get("status").deepCopy());
            else obj.remove("status");
        }
    }

    default List<Cause> validateCreate(ResourceType type, ObjectNode obj) {
        return List.of();
    }

    default List<Cause> validateUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        return List.of();
    }

    /** Validates an update through the status subresource; the same as any update unless a resource says otherwise. */
    default List<Cause> validateStatusUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        return validateUpdate(type, obj, old);
    }

    /** Fields usable in field selectors besides metadata.name and metadata.namespace. */
    default Set<String> selectableFields() {
        return Set.of();
    }

    /** The value of a selectable field. */
    default String fieldValue(ObjectNode obj, String field) {
        return switch (field) {
            case "metadata.name" -> Meta.name(obj);
            case "metadata.namespace" -> Meta.namespace(obj);
            default -> FieldPaths.text(obj, field);
        };
    }

    /** Whether PUT of a missing object creates it. */
    default boolean allowCreateOnUpdate() {
        return false;
    }

    /**
     * The grace period of a deletion without an explicit one, or 0 to delete at once; only pods delete
     * gracefully in Kubernetes.
     */
    default long defaultGracePeriodSeconds(ObjectNode obj) {
        return 0;
    }

    /** True while something besides metadata.finalizers keeps a deleted object (a namespace's spec.finalizers). */
    default boolean deletionBlocked(ObjectNode obj) {
        return false;
    }

    /** Changes an object takes on when its deletion starts (a namespace's Terminating phase). */
    default void markDeleting(ObjectNode obj) {}

    /** Called after a create or update was stored: allocations of the write are final. */
    default void committed(ResourceType type, ObjectNode obj) {}

    /** Called after an object is removed from the store (release allocations). */
    default void afterDelete(ResourceType type, ObjectNode obj) {}

    /** Called when a create or update failed after {@link #defaults}/allocation, to undo allocations. */
    default void abort(ResourceType type, ObjectNode obj, ObjectNode old) {}

    /** Allocations (cluster IPs, node ports) for a create or an update; throws Invalid if exhausted. */
    default void allocate(ResourceType type, ObjectNode obj, ObjectNode old) {}

    ResourceStrategy DEFAULT = new ResourceStrategy() {};
}
