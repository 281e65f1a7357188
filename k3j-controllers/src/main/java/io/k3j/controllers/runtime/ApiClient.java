package io.k3j.controllers.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.registry.core.PodBinding;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import java.time.Clock;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The API as a controller sees it, in-process: every write goes through the same registry path as an HTTP
 * request (decoding, defaulting, admission, validation, managedFields, watch), only without the socket.
 * Reads of shared state belong to informers; {@link #find} is the consistent read for the rare case that
 * needs one. Each controller gets its own instance ({@link #as}) so managedFields name it.
 */
public final class ApiClient {
    private final ObjectStore objects;
    private final ResourceRegistry registry;
    private final String manager;

    public ApiClient(ObjectStore objects, ResourceRegistry registry, String manager) {
        this.objects = objects;
        this.registry = registry;
        this.manager = manager;
    }

    /** The same API, writing as another field manager. */
    public ApiClient as(String fieldManager) {
        return new ApiClient(objects, registry, fieldManager);
    }

    public ObjectStore objects() {
        return objects;
    }

    public ResourceRegistry registry() {
        return registry;
    }

    public Clock clock() {
        return objects.clock();
    }

    /** A built-in or served resource, by group, version and plural; fails when it is not served. */
    public ResourceType type(String group, String version, String plural) {
        return registry.find(group, version, plural)
                .orElseThrow(() -> new IllegalStateException("resource " + plural + "." + group + "/" + version + " is not served"));
    }

    private WriteOptions opts() {
        return WriteOptions.system(manager);
    }

    public Optional<ObjectNode> find(ResourceType type, String namespace, String name) {
        return objects.find(type, namespace, name);
    }

    public ObjectNode create(ResourceType type, String namespace, ObjectNode obj) {
        return objects.create(type, namespace, obj, opts());
    }

    /** PUT of a whole object; its resourceVersion is the precondition (409 when stale). */
    public ObjectNode update(ResourceType type, ObjectNode obj) {
        return objects.update(type, Meta.namespace(obj), Meta.name(obj), obj, "", opts());
    }

    /** PUT of the status subresource; its resourceVersion is the precondition (409 when stale). */
    public ObjectNode updateStatus(ResourceType type, ObjectNode obj) {
        return objects.update(type, Meta.namespace(obj), Meta.name(obj), obj, "status", opts());
    }

    /**
     * Read-modify-write against the newest object: {@code mutate} gets a copy and returns the desired object
     * (keep its resourceVersion to retry on conflicts, clear it to not care). 404 when it is gone.
     *
     * @param subresource "" or "status"
     */
    public ObjectNode modify(ResourceType type, String namespace, String name, String subresource, UnaryOperator<ObjectNode> mutate) {
        return objects.updateWith(type, namespace, name, subresource, opts(), current -> {
            ObjectNode desired = mutate.apply(current);
            Meta.metadata(desired).remove("resourceVersion");
            return desired;
        });
    }

    public ObjectStore.Deleted delete(ResourceType type, String namespace, String name, DeleteOptions opts) {
        return objects.delete(type, namespace, name, opts);
    }

    /** Deletes unless already gone; {@code uid} (if not empty) guards against deleting a successor of the same name. */
    public boolean deleteIfExists(ResourceType type, String namespace, String name, String uid, String propagation) {
        try {
            objects.delete(type, namespace, name, new DeleteOptions(null, propagation, uid == null || uid.isEmpty() ? null : uid, null, false));
            return true;
        } catch (ApiException e) {
            if (e.code() == 404) return false;
            if (e.code() == 409 && uid != null && !uid.isEmpty()) return false; // a successor
            throw e;
        }
    }

    /** pods/binding. */
    public ObjectNode bind(String namespace, String pod, String uid, String node) {
        return PodBinding.bind(objects, type("", "v1", "pods"), namespace, pod, uid, node, opts());
    }
}
