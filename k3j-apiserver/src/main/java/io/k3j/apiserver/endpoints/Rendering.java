package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.resource.ResourceType;

/** Shapes shared by several answers: partial object metadata, list wrappers. */
final class Rendering {
    private Rendering() {}

    /** The row object of a Table: the whole object, or its metadata as PartialObjectMetadata. */
    static ObjectNode partial(ResourceType type, ObjectNode obj, String includeObject) {
        if ("Object".equals(includeObject)) return obj;
        ObjectNode p = Json.object();
        p.put("kind", "PartialObjectMetadata");
        p.put("apiVersion", "meta.k8s.io/v1");
        p.set("metadata", obj.get("metadata"));
        return p;
    }
}
