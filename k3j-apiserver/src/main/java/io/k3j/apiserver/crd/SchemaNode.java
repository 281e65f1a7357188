package io.k3j.apiserver.crd;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One node of a CRD's {@code openAPIV3Schema} (a JSONSchemaProps), parsed once. The same shape serves the
 * structural part and the value validations under allOf/anyOf/oneOf/not, as in apiextensions' JSONSchemaProps;
 * which keywords are allowed where is decided by {@link StructuralChecks}.
 */
final class SchemaNode {
    final JsonNode raw;
    final String type;
    final String format;
    final boolean hasDescription;
    final boolean hasTitle;
    final JsonNode defaultValue;
    final boolean nullable;
    final Double maximum;
    final boolean exclusiveMaximum;
    final Double minimum;
    final boolean exclusiveMinimum;
    final Long maxLength;
    final Long minLength;
    final String pattern;
    final Long maxItems;
    final Long minItems;
    final boolean uniqueItems;
    final Double multipleOf;
    final List<JsonNode> enumValues;
    final Long maxProperties;
    final Long minProperties;
    final List<String> required;
    final SchemaNode items;
    final boolean itemsIsArray;
    final Map<String, SchemaNode> properties;
    /** Null when additionalProperties is absent; otherwise {@link #additionalAllows} and maybe a schema. */
    final SchemaNode additionalSchema;
    final boolean additionalPresent;
    final boolean additionalAllows;
    final List<SchemaNode> allOf;
    final List<SchemaNode> anyOf;
    final List<SchemaNode> oneOf;
    final SchemaNode not;
    /** Null when unset; false is representable because the CRD API rejects it explicitly. */
    final Boolean preserveUnknownFields;
    final boolean embeddedResource;
    final boolean intOrString;
    final String listType;
    final List<String> listMapKeys;
    final String mapType;
    final boolean hasXValidations;

    private Pattern compiled;
    private String patternError;
    private boolean patternCompiled;

    private SchemaNode(JsonNode n) {
        raw = n;
        type = text(n, "type");
        format = text(n, "format");
        hasDescription = !text(n, "description").isEmpty();
        hasTitle = !text(n, "title").isEmpty();
        JsonNode d = n.get("default");
        defaultValue = d == null || d.isNull() ? null : d;
        nullable = bool(n, "nullable");
        maximum = dbl(n, "maximum");
        exclusiveMaximum = bool(n, "exclusiveMaximum");
        minimum = dbl(n, "minimum");
        exclusiveMinimum = bool(n, "exclusiveMinimum");
        maxLength = lng(n, "maxLength");
        minLength = lng(n, "minLength");
        pattern = text(n, "pattern");
        maxItems = lng(n, "maxItems");
        minItems = lng(n, "minItems");
        uniqueItems = bool(n, "uniqueItems");
        multipleOf = dbl(n, "multipleOf");
        JsonNode e = n.get("enum");
        if (e != null && e.isArray()) {
            List<JsonNode> values = new ArrayList<>();
            e.forEach(values::add);
            enumValues = Collections.unmodifiableList(values);
        } else {
            enumValues = List.of();
        }
        maxProperties = lng(n, "maxProperties");
        minProperties = lng(n, "minProperties");
        required = strings(n.get("required"));
        JsonNode it = n.get("items");
        if (it != null && it.isObject()) {
            items = new SchemaNode(it);
            itemsIsArray = false;
        } else {
            items = null;
            itemsIsArray = it != null && it.isArray();
        }
        Map<String, SchemaNode> props = new LinkedHashMap<>();
        JsonNode p = n.get("properties");
        if (p != null && p.isObject()) {
            p.properties().forEach(en -> {
                if (en.getValue().isObject()) props.put(en.getKey(), new SchemaNode(en.getValue()));
            });
        }
        properties = Collections.unmodifiableMap(props);
        JsonNode ap = n.get("additionalProperties");
        if (ap != null && ap.isObject()) {
            additionalPresent = true;
            additionalAllows = true;
            additionalSchema = new SchemaNode(ap);
        } else if (ap != null && ap.isBoolean()) {
            additionalPresent = true;
            additionalAllows = ap.booleanValue();
            additionalSchema = null;
        } else {
            additionalPresent = false;
            additionalAllows = true;
            additionalSchema = null;
        }
        allOf = list(n.get("allOf"));
        anyOf = list(n.get("anyOf"));
        oneOf = list(n.get("oneOf"));
        JsonNode nt = n.get("not");
        not = nt != null && nt.isObject() ? new SchemaNode(nt) : null;
        JsonNode pu = n.get("x-kubernetes-preserve-unknown-fields");
        preserveUnknownFields = pu != null && pu.isBoolean() ? pu.booleanValue() : null;
        embeddedResource = bool(n, "x-kubernetes-embedded-resource");
        intOrString = bool(n, "x-kubernetes-int-or-string");
        JsonNode lt = n.get("x-kubernetes-list-type");
        listType = lt != null && lt.isTextual() ? lt.asText() : null;
        listMapKeys = strings(n.get("x-kubernetes-list-map-keys"));
        JsonNode mt = n.get("x-kubernetes-map-type");
        mapType = mt != null && mt.isTextual() ? mt.asText() : null;
        JsonNode xv = n.get("x-kubernetes-validations");
        hasXValidations = xv != null && xv.isArray() && !xv.isEmpty();
    }

