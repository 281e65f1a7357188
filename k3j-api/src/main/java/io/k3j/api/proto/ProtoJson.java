package io.k3j.api.proto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;

/**
 * Turns a decoded Kubernetes proto message into the JSON its Go type marshals to: JSON field names, Go's
 * omitempty and pointer rules ({@link GoFields}), and the apimachinery types whose JSON form is not their
 * proto shape (Quantity, IntOrString, Time, MicroTime, Duration, RawExtension, FieldsV1, named string slices).
 */
final class ProtoJson {
    private static final String RESOURCE = "k8s.io.apimachinery.pkg.api.resource.";
    private static final String INTSTR = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
    private static final String RUNTIME = "k8s.io.apimachinery.pkg.runtime.";
    private static final String META = ProtoTypes.META + ".";

    /** Go's time.RFC3339 as metav1.Time marshals it (always UTC, whole seconds). */
    private static final DateTimeFormatter RFC3339 =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    /** metav1.RFC3339Micro, as MicroTime marshals it. */
    private static final DateTimeFormatter RFC3339_MICRO =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private final int depth;

    /** {@code depth} counts envelopes nested through RawExtension, which a hostile body could stack deeply. */
    ProtoJson(int depth) {
        this.depth = depth;
    }

    ObjectNode object(DynamicMessage message) {
        ObjectNode out = Json.object();
        writeFields(message, out);
        return out;
    }

