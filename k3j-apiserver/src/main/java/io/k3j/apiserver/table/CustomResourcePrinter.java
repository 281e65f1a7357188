package io.k3j.apiserver.table;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.jsonpath.JsonPath;
import io.k3j.api.jsonpath.JsonPathException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The apiextensions-apiserver table convertor: NAME, then one column per additionalPrinterColumn of the served
 * version. Without printer columns a version serves a single {@code Age} column ({@code date} type on
 * {@code .metadata.creationTimestamp}); with columns, no Age is added. Only the first JSONPath result is used;
 * a missing value, a failing path or a value of the wrong type is a null cell; {@code date} cells are ages.
 */
final class CustomResourcePrinter implements TablePrinter {

    private final List<Column> columns;
    private final List<JsonPath> paths;

    private CustomResourcePrinter(List<Column> columns, List<JsonPath> paths) {
        this.columns = List.copyOf(columns);
        this.paths = List.copyOf(paths);
    }

    static CustomResourcePrinter of(JsonNode additionalPrinterColumns) {
        List<Column> columns = new ArrayList<>();
        List<JsonPath> paths = new ArrayList<>();
        columns.add(Cells.name());
        if (additionalPrinterColumns == null || !additionalPrinterColumns.isArray() || additionalPrinterColumns.isEmpty()) {
            columns.add(new Column("Age", "date", "", Cells.CREATED, 0));
            paths.add(JsonPath.compile(".metadata.creationTimestamp"));
            return new CustomResourcePrinter(columns, paths);
        }
        for (JsonNode c : additionalPrinterColumns) {
            String jsonPath = Cells.text(c, "jsonPath");
            JsonPath path;
            try {
                path = JsonPath.compile(jsonPath);
            } catch (JsonPathException e) {
                throw new IllegalArgumentException("unrecognized column definition \"" + jsonPath + "\"", e);
            }
            String description = Cells.text(c, "description");
            if (description.isEmpty()) description = "Custom resource definition column (in JSONPath format): " + jsonPath;
            columns.add(new Column(Cells.text(c, "name"), Cells.text(c, "type"), Cells.text(c, "format"), description,
                    (int) Cells.integer(c, "priority")));
            paths.add(path);
        }
        return new CustomResourcePrinter(columns, paths);
    }

    @Override
    public List<Column> columns() {
        return columns;
    }

    @Override
    public List<Object> cells(ObjectNode obj, Instant now) {
        List<Object> cells = new ArrayList<>(columns.size());
        cells.add(Cells.name(obj));
        for (int i = 0; i < paths.size(); i++) {
            List<JsonNode> results;
            try {
                results = paths.get(i).evaluate(obj);
            } catch (JsonPathException e) {
                cells.add(null);
                continue;
            }
            if (results.isEmpty()) {
                cells.add(null);
                continue;
            }
            JsonNode value = results.get(0);
            String type = columns.get(i + 1).type();
            if (type.equals("string")) {
                // The convertor re-wraps the value with reflect.ValueOf, so a JSON null prints as Go's "<no value>".
                cells.add(value.isNull() ? "<no value>" : JsonPath.printText(value));
            } else {
                cells.add(cell(type, value, now));
            }
        }
        return cells;
    }

    // cellForJSONValue: a typed cell, or null when the value does not fit the column type.
    private static Object cell(String type, JsonNode value, Instant now) {
        if (value == null || value.isNull()) return null;
        switch (type) {
            case "integer" -> {
                if (value.isIntegralNumber()) return value.longValue();
                if (value.isNumber()) return (long) value.doubleValue();
            }
            case "number" -> {
                if (value.isNumber()) return value.doubleValue();
            }
            case "boolean" -> {
                if (value.isBoolean()) return value.booleanValue();
            }
            case "date" -> {
                if (value.isTextual()) {
                    String s = value.textValue();
                    if (s.isEmpty() || s.equals("null")) return "<unknown>";
                    try {
                        return HumanDuration.format(Duration.between(OffsetDateTime.parse(s).toInstant(), now));
                    } catch (DateTimeParseException e) {
                        return "<invalid>";
                    }
                }
            }
            default -> {
                return null;
            }
        }
        return null;
    }
}
