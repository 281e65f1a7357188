package io.k3j.apiserver.crd;

import static io.k3j.apiserver.crd.GoValues.child;
import static io.k3j.apiserver.crd.GoValues.forbidden;
import static io.k3j.apiserver.crd.GoValues.index;
import static io.k3j.apiserver.crd.GoValues.invalid;
import static io.k3j.apiserver.crd.GoValues.key;
import static io.k3j.apiserver.crd.GoValues.notSupported;
import static io.k3j.apiserver.crd.GoValues.required;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a CRD's {@code openAPIV3Schema} must satisfy when the CRD is created (apiextensions
 * validation.go {@code validateCustomResourceDefinitionValidation} with the options new CRDs get): structural
 * schema invariants and completeness (apiserver/schema/validation.go, complete.go), defaults that validate and are
 * pruned (defaulting/validation.go) and the per-keyword OpenAPI restrictions. CEL rules are not compiled.
 */
final class StructuralChecks {
    private enum Level { ROOT, ITEM, FIELD }

    private static final Set<String> META_FIELDS = Set.of("metadata", "kind", "apiVersion");
    private static final List<String> OPENAPI_TYPES = List.of("array", "boolean", "integer", "number", "object", "string");
    private static final List<String> ROOT_FIELDS_WITH_STATUS = List.of("description", "type", "format", "title", "maximum",
            "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
            "uniqueItems", "multipleOf", "required", "items", "properties", "externalDocs", "example",
            "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations");
    private static final String ROOT_FIELDS_TEXT = "[Description Type Format Title Maximum ExclusiveMaximum Minimum "
            + "ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items "
            + "Properties ExternalDocs Example XPreserveUnknownFields XValidations]";

    private StructuralChecks() {}

    static List<Cause> check(JsonNode rawSchema, String path, boolean statusSubresource) {
        SchemaNode schema = SchemaNode.parse(rawSchema);
        List<Cause> errs = new ArrayList<>();
        if (statusSubresource) {
            for (String k : schema.keys()) {
                if (k.equals("type")) {
                    if (!schema.type.equals("object")) {
                        errs.add(invalid(child(path, "type"), schema.type,
                                "only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled"));
                        break;
                    }
                    continue;
                }
                if (!ROOT_FIELDS_WITH_STATUS.contains(k) && !isZero(rawSchema.get(k))) {
                    errs.add(invalid(path, rawSchema, "only " + ROOT_FIELDS_TEXT
                            + " fields are allowed at the root of the schema if the status subresource is enabled"));
                    break;
                }
            }
        }
        if (schema.nullable) errs.add(forbidden(child(path, "nullable"), "nullable cannot be true at the root"));

        List<Cause> structural = new ArrayList<>();
        invariants(schema, Level.ROOT, path, structural);
        completeness(schema, schema, path, path, structural);
        structural.sort(Comparator.comparing(Cause::render));
        errs.addAll(structural);
        if (structural.isEmpty()) defaults(schema, path, true, false, errs);

        openApi(schema, path, new Ctx(true, "", false), true, errs);
        return errs;
    }

    private static boolean isZero(JsonNode n) {
        if (n == null || n.isNull()) return true;
        if (n.isBoolean()) return !n.booleanValue();
        if (n.isTextual()) return n.asText().isEmpty();
        if (n.isContainerNode()) return n.isEmpty();
        return false;
    }

    // ---- structural invariants (schema/validation.go) ----