    private void writeFields(DynamicMessage message, ObjectNode out) {
        String type = message.getDescriptorForType().getFullName();
        for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
            String json = GoFields.jsonName(type, field.getName());
            if (field.isRepeated() && message.getRepeatedFieldCount(field) == 0) {
                // nil in Go: omitted, or null without omitempty
                if (GoFields.alwaysShown(type, field.getName())) out.putNull(json);
            } else if (field.isMapField()) {
                out.set(json, map((List<?>) message.getField(field)));
            } else if (field.isRepeated()) {
                int count = message.getRepeatedFieldCount(field);
                ArrayNode array = out.putArray(json);
                for (int i = 0; i < count; i++) array.add(value(field, message.getRepeatedField(field, i)));
            } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                if (!message.hasField(field)) continue;
                DynamicMessage nested = (DynamicMessage) message.getField(field);
                if (GoFields.inline(type, field.getName())) {
                    writeFields(nested, out);
                } else {
                    out.set(json, message(nested));
                }
            } else {
                boolean alwaysShown = GoFields.alwaysShown(type, field.getName());
                Object scalar = message.getField(field);
                if (message.hasField(field)) {
                    if (isZero(scalar) && !alwaysShown && !GoFields.pointer(type, field.getName())) continue;
                } else if (!alwaysShown || scalar instanceof ByteString) {
                    // absent nil []byte marshals as null: leave it out rather than invent a value
                    continue;
                }
                out.set(json, scalar(field, scalar));
            }
        }
    }

    private JsonNode value(FieldDescriptor field, Object value) {
        return value instanceof DynamicMessage nested ? message(nested) : scalar(field, value);
    }

    /** Map entries are messages with key = 1 and value = 2; Kubernetes only has string keys. */
    private ObjectNode map(List<?> entries) {
        ObjectNode out = Json.object();
        for (Object item : entries) {
            DynamicMessage entry = (DynamicMessage) item;
            Descriptor type = entry.getDescriptorForType();
            FieldDescriptor keyField = type.findFieldByNumber(1);
            FieldDescriptor valueField = type.findFieldByNumber(2);
            out.set(String.valueOf(entry.getField(keyField)), value(valueField, entry.getField(valueField)));
        }
        return out;
    }

    private JsonNode message(DynamicMessage message) {
        Descriptor type = message.getDescriptorForType();
        String name = type.getFullName();
        return switch (name) {
            case RESOURCE + "Quantity", RESOURCE + "QuantityValue" -> Json.NODES.textNode(string(message, "string"));
            case INTSTR -> longField(message, "type") == 1
                    ? Json.NODES.textNode(string(message, "strVal"))
                    : Json.NODES.numberNode((int) longField(message, "intVal"));
            case META + "Time" -> time(message, false);
            case META + "MicroTime" -> time(message, true);
            case META + "Duration" -> Json.NODES.textNode(GoDuration.format(longField(message, "duration")));
            case RUNTIME + "RawExtension" -> raw(message, "raw");
            case META + "FieldsV1" -> raw(message, "Raw");
            case "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JSON" -> raw(message, "raw");
            default -> {
                // Go named slices (type ExtraValue []string, type Verbs []string) are wrapped as {items} in proto
                if (type.getName().equals("ExtraValue") || name.equals(META + "Verbs")) {
                    FieldDescriptor items = type.findFieldByName("items");
                    ArrayNode array = Json.array();
                    for (int i = 0; i < message.getRepeatedFieldCount(items); i++) {
                        array.add((String) message.getRepeatedField(items, i));
                    }
                    yield array;
                }
                yield object(message);
            }
        };
    }

    /** metav1.Time: an empty message is the zero time, which marshals as null; nanoseconds are dropped. */
    private static JsonNode time(DynamicMessage message, boolean micro) {
        if (message.getAllFields().isEmpty()) return Json.NODES.nullNode();
        long seconds = longField(message, "seconds");
        long nanos = micro ? longField(message, "nanos") / 1000 * 1000 : 0;
        try {
            Instant instant = Instant.ofEpochSecond(seconds, nanos);
            return Json.NODES.textNode((micro ? RFC3339_MICRO : RFC3339).format(instant));
        } catch (DateTimeException | ArithmeticException e) {
            throw ApiException.badRequest("time out of range: " + seconds + "s " + nanos + "ns");
        }
    }

    /** RawExtension, FieldsV1 and apiextensions JSON carry JSON bytes, or a nested protobuf object. */
    private JsonNode raw(DynamicMessage message, String fieldName) {
        ByteString bytes = (ByteString) message.getField(message.getDescriptorForType().findFieldByName(fieldName));
        if (bytes.isEmpty()) return Json.NODES.nullNode();
        byte[] array = bytes.toByteArray();
        if (Envelope.hasMagic(array)) return KubeProtobuf.decode(array, "", "", depth + 1);
        return Json.parse(array);
    }

    private static JsonNode scalar(FieldDescriptor field, Object value) {
        return switch (field.getJavaType()) {
            case INT -> Json.NODES.numberNode((Integer) value);
            case LONG -> number((Long) value);
            case FLOAT -> number(((Float) value).doubleValue());
            case DOUBLE -> number((Double) value);
            case BOOLEAN -> Json.NODES.booleanNode((Boolean) value);
            case STRING -> Json.NODES.textNode((String) value);
            // encoding/json writes []byte as standard, padded base64
            case BYTE_STRING -> Json.NODES.textNode(Base64.getEncoder().encodeToString(((ByteString) value).toByteArray()));
            case ENUM -> Json.NODES.textNode(value.toString());
            case MESSAGE -> throw new IllegalArgumentException("not a scalar: " + field.getFullName());
        };
    }

    /** The node a JSON parse of Go's output would give: int when it fits, as for any other request body. */
    private static JsonNode number(long value) {
        return value == (int) value ? Json.NODES.numberNode((int) value) : Json.NODES.numberNode(value);
    }

    /** Go writes integral float64 values without a fraction ({@code 1}, not {@code 1.0}). */
    private static JsonNode number(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) return number((long) value);
        return Json.NODES.numberNode(value);
    }

    private static boolean isZero(Object value) {
        return switch (value) {
            case Integer i -> i == 0;
            case Long l -> l == 0L;
            case Float f -> f == 0f;
            case Double d -> d == 0d;
            case Boolean b -> !b;
            case String s -> s.isEmpty();
            case ByteString b -> b.isEmpty();
            default -> false;
        };
    }

    private static String string(DynamicMessage message, String name) {
        return (String) message.getField(message.getDescriptorForType().findFieldByName(name));
    }

    private static long longField(DynamicMessage message, String name) {
        return ((Number) message.getField(message.getDescriptorForType().findFieldByName(name))).longValue();
    }
}
