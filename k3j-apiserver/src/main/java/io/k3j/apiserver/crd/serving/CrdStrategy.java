package io.k3j.apiserver.crd.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import io.k3j.apiserver.crd.StructuralSchema;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.core.BuiltinStrategy;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.table.TablePrinters;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The strategy of CustomResourceDefinitions: the built-in defaulting and validation of the CRD's own fields, plus
 * what only the CRD registry does: each version's schema must be structural (checked here so the request fails,
 * not the controller later), storedVersions grows with the storage version, and a delete first marks the CRD
 * with the {@value #CLEANUP_FINALIZER} finalizer and a Terminating condition so its custom resources are deleted
 * before it (apiextensions' customresourcedefinition/etcd.go).
 */
final class CrdStrategy extends BuiltinStrategy {
    static final String CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

    private final Consumer<ObjectNode> committed;
    private final Clock clock;

    /** @param committed told of every stored create or update (the controller waits to serve it) */
    CrdStrategy(Consumer<ObjectNode> committed, Clock clock) {
        super(Set.of());
        this.committed = committed;
        this.clock = clock;
    }

    @Override
    public List<Cause> validateCreate(ResourceType type, ObjectNode obj) {
        List<Cause> causes = new ArrayList<>(super.validateCreate(type, obj));
        causes.addAll(checkVersions(obj));
        return causes;
    }

    @Override
    public List<Cause> validateUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        List<Cause> causes = new ArrayList<>(super.validateUpdate(type, obj, old));
        causes.addAll(checkVersions(obj));
        return causes;
    }

    @Override
    public List<Cause> validateStatusUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        return List.of();
    }

    /** Schemas (required in v1, structural) and printer columns of every version. */
    static List<Cause> checkVersions(ObjectNode crd) {
        List<Cause> causes = new ArrayList<>();
        JsonNode versions = Json.at(crd, "spec", "versions");
        if (versions == null || !versions.isArray()) return causes;
        for (int i = 0; i < versions.size(); i++) {
            JsonNode v = versions.get(i);
            String path = "spec.versions[" + i + "]";
            JsonNode schema = Json.at(v, "schema", "openAPIV3Schema");
            if (schema == null || schema.isNull()) {
                causes.add(new Cause("FieldValueRequired", "Required value: schemas are required", path + ".schema.openAPIV3Schema"));
            } else if (!schema.isObject()) {
                causes.add(Cause.invalid(path + ".schema.openAPIV3Schema", schema.toString(), "must be an object"));
            } else {
                boolean status = Json.at(v, "subresources", "status") != null;
                causes.addAll(StructuralSchema.check(schema, path + ".schema.openAPIV3Schema", status));
            }
            JsonNode columns = v.get("additionalPrinterColumns");
            if (columns != null && columns.isArray()) {
                for (int j = 0; j < columns.size(); j++) {
                    try {
                        TablePrinters.forCustomResource(Json.array().add(columns.get(j).deepCopy()));
                    } catch (IllegalArgumentException e) {
                        causes.add(Cause.invalid(path + ".additionalPrinterColumns[" + j + "].jsonPath",
                                Json.text(columns.get(j), "jsonPath"), e.getMessage()));
                    }
                }
            }
        }
        return causes;
    }

    @Override
    public void prepareForUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        super.prepareForUpdate(type, obj, old);
        // a new storage version is remembered, so a later migration knows what storage may still hold
        JsonNode versions = Json.at(obj, "spec", "versions");
        if (versions == null || !versions.isArray()) return;
        for (JsonNode v : versions) {
            if (!v.path("storage").asBoolean(false)) continue;
            ObjectNode status = Json.obj(obj, "status");
            ArrayNode stored = status.get("storedVersions") instanceof ArrayNode a ? a : status.putArray("storedVersions");
            String name = Json.text(v, "name");
            boolean known = false;
            for (JsonNode s : stored) known |= s.asText().equals(name);
            if (!known) stored.add(name);
        }
    }

    @Override
    public boolean deletionBlocked(ObjectNode obj) {
        // the first delete only marks the CRD; the controller removes the finalizer once its instances are gone
        return !Meta.deleting(obj);
    }

    @Override
    public void markDeleting(ObjectNode obj) {
        List<String> finalizers = new ArrayList<>(Meta.finalizers(obj));
        if (!finalizers.contains(CLEANUP_FINALIZER)) {
            finalizers.add(CLEANUP_FINALIZER);
            Meta.setFinalizers(obj, finalizers);
        }
        if (!Meta.deleting(obj)) {
            CrdStatus.setCondition(obj, "Terminating", "True", "InstanceDeletionPending",
                    "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon", Meta.timestamp(clock.instant()));
        }
    }

    @Override
    public void committed(ResourceType type, ObjectNode obj) {
        committed.accept(obj);
    }
}
