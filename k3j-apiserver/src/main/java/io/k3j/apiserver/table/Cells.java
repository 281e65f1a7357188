package io.k3j.apiserver.table;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Field access and formatting shared by the printers, mirroring printers.go helpers. */
final class Cells {
    private Cells() {}

    static final String NAME = Descriptions.of("meta.ObjectMeta.name");
    static final String CREATED = Descriptions.of("meta.ObjectMeta.creationTimestamp");
    static final String CONTAINERS = "Names of each container in the template.";
    static final String IMAGES = "Images referenced by each container in the template.";

    static TablePrinter.Column name() {
        return new TablePrinter.Column("Name", "string", "name", NAME, 0);
    }

    static TablePrinter.Column age() {
        return new TablePrinter.Column("Age", "string", "", CREATED, 0);
    }

    static TablePrinter.Column col(String name, String type, String description) {
        return new TablePrinter.Column(name, type, "", description, 0);
    }

    static TablePrinter.Column wide(String name, String type, String description) {
        return new TablePrinter.Column(name, type, "", description, 1);
    }

    /** Walks object fields; a missing step or JSON null gives null. */
    static JsonNode at(JsonNode n, String... path) {
        return Json.at(n, path);
    }

    static String text(JsonNode n, String... path) {
        JsonNode v = at(n, path);
        return v == null ? "" : v.isTextual() ? v.textValue() : v.isValueNode() ? v.asText() : "";
    }

    static long integer(JsonNode n, String... path) {
        JsonNode v = at(n, path);
        return v != null && v.isNumber() ? v.longValue() : 0;
    }

    static boolean bool(JsonNode n, String... path) {
        JsonNode v = at(n, path);
        return v != null && v.isBoolean() && v.booleanValue();
    }

    static List<JsonNode> items(JsonNode n, String... path) {
        JsonNode v = at(n, path);
        List<JsonNode> out = new ArrayList<>();
        if (v != null && v.isArray()) v.forEach(out::add);
        return out;
    }

    static int size(JsonNode n, String... path) {
        JsonNode v = at(n, path);
        return v != null && (v.isArray() || v.isObject()) ? v.size() : 0;
    }

    static Map<String, String> stringMap(JsonNode n, String... path) {
        Map<String, String> out = new TreeMap<>();
        JsonNode v = at(n, path);
        if (v != null && v.isObject()) v.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    static String name(ObjectNode obj) {
        return text(obj, "metadata", "name");
    }

    /** A metav1.Time / MicroTime, or null when absent or unparseable (Kubernetes would reject those). */
    static Instant time(JsonNode n, String... path) {
        String s = text(n, path);
        if (s.isEmpty()) return null;
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** translateTimestampSince: {@code <unknown>} for a zero time. */
    static String since(Instant t, Instant now) {
        return t == null ? "<unknown>" : HumanDuration.format(Duration.between(t, now));
    }

    static String age(ObjectNode obj, Instant now) {
        return since(time(obj, "metadata", "creationTimestamp"), now);
    }

    static boolean deleting(ObjectNode obj) {
        return at(obj, "metadata", "deletionTimestamp") != null;
    }

    /** labels.FormatLabels: sorted {@code k=v} pairs, {@code <none>} when empty. */
    static String formatLabels(Map<String, String> labels) {
        if (labels.isEmpty()) return "<none>";
        List<String> pairs = new ArrayList<>();
        labels.forEach((k, v) -> pairs.add(k + "=" + v));
        pairs.sort(null);
        return String.join(",", pairs);
    }

    /** metav1.FormatLabelSelector: {@code <none>} for empty or null, {@code <error>} when invalid. */
    static String formatLabelSelector(JsonNode selector) {
        try {
            String s = LabelSelector.fromJson(selector).toString();
            return s.isEmpty() ? "<none>" : s;
        } catch (ApiException e) {
            return "<error>";
        }
    }

    /** layoutContainerCells: names and images joined by commas. */
    static List<Object> containers(JsonNode podSpec) {
        List<String> names = new ArrayList<>();
        List<String> images = new ArrayList<>();
        for (JsonNode c : items(podSpec, "containers")) {
            names.add(text(c, "name"));
            images.add(text(c, "image"));
        }
        List<Object> out = new ArrayList<>(2);
        out.add(String.join(",", names));
        out.add(String.join(",", images));
        return out;
    }

    static List<Object> row(Object... cells) {
        List<Object> out = new ArrayList<>(cells.length);
        for (Object c : cells) out.add(c);
        return out;
    }

    /** listWithMoreString: at most {@code max} entries, then "+ N more...", {@code <unset>} when empty. */
    static String listWithMore(List<String> list, int count, int max) {
        String ret = String.join(",", list);
        if (count > max) return ret + " + " + (count - max) + " more...";
        return ret.isEmpty() ? "<unset>" : ret;
    }
}
