package io.k3j.apiserver.crd.serving;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.ApiException.Cause;
import io.k3j.apiserver.crd.ScaleSubresource;
import io.k3j.apiserver.crd.StructuralSchema;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.ResourceStrategy;
import io.k3j.apiserver.resource.ResourceType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The strategy of one served version of a custom resource (apiextensions-apiserver's customresource strategy):
 * decoding prunes unknown fields and applies the schema's defaults (on writes and on every read), writes are
 * validated against the schema and the scale paths, and a status-subresource update validates only the status.
 * What a status subresource changes in create/update and in generation is {@link ResourceStrategy}'s and
 * {@link ObjectStore}'s generic behaviour, keyed on {@link ResourceType#has}.
 */
public final class CustomResourceStrategy implements ResourceStrategy {
    private final StructuralSchema schema;
    private final ScaleSubresource scale;
    private final Set<String> selectableFields;
    private final BooleanSupplier terminating;

    /**
     * @param schema           null when the version has none (served as preserve-unknown-fields)
     * @param scale            null without a scale subresource
     * @param selectableFields {@code spec.versions[].selectableFields} as dotted paths ({@code spec.color})
     * @param terminating      true once the CRD is being deleted: creates are refused
     */
    CustomResourceStrategy(StructuralSchema schema, ScaleSubresource scale, Set<String> selectableFields, BooleanSupplier terminating) {
        this.schema = schema;
        this.scale = scale;
        this.selectableFields = Set.copyOf(selectableFields);
        this.terminating = terminating;
    }

    /** The scale subresource's paths, or null when the version has none. */
    public ScaleSubresource scale() {
        return scale;
    }

    @Override
    public List<String> decode(ResourceType type, ObjectNode obj) {
        if (schema == null) return List.of();
        List<String> unknown = schema.prune(obj);
        schema.applyDefaults(obj);
        return unknown;
    }

    @Override
    public ObjectNode onRead(ResourceType type, ObjectNode stored) {
        // storage holds one copy for all versions (conversion None): serve it at the requested one
        ObjectNode copy = ObjectStore.withTypeMeta(type, stored.deepCopy());
        if (schema != null) {
            schema.prune(copy);
            schema.applyDefaults(copy);
        }
        return copy;
    }

    @Override
    public void defaults(ResourceType type, ObjectNode obj) {
        if (schema != null) schema.applyDefaults(obj);
    }

    @Override
    public void prepareForCreate(ResourceType type, ObjectNode obj) {
        if (terminating.getAsBoolean()) {
            throw ApiException.methodNotAllowed("create not allowed while custom resource definition is terminating");
        }
        ResourceStrategy.super.prepareForCreate(type, obj);
    }

    @Override
    public List<Cause> validateCreate(ResourceType type, ObjectNode obj) {
        return validate(obj, false);
    }

    @Override
    public List<Cause> validateUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        return validate(obj, false);
    }

    @Override
    public List<Cause> validateStatusUpdate(ResourceType type, ObjectNode obj, ObjectNode old) {
        return validate(obj, true);
    }

    private List<Cause> validate(ObjectNode obj, boolean statusOnly) {
        List<Cause> causes = new ArrayList<>();
        if (schema != null) causes.addAll(statusOnly ? schema.validateStatus(obj) : schema.validate(obj));
        if (scale != null) causes.addAll(scale.validate(obj, !statusOnly));
        return causes;
    }

    @Override
    public Set<String> selectableFields() {
        return selectableFields;
    }
}
