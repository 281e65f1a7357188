package io.k3j.apiserver.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/** Reading and writing {@code metadata} of objects held as JSON trees. */
public final class Meta {
    private Meta() {}

    public static ObjectNode metadata(ObjectNode obj) {
        return Json.obj(obj, "metadata");
    }

    public static String name(JsonNode obj) {
        return Json.text(obj.get("metadata"), "name");
    }

    public static String namespace(JsonNode obj) {
        return Json.text(obj.get("metadata"), "namespace");
    }

    public static String uid(JsonNode obj) {
        return Json.text(obj.get("metadata"), "uid");
    }

    public static String resourceVersion(JsonNode obj) {
        return Json.text(obj.get("metadata"), "resourceVersion");
    }

    public static boolean deleting(JsonNode obj) {
        JsonNode m = obj.get("metadata");
        return m != null && m.hasNonNull("deletionTimestamp");
    }

    public static List<String> finalizers(JsonNode obj) {
        List<String> out = new ArrayList<>();
        JsonNode f = Json.at(obj, "metadata", "finalizers");
        if (f != null && f.isArray()) f.forEach(n -> out.add(n.asText()));
        return out;
    }

    public static void setFinalizers(ObjectNode obj, List<String> finalizers) {
        if (finalizers.isEmpty()) {
            metadata(obj).remove("finalizers");
            return;
        }
        ArrayNode a = metadata(obj).putArray("finalizers");
        finalizers.forEach(a::add);
    }

    public static JsonNode labels(JsonNode obj) {
        return Json.at(obj, "metadata", "labels");
    }

    /** RFC 3339 with second precision, as metav1.Time serializes. */
    public static String timestamp(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
    }
}
