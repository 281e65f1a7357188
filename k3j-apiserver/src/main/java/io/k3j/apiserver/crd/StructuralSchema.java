package io.k3j.apiserver.crd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.ApiException.Cause;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The {@code openAPIV3Schema} of one served version of a CustomResourceDefinition, doing for its custom resources
 * what kube-apiserver's apiextensions-apiserver does with it:
 * <ul>
 *   <li>{@link #check}: the rules a CRD's schema must pass on create/update (structural schema, allowed keywords,
 *       defaults valid and pruned, list/map types), as 422 causes with Kubernetes' field paths;</li>
 *   <li>{@link #prune}: the decode step (unknown fields dropped unless {@code x-kubernetes-preserve-unknown-fields},
 *       apiVersion/kind/metadata kept at the root and in embedded resources, unknown ObjectMeta fields dropped,
 *       nulls the schema does not allow and cannot default removed);</li>
 *   <li>{@link #applyDefaults}: the {@code default} keyword, applied after pruning on every request body and every
 *       read from storage;</li>
 *   <li>{@link #validate}: kube-openapi schema validation with apiextensions' error mapping, embedded TypeMeta
 *       checks and {@code x-kubernetes-list-type} set/map uniqueness.</li>
 * </ul>
 * {@code x-kubernetes-validations} (CEL) rules are accepted and ignored. Instances are immutable and thread-safe.
 */
public final class StructuralSchema {
    private final SchemaNode root;

    private StructuralSchema(SchemaNode root) {
        this.root = root;
    }

    /**
     * Checks a CRD version's schema as the apiserver does on CRD create. {@code fieldPath} is where the schema sits,
     * e.g. {@code spec.versions[0].schema.openAPIV3Schema}. Returns no causes when the schema is acceptable.
     *
     * @param statusSubresource whether the version enables the status subresource, which restricts root keywords
     * @throws IllegalArgumentException when {@code openAPIV3Schema} is not a JSON object
     */
    public static List<Cause> check(JsonNode openAPIV3Schema, String fieldPath, boolean statusSubresource) {
        Objects.requireNonNull(fieldPath, "fieldPath");
        return Collections.unmodifiableList(StructuralChecks.check(openAPIV3Schema, fieldPath, statusSubresource));
    }

    /**
     * Parses a schema for serving, without checking it (a stored CRD passed {@link #check} when it was written).
     *
     * @throws IllegalArgumentException when {@code openAPIV3Schema} is not a JSON object
     */
    public static StructuralSchema from(JsonNode openAPIV3Schema) {
        return new StructuralSchema(SchemaNode.parse(openAPIV3Schema));
    }

    /**
     * {@link #check} then {@link #from}, failing as a CRD create does.
     *
     * @throws ApiException 422 {@code CustomResourceDefinition.apiextensions.k8s.io "<crdName>" is invalid} with
     *                      the causes of {@link #check}
     */
    public static StructuralSchema fromChecked(JsonNode openAPIV3Schema, String fieldPath, boolean statusSubresource, String crdName) {
        List<Cause> causes = check(openAPIV3Schema, fieldPath, statusSubresource);
        if (!causes.isEmpty()) {
            throw ApiException.invalid("apiextensions.k8s.io", "CustomResourceDefinition", crdName, causes);
        }
        return from(openAPIV3Schema);
    }

    /**
     * The decoding step applied to every custom resource the apiserver reads from a request or from storage:
     * prunes unknown fields in place and drops nulls that are neither nullable nor defaulted.
     *
     * @return the pruned unknown fields as kube-apiserver names them for {@code fieldValidation=Warn/Strict}
     *         ({@code metadata.foo}, {@code spec.foo}, {@code spec.items[0].bar}; a client sees
     *         {@code unknown field "spec.foo"})
     */
    public List<String> prune(ObjectNode obj) {
        Objects.requireNonNull(obj, "obj");
        List<String> unknown = new ArrayList<>();
        SchemaOps.coerceMetadata(obj, "", unknown);
        List<String> pruned = new ArrayList<>();
        SchemaOps.prune(obj, root, true, pruned, "");
        Collections.sort(pruned);
        unknown.addAll(pruned);
        SchemaOps.pruneNonNullableNullsWithoutDefaults(obj, root);
        List<String> embedded = new ArrayList<>();
        SchemaOps.coerceEmbedded(obj, root, "", embedded);
        Collections.sort(embedded);
        unknown.addAll(embedded);
        return unknown;
    }

    /** The fields {@link #prune} would drop, without changing {@code obj}. */
    public List<String> unknownFields(ObjectNode obj) {
        return prune(Objects.requireNonNull(obj, "obj").deepCopy());
    }

    /**
     * Applies {@code default}s in place: a missing field, or a null one whose schema is not nullable, gets its
     * default; defaults are applied inside defaulted values too. Call after {@link #prune}.
     */
    public void applyDefaults(ObjectNode obj) {
        SchemaOps.applyDefaults(Objects.requireNonNull(obj, "obj"), root);
    }

    /**
     * Validates a whole custom resource (create or update) against the schema. Call after pruning and defaulting.
     * Type and metadata checks common to all objects (kind/apiVersion match, ObjectMeta) are not done here.
     */
    public List<Cause> validate(ObjectNode obj) {
        Objects.requireNonNull(obj, "obj");
        List<Cause> errs = new ArrayList<>(OpenApiValidator.causes(root, obj, ""));
        SchemaOps.validateEmbedded("", obj, root, errs);
        SchemaOps.listSetsAndMaps("", root, obj, errs);
        return errs;
    }

    /**
     * Validates an update through the status subresource: only {@code status} is checked against its schema
     * (paths start with {@code status}), plus list-type uniqueness of the whole object.
     */
    public List<Cause> validateStatus(ObjectNode obj) {
        Objects.requireNonNull(obj, "obj");
        List<Cause> errs = new ArrayList<>();
        JsonNode status = obj.get("status");
        SchemaNode statusSchema = root.properties.get("status");
        if (status != null && statusSchema != null) errs.addAll(OpenApiValidator.causes(statusSchema, status, "status"));
        SchemaOps.validateEmbedded("", obj, root, errs);
        SchemaOps.listSetsAndMaps("", root, obj, errs);
        return errs;
    }

    /** The raw schema this was parsed from. */
    public JsonNode schema() {
        return root.raw;
    }
}