    static SchemaNode parse(JsonNode n) {
        if (n == null || !n.isObject()) throw new IllegalArgumentException("openAPIV3Schema must be a JSON object");
        return new SchemaNode(n);
    }

    boolean preserves() {
        return Boolean.TRUE.equals(preserveUnknownFields);
    }

    boolean has(String key) {
        return raw.has(key);
    }

    /** The types the kube-openapi validator checks against: int-or-string widens to integer,string. */
    List<String> validationTypes() {
        if (intOrString) return List.of("integer", "string");
        return type.isEmpty() ? List.of() : List.of(type);
    }

    /** The format after apiextensions strips the ones it does not support for the type (formats.go). */
    String effectiveFormat() {
        if (format.isEmpty()) return "";
        List<String> types = validationTypes();
        String t = types.size() == 1 ? types.get(0) : "";
        return switch (t) {
            case "", "string" -> Formats.supported(format) ? format : "";
            case "integer" -> format.equals("int32") || format.equals("int64") ? format : "";
            case "number" -> format.equals("float") || format.equals("double") ? format : "";
            default -> "";
        };
    }

    /** The compiled pattern, or null with {@link #patternError()} set when it does not compile. */
    synchronized Pattern compiledPattern() {
        if (!patternCompiled) {
            patternCompiled = true;
            try {
                compiled = Pattern.compile(pattern);
            } catch (PatternSyntaxException e) {
                patternError = e.getDescription();
            }
        }
        return compiled;
    }

    synchronized String patternError() {
        compiledPattern();
        return patternError;
    }

    /** True when this node is exactly {@code {type: t}} and nothing else (the int-or-string anyOf pattern). */
    boolean isOnlyType(String t) {
        return raw.size() == 1 && t.equals(type);
    }

    Set<String> keys() {
        Set<String> keys = new java.util.LinkedHashSet<>();
        raw.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    private static List<SchemaNode> list(JsonNode n) {
        if (n == null || !n.isArray()) return List.of();
        List<SchemaNode> out = new ArrayList<>();
        for (JsonNode x : n) if (x.isObject()) out.add(new SchemaNode(x));
        return Collections.unmodifiableList(out);
    }

    private static List<String> strings(JsonNode n) {
        if (n == null || !n.isArray()) return List.of();
        List<String> out = new ArrayList<>();
        for (JsonNode x : n) if (x.isTextual()) out.add(x.asText());
        return Collections.unmodifiableList(out);
    }

    private static String text(JsonNode n, String f) {
        JsonNode v = n.get(f);
        return v != null && v.isTextual() ? v.asText() : "";
    }

    private static boolean bool(JsonNode n, String f) {
        JsonNode v = n.get(f);
        return v != null && v.isBoolean() && v.booleanValue();
    }

    private static Double dbl(JsonNode n, String f) {
        JsonNode v = n.get(f);
        return v != null && v.isNumber() ? v.doubleValue() : null;
    }

    private static Long lng(JsonNode n, String f) {
        JsonNode v = n.get(f);
        return v != null && v.isNumber() ? v.longValue() : null;
    }
}
