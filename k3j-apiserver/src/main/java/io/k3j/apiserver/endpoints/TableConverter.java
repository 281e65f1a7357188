package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import java.time.Instant;
import java.util.List;

/** Renders objects as a meta.k8s.io/v1 Table for {@code kubectl get}. */
public interface TableConverter {

    /**
     * @param includeObject "None", "Metadata" (default) or "Object"
     * @param listMeta      the list's metadata (resourceVersion, continue), or null for a watch event
     * @param withColumns   false to leave out columnDefinitions (watch events after the first)
     */
    ObjectNode toTable(ResourceType type, List<ObjectNode> objects, String includeObject, ObjectNode listMeta, boolean withColumns, Instant now);

    /** NAME and CREATED AT, what Kubernetes prints for resources without their own printer. */
    TableConverter DEFAULT = (type, objects, includeObject, listMeta, withColumns, now) -> {
        ObjectNode table = Json.object();
        table.put("kind", "Table");
        table.put("apiVersion", "meta.k8s.io/v1");
        table.set("metadata", listMeta == null ? Json.object() : listMeta);
        if (withColumns) {
            ArrayNode cols = table.putArray("columnDefinitions");
            ObjectNode name = cols.addObject();
            name.put("name", "Name");
            name.put("type", "string");
            name.put("format", "name");
            name.put("description", "Name must be unique within a namespace.");
            name.put("priority", 0);
            ObjectNode created = cols.addObject();
            created.put("name", "Created At");
            created.put("type", "date");
            created.put("format", "");
            created.put("description", "CreationTimestamp is a timestamp representing the server time when this object was created.");
            created.put("priority", 0);
        }
        ArrayNode rows = table.putArray("rows");
        for (ObjectNode o : objects) {
            ObjectNode row = rows.addObject();
            ArrayNode cells = row.putArray("cells");
            cells.add(Meta.name(o));
            cells.add(Json.text(o.get("metadata"), "creationTimestamp"));
            if (!"None".equals(includeObject)) row.set("object", Rendering.partial(type, o, includeObject));
        }
        return table;
    };
}
