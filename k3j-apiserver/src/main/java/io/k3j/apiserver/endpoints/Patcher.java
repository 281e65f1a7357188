package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.apply.ManagedFields;
import io.k3j.api.patch.PatchSchema;
import io.k3j.api.patch.PatchType;
import io.k3j.api.patch.Patches;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceType;
import java.util.function.Function;

/**
 * Applies PATCH bodies: JSON patch, merge patch and strategic merge patch through {@link Patches}, and
 * server-side apply through {@link ManagedFields}, with the patch metadata of each resource's schema.
 */
public final class Patcher {
    private final Function<ResourceType, PatchSchema> schemas;
    private final ManagedFields managedFields;

    public Patcher(Function<ResourceType, PatchSchema> schemas, ManagedFields managedFields) {
        this.schemas = schemas;
        this.managedFields = managedFields;
    }

    /** The patched object; {@code type} is null for a Scale (no schema). */
    ObjectNode patch(PatchType patchType, ResourceType type, ObjectNode current, byte[] body) {
        PatchSchema schema = type == null ? PatchSchema.NONE : schemas.apply(type);
        JsonNode result = Patches.apply(patchType, current, body, schema);
        if (!(result instanceof ObjectNode o)) throw ApiException.badRequest("the patched object is not a JSON object");
        return o;
    }

    /** Server-side apply: updates the object, or creates it when absent. */
    Applied apply(ObjectStore objects, ResourceType type, String namespace, String name, String subresource, byte[] body,
                  boolean force, WriteOptions opts) {
        JsonNode parsed = Json.parseYamlOrJson(body);
        if (!(parsed instanceof ObjectNode applied)) throw ApiException.badRequest("apply patch must be an object");
        String bodyName = Json.text(applied.get("metadata"), "name");
        if (!bodyName.isEmpty() && !bodyName.equals(name)) {
            // checked before the create branch below, which would otherwise create an object under the body's name
            throw ApiException.badRequest("the name of the object (" + bodyName + ") does not match the name on the URL (" + name + ")");
        }
        PatchSchema schema = schemas.apply(type);
        WriteOptions applyOpts = opts.forApply();
        try {
            ObjectNode updated = objects.updateWith(type, namespace, name, subresource, applyOpts, current -> {
                ObjectNode result = managedFields.apply(current, applied, opts.fieldManager(), force, type.apiVersion(), subresource, schema).object();
                Json.obj(result, "metadata").put("resourceVersion", Json.text(current.get("metadata"), "resourceVersion"));
                return result;
            });
            return new Applied(updated, false);
        } catch (ApiException e) {
            if (e.code() != 404 || !subresource.isEmpty()) throw e;
        }
        ObjectNode created = managedFields.apply(null, applied, opts.fieldManager(), force, type.apiVersion(), subresource, schema).object();
        ObjectNode meta = Json.obj(created, "metadata");
        if (Json.text(meta, "name").isEmpty()) meta.put("name", name);
        return new Applied(objects.create(type, namespace, created, applyOpts), true);
    }

    record Applied(ObjectNode object, boolean created) {}

    /** Keeps metadata.managedFields on every non-apply write. */
    public ObjectStore.ManagedFieldsHook updateTracker() {
        return (type, current, updated, opts, subresource) -> {
            if (opts.apply() || opts.fieldManager() == null) return;
            // only the managedFields are taken: no copy of the whole object
            JsonNode mf = managedFields.trackedManagedFields(current, updated, opts.fieldManager(), type.apiVersion(), subresource,
                    schemas.apply(type));
            if (mf == null) Json.obj(updated, "metadata").remove("managedFields");
            else Json.obj(updated, "metadata").set("managedFields", mf);
        };
    }
}
