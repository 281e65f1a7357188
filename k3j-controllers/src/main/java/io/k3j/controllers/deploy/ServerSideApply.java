package io.k3j.controllers.deploy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.apply.ManagedFields;
import io.k3j.api.patch.PatchSchema;
import io.k3j.apiserver.openapi.OpenApiService;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceType;
import java.time.Clock;

/**
 * Server-side apply in-process, as the API server's PATCH with {@code application/apply-patch+yaml} does it
 * (io.k3j.apiserver.endpoints.Patcher, whose apply is not reachable from controllers): merge through
 * {@link ManagedFields} with the kind's patch schema, update the object or create it when absent.
 *
 * <p>The schemas come from the built-in OpenAPI definitions, loaded once for all deployers; custom resources
 * get {@link PatchSchema#NONE} (maps merged by key, lists replaced), since the API server's own OpenAPI service,
 * which knows their schemas, is not handed to controllers.
 */
final class ServerSideApply {
    private static volatile OpenApiService openApi;

    private final ObjectStore objects;
    private final ManagedFields managedFields;
    private final String manager;

    ServerSideApply(ObjectStore objects, Clock clock, String manager) {
        this.objects = objects;
        this.managedFields = new ManagedFields(clock);
        this.manager = manager;
    }

    private static OpenApiService schemas() {
        OpenApiService s = openApi;
        if (s == null) {
            synchronized (ServerSideApply.class) {
                if (openApi == null) openApi = OpenApiService.builtin();
                s = openApi;
            }
        }
        return s;
    }

    /**
     * Applies {@code applied} (with name, and namespace when namespaced) taking ownership of conflicting fields,
     * as {@code kubectl apply --server-side --force-conflicts} would.
     *
     * @throws ApiException what the API would answer (400, 422, ...)
     */
    ObjectNode apply(ResourceType type, String namespace, ObjectNode applied) {
        PatchSchema schema = schemas().patchSchema(type.group(), type.version(), type.kind());
        WriteOptions opts = WriteOptions.system(manager).forApply();
        String name = Meta.name(applied);
        for (int attempt = 0; ; attempt++) {
            try {
                return objects.updateWith(type, namespace, name, "", opts, current -> {
                    ObjectNode result = managedFields.apply(current, applied, manager, true, type.apiVersion(), "", schema).object();
                    Json.obj(result, "metadata").put("resourceVersion", Meta.resourceVersion(current));
                    return result;
                });
            } catch (ApiException e) {
                if (e.code() != 404) throw e;
            }
            try {
                ObjectNode created = managedFields.apply(null, applied, manager, true, type.apiVersion(), "", schema).object();
                return objects.create(type, namespace, created, opts);
            } catch (ApiException e) {
                // created by someone else in between: apply over theirs
                if (e.code() != 409 || attempt >= 2) throw e;
            }
        }
    }
}
