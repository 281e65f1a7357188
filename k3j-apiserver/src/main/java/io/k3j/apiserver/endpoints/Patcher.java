package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceType;
import java.util.Iterator;
import java.util.Map;

/** Applies PATCH bodies: JSON patch, merge patch, strategic merge patch, and server-side apply. */
public interface Patcher {
    enum Type {
        JSON, MERGE, STRATEGIC, APPLY;

        static Type fromContentType(String contentType) {
            if (contentType == null) return null;
            return switch (contentType) {
                case "application/json-patch+json" -> JSON;
                case "application/merge-patch+json" -> MERGE;
                case "application/strategic-merge-patch+json" -> STRATEGIC;
                case "application/apply-patch+yaml", "application/apply-patch+cbor" -> APPLY;
                default -> null;
            };
        }
    }

    /** The patched object (a new tree; {@code current} may be changed). {@code type} is null for Scale objects. */
    ObjectNode patch(Type patchType, ResourceType type, ObjectNode current, byte[] body);

    /** Server-side apply: creates or updates the object. */
    ObjectNode apply(ObjectStore objects, ResourceType type, String namespace, String name, String subresource, byte[] body,
                     boolean force, WriteOptions opts);

    /** Merge patch only (RFC 7386), until the full engines are wired in. */
    Patcher MERGE_ONLY = new Patcher() {
        @Override
        public ObjectNode patch(Type patchType, ResourceType type, ObjectNode current, byte[] body) {
            if (patchType == Type.JSON) throw ApiException.unsupportedMediaType("application/json-patch+json");
            JsonNode patch = Json.parse(body);
            JsonNode result = merge(current, patch);
            if (!(result instanceof ObjectNode o)) throw ApiException.badRequest("patch must be a JSON object");
            return o;
        }

        @Override
        public ObjectNode apply(ObjectStore objects, ResourceType type, String namespace, String name, String subresource,
                                byte[] body, boolean force, WriteOptions opts) {
            throw ApiException.unsupportedMediaType("application/apply-patch+yaml");
        }

        private JsonNode merge(JsonNode target, JsonNode patch) {
            if (!patch.isObject()) return patch;
            ObjectNode out = target != null && target.isObject() ? (ObjectNode) target : Json.object();
            Iterator<Map.Entry<String, JsonNode>> it = patch.fields();
            while (it.hasNext()) {
                var e = it.next();
                if (e.getValue().isNull()) out.remove(e.getKey());
                else out.set(e.getKey(), merge(out.get(e.getKey()), e.getValue()));
            }
            return out;
        }
    };
}
