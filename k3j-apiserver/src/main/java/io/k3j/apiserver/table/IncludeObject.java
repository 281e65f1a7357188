package io.k3j.apiserver.table;

import io.k3j.api.ApiException;

/** The {@code includeObject} table option: what each row's {@code object} carries. */
public enum IncludeObject {
    /** {@code "object": null}. */
    NONE,
    /** A {@code PartialObjectMetadata} with the object's whole metadata (the default). */
    METADATA,
    /** The object itself, in the requested version. */
    OBJECT;

    /**
     * Parses the query parameter; null or empty is {@link #METADATA}.
     *
     * @throws ApiException 400 {@code unrecognized includeObject value: "x"}
     */
    public static IncludeObject parse(String value) {
        if (value == null || value.isEmpty()) return METADATA;
        return switch (value) {
            case "None" -> NONE;
            case "Metadata" -> METADATA;
            case "Object" -> OBJECT;
            default -> throw ApiException.badRequest("unrecognized includeObject value: \"" + value + "\"");
        };
    }
}
