package io.k3j.api.patch;

import io.k3j.api.ApiException;
import java.util.Locale;

/** The patch formats of a PATCH request, named by its {@code Content-Type}. */
public enum PatchType {
    /** {@code application/json-patch+json}, RFC 6902. */
    JSON("application/json-patch+json"),
    /** {@code application/merge-patch+json}, RFC 7386. */
    MERGE("application/merge-patch+json"),
    /** {@code application/strategic-merge-patch+json}, Kubernetes' strategic merge patch. */
    STRATEGIC("application/strategic-merge-patch+json"),
    /** {@code application/apply-patch+yaml}, server-side apply (not handled by {@link Patches}). */
    APPLY("application/apply-patch+yaml");

    private final String contentType;

    PatchType(String contentType) {
        this.contentType = contentType;
    }

    public String contentType() {
        return contentType;
    }

    /**
     * The patch type of a request's {@code Content-Type}; parameters such as {@code ; charset=utf-8} are ignored,
     * as kube-apiserver does.
     *
     * @throws ApiException 415 UnsupportedMediaType if the header is missing or names no patch format
     */
    public static PatchType fromContentType(String contentType) {
        if (contentType != null) {
            int semicolon = contentType.indexOf(';');
            String mediaType = (semicolon >= 0 ? contentType.substring(0, semicolon) : contentType)
                    .trim().toLowerCase(Locale.ROOT);
            for (PatchType t : values()) {
                if (t.contentType.equals(mediaType)) return t;
            }
        }
        throw ApiException.unsupportedMediaType(contentType);
    }
}
