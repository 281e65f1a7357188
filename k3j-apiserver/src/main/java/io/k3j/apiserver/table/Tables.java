package io.k3j.apiserver.table;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Renders {@code meta.k8s.io} Tables as kube-apiserver answers {@code as=Table} requests
 * (apiserver/pkg/endpoints/handlers/response.go {@code asTable}).
 *
 * <p>Watches: every event's object is a Table with one row; only the first event of a watch carries
 * {@code columnDefinitions} (later ones have {@code "columnDefinitions": null}, kubectl reuses the first).
 * Use {@link #renderOne} with {@code withColumns} true for the first event and false afterwards.
 */
public final class Tables {
    private Tables() {}

    /** The version kubectl asks for first; {@code meta.k8s.io/v1beta1} is the fallback it also accepts. */
    public static final String V1 = "meta.k8s.io/v1";
    public static final String V1BETA1 = "meta.k8s.io/v1beta1";

    private static final String INITIAL_EVENTS_END = "k8s.io/initial-events-end";

    /**
     * A Table for a list. {@code listMetadata} (resourceVersion, continue, remainingItemCount) is copied into
     * the table's metadata; null gives {@code {}}.
     */
    public static ObjectNode render(TablePrinter printer, List<ObjectNode> objects, IncludeObject include,
                                    ObjectNode listMetadata, Instant now) {
        return render(printer, objects, include, listMetadata, now, V1);
    }

    /** As {@link #render(TablePrinter, List, IncludeObject, ObjectNode, Instant)} for a given table version. */
    public static ObjectNode render(TablePrinter printer, List<ObjectNode> objects, IncludeObject include,
                                    ObjectNode listMetadata, Instant now, String tableApiVersion) {
        ObjectNode metadata = Json.object();
        if (listMetadata != null) {
            for (String f : List.of("resourceVersion", "continue", "remainingItemCount")) {
                JsonNode v = listMetadata.get(f);
                if (v != null && !v.isNull() && !(v.isTextual() && v.asText().isEmpty())) metadata.set(f, v);
            }
        }
        ObjectNode table = header(printer, metadata, true, tableApiVersion);
        if (objects.isEmpty() && printer instanceof DefaultPrinter) {
            // The generic convertor never allocates rows, so an empty list encodes as null.
            table.putNull("rows");
            return table;
        }
        ArrayNode rows = table.putArray("rows");
        for (ObjectNode obj : objects) rows.add(row(printer, obj, include, now, tableApiVersion));
        return table;
    }

    /**
     * A Table for one object (GET, or one watch event). Its metadata holds the object's resourceVersion.
     * {@code withColumns} false omits the column definitions, as kube-apiserver does after a watch's first event.
     */
    public static ObjectNode renderOne(TablePrinter printer, ObjectNode object, IncludeObject include,
                                       boolean withColumns, Instant now) {
        return renderOne(printer, object, include, withColumns, now, V1);
    }

    /** As {@link #renderOne(TablePrinter, ObjectNode, IncludeObject, boolean, Instant)} for a given table version. */
    public static ObjectNode renderOne(TablePrinter printer, ObjectNode object, IncludeObject include,
                                       boolean withColumns, Instant now, String tableApiVersion) {
        ObjectNode metadata = Json.object();
        String rv = Cells.text(object, "metadata", "resourceVersion");
        if (!rv.isEmpty()) metadata.put("resourceVersion", rv);
        ObjectNode table = header(printer, metadata, withColumns, tableApiVersion);
        table.putArray("rows").add(row(printer, object, include, now, tableApiVersion));
        return table;
    }

    private static ObjectNode header(TablePrinter printer, ObjectNode metadata, boolean withColumns, String version) {
        ObjectNode table = Json.object();
        table.put("kind", "Table");
        table.put("apiVersion", Objects.requireNonNull(version, "tableApiVersion"));
        table.set("metadata", metadata);
        if (!withColumns) {
            table.putNull("columnDefinitions");
            return table;
        }
        ArrayNode cols = table.putArray("columnDefinitions");
        for (TablePrinter.Column c : printer.columns()) {
            ObjectNode col = cols.addObject();
            col.put("name", c.name());
            col.put("type", c.type());
            col.put("format", c.format());
            col.put("description", c.description());
            col.put("priority", c.priority());
        }
        return table;
    }

    private static ObjectNode row(TablePrinter printer, ObjectNode obj, IncludeObject include, Instant now, String version) {
        ObjectNode row = Json.object();
        ArrayNode cells = row.putArray("cells");
        for (Object cell : printer.cells(obj, now)) cells.add(toNode(cell));
        List<ObjectNode> conditions = printer.conditions(obj);
        if (!conditions.isEmpty()) {
            ArrayNode conds = row.putArray("conditions");
            conditions.forEach(conds::add);
        }
        IncludeObject effective = include;
        // The bookmark that ends a watch's initial events must keep its annotation, so it always gets metadata.
        if (include == IncludeObject.NONE
                && Cells.text(obj, "metadata", "annotations", INITIAL_EVENTS_END).equals("true")) {
            effective = IncludeObject.METADATA;
        }
        switch (effective) {
            case NONE -> row.putNull("object");
            case OBJECT -> row.set("object", obj);
            case METADATA -> {
                ObjectNode partial = row.putObject("object");
                partial.put("kind", "PartialObjectMetadata");
                partial.put("apiVersion", version);
                JsonNode md = obj.get("metadata");
                partial.set("metadata", md instanceof ObjectNode o ? o.deepCopy() : Json.object());
            }
        }
        return row;
    }

    private static JsonNode toNode(Object cell) {
        return switch (cell) {
            case null -> Json.NODES.nullNode();
            case String s -> Json.NODES.textNode(s);
            case Long l -> Json.NODES.numberNode(l);
            case Integer i -> Json.NODES.numberNode((long) i);
            case Boolean b -> Json.NODES.booleanNode(b);
            // Go encodes a float64 without a trailing ".0": 3 rather than 3.0.
            case Double d -> Double.isFinite(d) ? Json.NODES.numberNode(
                    new BigDecimal(new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString()))
                    : Json.NODES.nullNode();
            case JsonNode n -> n;
            default -> Json.NODES.textNode(cell.toString());
        };
    }
}