    private static void invariants(SchemaNode s, Level lvl, String path, List<Cause> errs) {
        if (s == null) return;
        if (s.type.equals("array") && s.items == null) errs.add(required(child(path, "items"), "must be specified"));
        invariants(s.items, Level.ITEM, child(path, "items"), errs);
        for (Map.Entry<String, SchemaNode> p : s.properties.entrySet()) {
            invariants(p.getValue(), Level.FIELD, key(child(path, "properties"), p.getKey()), errs);
        }
        if (s.additionalPresent) {
            if (lvl == Level.ROOT) errs.add(forbidden(child(path, "additionalProperties"), "must not be used at the root"));
            invariants(s.additionalSchema, Level.FIELD, child(path, "additionalProperties"), errs);
        }
        if (s.intOrString && s.preserves()) {
            errs.add(invalid(child(path, "x-kubernetes-preserve-unknown-fields"), true, "must be false if x-kubernetes-int-or-string is true"));
        }
        if (s.intOrString && s.embeddedResource) {
            errs.add(invalid(child(path, "x-kubernetes-embedded-resource"), true, "must be false if x-kubernetes-int-or-string is true"));
        }
        boolean skipAnyOf = s.anyOf.size() == 2 && intOrStringPair(s.anyOf);
        boolean skipFirstAllOfAnyOf = !s.allOf.isEmpty() && s.allOf.get(0).anyOf.size() == 2 && intOrStringPair(s.allOf.get(0).anyOf);
        valueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, path, errs);

