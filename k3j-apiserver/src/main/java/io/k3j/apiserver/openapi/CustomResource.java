package io.k3j.apiserver.openapi;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * One served version of a CustomResourceDefinition, as the OpenAPI documents need it.
 *
 * @param openAPIV3Schema {@code spec.versions[].schema.openAPIV3Schema}; may be null (then the kind is
 *                        published with x-kubernetes-preserve-unknown-fields)
 */
public record CustomResource(String group, String version, String kind, String listKind, String plural,
                             boolean namespaced, ObjectNode openAPIV3Schema) {
    public CustomResource {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(plural, "plural");
        if (listKind == null || listKind.isEmpty()) listKind = kind + "List";
    }
}
