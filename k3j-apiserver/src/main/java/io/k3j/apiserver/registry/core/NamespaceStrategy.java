package io.k3j.apiserver.registry.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ResourceStrategy;
import io.k3j.apiserver.resource.ResourceType;
import java.util.Set;

/**
 * Namespaces: the {@code kubernetes} finalizer in {@code spec.finalizers} keeps a deleted namespace in phase
 * Terminating until the namespace controller has removed its contents and cleared the finalizer.
 */
public final class NamespaceStrategy implements ResourceStrategy {
    public static final String FINALIZER = "kubernetes";

    private final ResourceStrategy base;

    public NamespaceStrategy(ResourceStrategy base) {
        this.base = base;
    }

    @Override
    public void prepareForCreate(ResourceType type, ObjectNode obj) {
        ObjectNode spec = Json.obj(obj, "spec");
        ArrayNode finalizers = spec.putArray("finalizers");
        finalizers.add(FINALIZER);
        obj.putObject("status").put("phase", "Active");
    }

    @Override
    public void prepareForUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        // spec.finalizers only change through /finalize; status only through /status
        obj.set("spec", old.has("spec") ? old.get("spec").deepCopy() : Json.object());
        if (old.has("status")) obj.set("status", old.get("status").deepCopy());
    }

    @Override
    public void defaults(ResourceType type, ObjectNode obj) {
        Json.obj(Meta.metadata(obj), "labels").put("kubernetes.io/metadata.name", Meta.name(obj));
        base.defaults(type, obj);
    }

    @Override
    public java.util.List<io.k3j.api.ApiException.Cause> validateCreate(ResourceType type, ObjectNode obj) {
        return base.validateCreate(type, obj);
    }

    @Override
    public java.util.List<io.k3j.api.ApiException.Cause> validateUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        return base.validateUpdate(type, obj, old);
    }

    @Override
    public Set<String> statusUpdateMetadata(ResourceType type) {
        return base.statusUpdateMetadata(type);
    }

    @Override
    public boolean deletionBlocked(ObjectNode obj) {
        JsonNode f = Json.at(obj, "spec", "finalizers");
        return f != null && f.isArray() && !f.isEmpty();
    }

    @Override
    public void markDeleting(ObjectNode obj) {
        Json.obj(obj, "status").put("phase", "Terminating");
    }

    @Override
    public Set<String> selectableFields() {
        return Set.of("status.phase");
    }
}