        boolean checkMetadata = lvl == Level.ROOT || s.embeddedResource;
        if (s.embeddedResource && !s.type.equals("object")) {
            if (s.type.isEmpty()) errs.add(required(child(path, "type"), "must be object if x-kubernetes-embedded-resource is true"));
            else errs.add(invalid(child(path, "type"), s.type, "must be object if x-kubernetes-embedded-resource is true"));
        } else if (s.type.isEmpty() && !s.intOrString && !s.preserves()) {
            String detail = switch (lvl) {
                case ROOT -> "must not be empty at the root";
                case ITEM -> "must not be empty for specified array items";
                case FIELD -> "must not be empty for specified object fields";
            };
            errs.add(required(child(path, "type"), detail));
        }
        if (s.embeddedResource && s.additionalPresent) {
            errs.add(forbidden(child(path, "additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set"));
        }
        if (lvl == Level.ROOT && !s.type.isEmpty() && !s.type.equals("object")) {
            errs.add(invalid(child(path, "type"), s.type, "must be object at the root"));
        }
        for (String f : List.of("kind", "apiVersion")) {
            SchemaNode p = s.properties.get(f);
            if (p != null && checkMetadata && !p.type.equals("string")) {
                errs.add(invalid(child(key(child(path, "properties"), f), "type"), p.type, "must be string"));
            }
        }
        SchemaNode metadata = s.properties.get("metadata");
        if (metadata != null) {
            String mpath = key(child(path, "properties"), "metadata");
            if (checkMetadata && !metadata.type.equals("object")) {
                errs.add(invalid(child(mpath, "type"), metadata.type, "must be object"));
            }
            if (lvl == Level.ROOT && !onlyNameAndGenerateName(metadata)) {
                errs.add(forbidden(mpath, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
            }
        }
        if (s.embeddedResource && !s.preserves() && s.properties.isEmpty()) {
            errs.add(required(child(path, "properties"),
                    "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"));
        }
    }

    /** Root metadata may only be typed, defaulted (rejected elsewhere) and restrict name and generateName. */
    private static boolean onlyNameAndGenerateName(SchemaNode m) {
        Set<String> keys = new HashSet<>(m.keys());
        keys.remove("type");
        keys.remove("default");
        if (keys.remove("properties")) {
            Set<String> props = m.properties.keySet();
            boolean ok = !props.isEmpty() && props.stream().allMatch(p -> p.equals("name") || p.equals("generateName"));
            if (!ok) return false;
        }
        // fields at their zero value do not count, as Go compares the decoded struct
        for (String k : keys) if (!isZero(m.raw.get(k))) return false;
        return true;
    }

    private static boolean intOrStringPair(List<SchemaNode> anyOf) {
        return anyOf.get(0).isOnlyType("integer") && anyOf.get(1).isOnlyType("string");
    }

    private static void valueValidation(SchemaNode v, boolean skipAnyOf, boolean skipFirstAllOfAnyOf, String path, List<Cause> errs) {
        if (!skipAnyOf) {
            for (int i = 0; i < v.anyOf.size(); i++) nested(v.anyOf.get(i), false, index(child(path, "anyOf"), i), errs);
        }
        for (int i = 0; i < v.allOf.size(); i++) {
            nested(v.allOf.get(i), skipFirstAllOfAnyOf && i == 0, index(child(path, "allOf"), i), errs);
        }
        for (int i = 0; i < v.oneOf.size(); i++) nested(v.oneOf.get(i), false, index(child(path, "oneOf"), i), errs);
        if (v.not != null) nested(v.not, false, child(path, "not"), errs);
        if (!v.pattern.isEmpty() && v.patternError() != null) {
            errs.add(invalid(child(path, "pattern"), v.pattern, "must be a valid regular expression, but isn't: " + v.patternError()));
        }
    }

    private static void nested(SchemaNode v, boolean skipAnyOf, String path, List<Cause> errs) {
        valueValidation(v, skipAnyOf, false, path, errs);
        if (v.items != null) nested(v.items, false, child(path, "items"), errs);
        for (Map.Entry<String, SchemaNode> p : v.properties.entrySet()) {
            nested(p.getValue(), false, key(child(path, "properties"), p.getKey()), errs);
        }
        if (!v.type.isEmpty()) errs.add(forbidden(child(path, "type"), "must be empty to be structural"));
        if (v.additionalPresent) errs.add(forbidden(child(path, "additionalProperties"), "must be undefined to be structural"));
        if (v.defaultValue != null) errs.add(forbidden(child(path, "default"), "must be undefined to be structural"));
        if (v.hasTitle) errs.add(forbidden(child(path, "title"), "must be empty to be structural"));
        if (v.hasDescription) errs.add(forbidden(child(path, "description"), "must be empty to be structural"));
        if (v.nullable) errs.add(forbidden(child(path, "nullable"), "must be false to be structural"));
        if (v.preserves()) errs.add(forbidden(child(path, "x-kubernetes-preserve-unknown-fields"), "must be false to be structural"));
        if (v.embeddedResource) errs.add(forbidden(child(path, "x-kubernetes-embedded-resource"), "must be false to be structural"));
        if (v.intOrString) errs.add(forbidden(child(path, "x-kubernetes-int-or-string"), "must be false to be structural"));
        if (!v.listMapKeys.isEmpty()) errs.add(forbidden(child(path, "x-kubernetes-list-map-keys"), "must be empty to be structural"));
        if (v.listType != null) errs.add(forbidden(child(path, "x-kubernetes-list-type"), "must be undefined to be structural"));
        if (v.mapType != null) errs.add(forbidden(child(path, "x-kubernetes-map-type"), "must be undefined to be structural"));
        if (v.hasXValidations) errs.add(forbidden(child(path, "x-kubernetes-validations"), "must be empty to be structural"));
        if (v.properties.containsKey("metadata")) {
            errs.add(forbidden(key(child(path, "properties"), "metadata"), "must not be specified in a nested context"));
        }
    }

    // ---- completeness (complete.go): value validations only talk about fields the structure declares ----

    private static void completeness(SchemaNode v, SchemaNode s, String sPath, String vPath, List<Cause> errs) {
        if (v.not != null) nestedCompleteness(v.not, s, sPath, child(vPath, "not"), errs);
        for (int i = 0; i < v.allOf.size(); i++) nestedCompleteness(v.allOf.get(i), s, sPath, index(child(vPath, "allOf"), i), errs);
        for (int i = 0; i < v.anyOf.size(); i++) nestedCompleteness(v.anyOf.get(i), s, sPath, index(child(vPath, "anyOf"), i), errs);
        for (int i = 0; i < v.oneOf.size(); i++) nestedCompleteness(v.oneOf.get(i), s, sPath, index(child(vPath, "oneOf"), i), errs);
    }

    private static void nestedCompleteness(SchemaNode v, SchemaNode s, String sPath, String vPath, List<Cause> errs) {
        if (s == null) {
            errs.add(required(sPath, "because it is defined in " + vPath));
            return;
        }
        completeness(v, s, sPath, vPath, errs);
        if (v.items != null) nestedCompleteness(v.items, s.items, child(sPath, "items"), child(vPath, "items"), errs);
        for (Map.Entry<String, SchemaNode> p : v.properties.entrySet()) {
            SchemaNode sf = s.properties.get(p.getKey());
            String sp = key(child(sPath, "properties"), p.getKey());
            String vp = key(child(vPath, "properties"), p.getKey());
            if (sf == null) errs.add(required(sp, "because it is defined in " + vp));
            else nestedCompleteness(p.getValue(), sf, sp, vp, errs);
        }
    }

    // ---- defaults (defaulting/validation.go): valid against their own schema and already pruned ----

    private static void defaults(SchemaNode s, String path, boolean resourceRoot, boolean insideMeta, List<Cause> errs) {
        if (s == null) return;
        if (s.embeddedResource) insideMeta = false;
        if (s.defaultValue != null && !insideMeta) {
            JsonNode pruned = s.defaultValue.deepCopy();
            SchemaOps.prune(pruned, s, s.embeddedResource || resourceRoot, null, "");
            if (!GoValues.deepEqual(pruned, s.defaultValue)) {
                errs.add(invalid(child(path, "default"), s.defaultValue, "must not have unknown fields"));
            }
            errs.addAll(OpenApiValidator.causes(s, s.defaultValue, child(path, "default")));
        }
        defaults(s.items, child(path, "items"), false, insideMeta, errs);
        for (Map.Entry<String, SchemaNode> p : s.properties.entrySet()) {
            boolean subMeta = insideMeta || (s.embeddedResource || resourceRoot) && META_FIELDS.contains(p.getKey());
            defaults(p.getValue(), key(child(path, "properties"), p.getKey()), false, subMeta, errs);
        }
    }

    // ---- ValidateCustomResourceDefinitionOpenAPISchema ----

    private record Ctx(boolean allowDefaults, String disallowReason, boolean insideResourceMeta) {
        Ctx forbidDefaults(String reason) {
            return new Ctx(false, reason, insideResourceMeta);
        }

        Ctx insideMeta() {
            return new Ctx(allowDefaults, disallowReason, true);
        }
    }

    private static void openApi(SchemaNode s, String path, Ctx ctx, boolean isRoot, List<Cause> errs) {
        if (s == null) return;
        standard(s, path, ctx, errs);
        if (s.uniqueItems) {
            errs.add(forbidden(child(path, "uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
        }
        if (s.additionalPresent) {
            if (!s.properties.isEmpty() && (!s.additionalAllows || s.additionalSchema != null)) {
                errs.add(forbidden(child(path, "additionalProperties"), "additionalProperties and properties are mutual exclusive"));
            }
            Ctx sub = ctx.insideResourceMeta() ? ctx.forbidDefaults("inside additionalProperties applying to object metadata") : ctx;
            openApi(s.additionalSchema, child(path, "additionalProperties"), sub, false, errs);
        }
        for (Map.Entry<String, SchemaNode> p : s.properties.entrySet()) {
            Ctx sub = ctx;
            if ((isRoot || s.embeddedResource) && META_FIELDS.contains(p.getKey())) {
                sub = sub.insideMeta();
                if (isRoot) sub = sub.forbidDefaults("in top-level " + p.getKey());
            }
            openApi(p.getValue(), key(child(path, "properties"), p.getKey()), sub, false, errs);
        }
        openApi(s.not, child(path, "not"), ctx, false, errs);
        for (int i = 0; i < s.allOf.size(); i++) openApi(s.allOf.get(i), index(child(path, "allOf"), i), ctx, false, errs);
        for (int i = 0; i < s.oneOf.size(); i++) openApi(s.oneOf.get(i), index(child(path, "oneOf"), i), ctx, false, errs);
        for (int i = 0; i < s.anyOf.size(); i++) openApi(s.anyOf.get(i), index(child(path, "anyOf"), i), ctx, false, errs);
        JsonNode defs = s.raw.get("definitions");
        if (defs != null && defs.isObject()) {
            defs.properties().forEach(d -> {
                if (d.getValue().isObject()) openApi(SchemaNode.parse(d.getValue()), key(child(path, "definitions"), d.getKey()), ctx, false, errs);
            });
        }
        if (s.items != null) openApi(s.items, child(path, "items"), ctx, false, errs);
        if (s.itemsIsArray) {
            JsonNode arr = s.raw.get("items");
            for (int i = 0; i < arr.size(); i++) {
                if (arr.get(i).isObject()) openApi(SchemaNode.parse(arr.get(i)), index(child(path, "items"), i), ctx, false, errs);
            }
        }
        JsonNode deps = s.raw.get("dependencies");
        if (deps != null && deps.isObject()) {
            deps.properties().forEach(d -> {
                if (d.getValue().isObject()) openApi(SchemaNode.parse(d.getValue()), key(child(path, "dependencies"), d.getKey()), ctx, false, errs);
            });
        }
        if (Boolean.FALSE.equals(s.preserveUnknownFields)) {
            errs.add(invalid(child(path, "x-kubernetes-preserve-unknown-fields"), false, "must be true or undefined"));
        }
        if (s.mapType != null && !s.type.equals("object")) {
            if (s.type.isEmpty()) errs.add(required(child(path, "type"), "must be object if x-kubernetes-map-type is specified"));
            else errs.add(invalid(child(path, "type"), s.type, "must be object if x-kubernetes-map-type is specified"));
        }
        if (s.mapType != null && !s.mapType.equals("atomic") && !s.mapType.equals("granular")) {
            errs.add(notSupported(child(path, "x-kubernetes-map-type"), s.mapType, List.of("atomic", "granular")));
        }
        if (s.listType != null && !s.type.equals("array")) {
            if (s.type.isEmpty()) errs.add(required(child(path, "type"), "must be array if x-kubernetes-list-type is specified"));
            else errs.add(invalid(child(path, "type"), s.type, "must be array if x-kubernetes-list-type is specified"));
        } else if ("set".equals(s.listType) && s.items != null) {
            SchemaNode is = s.items;
            if (is.type.equals("array") && is.listType != null && !is.listType.equals("atomic")) {
                errs.add(invalid(child(child(path, "items"), "x-kubernetes-list-type"), is.listType,
                        "must be atomic as item of a list with x-kubernetes-list-type=set"));
            } else if (is.type.equals("object") && !"atomic".equals(is.mapType)) {
                // Go passes the item's list type here, which is nil for objects
                errs.add(invalid(child(child(path, "items"), "x-kubernetes-map-type"), is.listType == null ? Json.NODES.nullNode() : is.listType,
                        "must be atomic as item of a list with x-kubernetes-list-type=set"));
            }
        }
        if (s.listType != null && !List.of("atomic", "set", "map").contains(s.listType)) {
            errs.add(notSupported(child(path, "x-kubernetes-list-type"), s.listType, List.of("atomic", "set", "map")));
        }
        if (!s.listMapKeys.isEmpty()) {
            if (s.listType == null) errs.add(required(child(path, "x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty"));
            else if (!s.listType.equals("map")) {
                errs.add(invalid(child(path, "x-kubernetes-list-type"), s.listType, "must be map if x-kubernetes-list-map-keys is non-empty"));
            }
        }
        if ("map".equals(s.listType)) listMap(s, path, errs);
        mapListKeysMapSet(s, path, errs);
    }

    private static void listMap(SchemaNode s, String path, List<Cause> errs) {
        if (s.listMapKeys.isEmpty()) errs.add(required(child(path, "x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map"));
        if (s.items == null && !s.itemsIsArray) errs.add(required(child(path, "items"), "must have a schema if x-kubernetes-list-type is map"));
        if (s.itemsIsArray) errs.add(invalid(child(path, "items"), s.raw.get("items"), "must only have a single schema if x-kubernetes-list-type is map"));
        if (s.items == null) return;
        if (!s.items.type.equals("object")) {
            errs.add(invalid(child(child(path, "items"), "type"), s.items.type, "must be object if parent array's x-kubernetes-list-type is map"));
            return;
        }
        ArrayNode keysValue = Json.array();
        s.listMapKeys.forEach(keysValue::add);
        Set<String> seen = new HashSet<>();
        for (String k : s.listMapKeys) {
            SchemaNode p = s.items.properties.get(k);
            if (p != null) {
                if (p.type.equals("array") || p.type.equals("object")) {
                    errs.add(invalid(child(key(child(child(path, "items"), "properties"), k), "type"), s.items.type,
                            "must be a scalar type if parent array's x-kubernetes-list-type is map"));
                }
            } else {
                errs.add(invalid(child(path, "x-kubernetes-list-map-keys"), keysValue, "entries must all be names of item properties"));
            }
            if (!seen.add(k)) errs.add(invalid(child(path, "x-kubernetes-list-map-keys"), keysValue, "must not contain duplicate entries"));
        }
    }

    private static void mapListKeysMapSet(SchemaNode s, String path, List<Cause> errs) {
        if (s.items == null || s.listType == null || !(s.listType.equals("set") || s.listType.equals("map"))) return;
        if (s.items.nullable) {
            errs.add(forbidden(child(child(path, "items"), "nullable"), "cannot be nullable when x-kubernetes-list-type is " + s.listType));
        }
        if (s.listType.equals("map")) {
            Set<String> req = new HashSet<>(s.items.required);
            for (String k : s.listMapKeys) {
                SchemaNode p = s.items.properties.get(k);
                if (p == null) continue;
                String kp = key(child(child(path, "items"), "properties"), k);
                if (!req.contains(k) && p.defaultValue == null) {
                    errs.add(required(child(kp, "default"), "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"));
                }
                if (p.nullable) errs.add(forbidden(child(kp, "nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"));
            }
        }
    }

    /** specStandardValidatorV3.validate. */
    private static void standard(SchemaNode s, String path, Ctx ctx, List<Cause> errs) {
        if (!s.type.isEmpty() && !OPENAPI_TYPES.contains(s.type)) {
            errs.add(notSupported(child(path, "type"), s.type, OPENAPI_TYPES));
        }
        if (s.defaultValue != null && !ctx.allowDefaults()) {
            errs.add(forbidden(child(path, "default"), "must not be set" + (ctx.disallowReason().isEmpty() ? "" : " " + ctx.disallowReason())));
        }
        if (!s.raw.path("id").asText("").isEmpty()) errs.add(forbidden(child(path, "id"), "id is not supported"));
        if (s.has("additionalItems")) errs.add(forbidden(child(path, "additionalItems"), "additionalItems is not supported"));
        if (!s.raw.path("patternProperties").isEmpty()) errs.add(forbidden(child(path, "patternProperties"), "patternProperties is not supported"));
        if (!s.raw.path("definitions").isEmpty()) errs.add(forbidden(child(path, "definitions"), "definitions is not supported"));
        if (s.has("dependencies") && !s.raw.get("dependencies").isNull()) errs.add(forbidden(child(path, "dependencies"), "dependencies is not supported"));
        if (s.has("$ref")) errs.add(forbidden(child(path, "$ref"), "$ref is not supported"));
        if (s.type.equals("null")) errs.add(forbidden(child(path, "type"), "type cannot be set to null, use nullable as an alternative"));
        if (s.itemsIsArray && !s.raw.get("items").isEmpty()) errs.add(forbidden(child(path, "items"), "items must be a schema object and not an array"));
        if (ctx.insideResourceMeta() && s.embeddedResource) {
            errs.add(forbidden(child(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta"));
        }
    }
}
