package io.k3j.apiserver.endpoints;

import io.k3j.apiserver.http.ApiRequest;
import io.k3j.apiserver.registry.ListOptions;

/** The list query parameters as every list endpoint decodes them, for endpoints served outside the registry. */
public final class ListParameters {
    private ListParameters() {
    }

    /** @throws io.k3j.api.ApiException 400 for a parameter that doesn't parse, as kube-apiserver answers */
    public static ListOptions parse(ApiRequest req) {
        return ResourceHandler.listOptions(req);
    }
}
