package io.k3j.apiserver.crd;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException.Cause;
import io.k3j.apiserver.crd.GoValues.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Validates a decoded value against a schema the way kube-openapi's {@code validate.SchemaValidator} does, then
 * maps its errors to field errors as apiextensions' {@code kubeOpenAPIResultToFieldErrors} does. The order of
 * the per-node validators, the message texts, the de-duplication of equal messages and the "best failure"
 * choice for anyOf/oneOf (by match count) all follow that code, because clients see its output verbatim.
 */
final class OpenApiValidator {

    enum Code { INVALID_TYPE, REQUIRED, TOO_LONG, TOO_SHORT, PATTERN, ENUM, MULTIPLE_OF, MAX, MIN, UNIQUE,
        MAX_ITEMS, MIN_ITEMS, TOO_FEW_PROPERTIES, TOO_MANY_PROPERTIES, UNALLOWED_PROPERTY, MULTIPLE_OF_POSITIVE }

    /** An error; {@code code == null} for the plain errors kube-openapi makes with fmt.Errorf/errors.New. */
    record Err(Code code, String name, Object value, long valid, List<JsonNode> values, String message) {
        static Err plain(String message) {
            return new Err(null, "", null, -1, List.of(), message);
        }
    }

    static final class Result {
        final List<Err> errors = new ArrayList<>();
        int matchCount;

        void add(Err e) {
            if (e == null) return;
            for (Err r : errors) if (r.message().equals(e.message())) return;
            errors.add(e);
        }

        Result merge(Result other) {
            if (other != null) {
                other.errors.forEach(this::add);
                matchCount += other.matchCount;
            }
            return this;
        }

        boolean valid() {
            return errors.isEmpty();
        }

        static Result of(Err e) {
            Result r = new Result();
            r.add(e);
            return r;
        }
    }

    private static final String IN = "body";

    private OpenApiValidator() {}

    /** Validates {@code data} against {@code schema}; causes are rooted at {@code fieldPrefix} ("" for the object). */
    static List<Cause> causes(SchemaNode schema, JsonNode data, String fieldPrefix) {
        return toCauses(validate(schema, data, ""), fieldPrefix);
    }

    static Result validate(SchemaNode s, JsonNode data, String path) {
        Result result = new Result();
        Kind kind = GoValues.kind(data);
        if (kind == Kind.NULL) {
            result.merge(type(s, data, path));
            result.merge(common(s, data, path));
            return result;
        }
        if (!s.validationTypes().isEmpty() || !s.effectiveFormat().isEmpty()) {
            result.merge(type(s, data, path));
            result.matchCount++;
        }
        result.merge(schemaProps(s, data, path));
        result.matchCount++;
        if (kind == Kind.STRING) {
            result.merge(string(s, data.asText(), path));
            result.matchCount++;
            String format = s.effectiveFormat();
            if (Formats.known(format)) {
                if (!Formats.valid(format, data.asText())) {
                    result.add(invalidType(path, format, data.asText()));
                }
                result.matchCount++;
            }
        }
        if (kind == Kind.INT || kind == Kind.FLOAT) {
            result.merge(number(s, data, path));
            result.matchCount++;
        }
        if (kind == Kind.ARRAY) {
            result.merge(slice(s, data, path));
            result.matchCount++;
        }
        result.merge(common(s, data, path));
        result.matchCount++;
        if (kind == Kind.OBJECT) {
            result.merge(object(s, data, path));
            result.matchCount++;
        }
        result.matchCount++;
        return result;
    }

    private static Err invalidType(String path, String typeName, String actual) {
        return new Err(Code.INVALID_TYPE, path, actual, -1, List.of(),
                path + " in " + IN + " must be of type " + typeName + ": " + GoValues.quote(actual));
    }

    private static Result type(SchemaNode s, JsonNode data, String path) {
        List<String> types = s.validationTypes();
        String joined = String.join(",", types);
        Kind kind = GoValues.kind(data);
        if (kind == Kind.NULL) {
            if (!types.isEmpty() && !types.contains("null") && !s.nullable) return Result.of(invalidType(path, joined, "null"));
            return new Result();
        }
        String schType;
        String format = "";
        switch (kind) {
            case BOOL -> schType = "boolean";
            case STRING -> schType = "string";
            case INT -> { schType = "integer"; format = "int64"; }
            case FLOAT -> { schType = "number"; format = "float64"; }
            case ARRAY -> schType = "array";
            default -> schType = "object";
        }
        String tFormat = s.effectiveFormat();
        boolean isFloatInt = kind == Kind.FLOAT && isJsonInteger(data.doubleValue()) && types.contains("integer");
        boolean isIntFloat = kind == Kind.INT && types.contains("number");
        if (kind != Kind.STRING && kind != Kind.ARRAY && !tFormat.isEmpty()
                && !(types.contains(schType) || format.equals(tFormat) || isFloatInt || isIntFloat)) {
            return Result.of(invalidType(path, tFormat, format));
        }
        if (!(types.contains("number") || types.contains("integer")) && !tFormat.isEmpty()
                && (kind == Kind.STRING || kind == Kind.ARRAY)) {
            Result ok = new Result();
            ok.matchCount++;
            return ok;
        }
        if (!(types.contains(schType) || isFloatInt || isIntFloat)) return Result.of(invalidType(path, joined, schType));
        Result ok = new Result();
        ok.matchCount++;
        return ok;
    }

    /** swag.IsFloat64AJSONInteger: an integral value within the range JSON numbers represent exactly. */
    static boolean isJsonInteger(double f) {
        return !Double.isNaN(f) && !Double.isInfinite(f) && f == Math.rint(f) && Math.abs(f) <= 9007199254740991d;
    }

    private static Result schemaProps(SchemaNode s, JsonNode data, String path) {
        Result main = new Result();
        if (!s.anyOf.isEmpty()) {
            Result best = null;
            Result firstSuccess = null;
            boolean succeeded = false;
            for (SchemaNode sub : s.anyOf) {
                Result r = validate(sub, data, path);
                if (r.valid()) {
                    best = null;
                    succeeded = true;
                    firstSuccess = r;
                    break;
                }
                if (best == null || r.matchCount > best.matchCount) best = r;
            }
            if (!succeeded) main.add(Err.plain(GoValues.quote(path) + " must validate at least one schema (anyOf)"));
            if (best != null) main.merge(best);
            else if (firstSuccess != null) main.merge(firstSuccess);
        }
        if (!s.oneOf.isEmpty()) {
            Result best = null;
            Result firstSuccess = null;
            int validated = 0;
            for (SchemaNode sub : s.oneOf) {
                Result r = validate(sub, data, path);
                if (r.valid()) {
                    validated++;
                    best = null;
                    if (firstSuccess == null) firstSuccess = r;
                    continue;
                }
                if (validated == 0 && (best == null || r.matchCount > best.matchCount)) best = r;
            }
            if (validated != 1) {
                String more = validated == 0 ? "Found none valid" : "Found " + validated + " valid alternatives";
                main.add(Err.plain(GoValues.quote(path) + " must validate one and only one schema (oneOf). " + more));
                if (best != null) main.merge(best);
            } else {
                main.merge(firstSuccess);
            }
        }
        if (!s.allOf.isEmpty()) {
            int validated = 0;
            for (SchemaNode sub : s.allOf) {
                Result r = validate(sub, data, path);
                if (r.valid()) validated++;
                main.merge(r);
            }
            if (validated != s.allOf.size()) {
                main.add(Err.plain(GoValues.quote(path) + " must validate all the schemas (allOf)"
                        + (validated == 0 ? ". None validated" : "")));
            }
        }
        if (s.not != null && validate(s.not, data, path).valid()) {
            main.add(Err.plain(GoValues.quote(path) + " must not validate the schema (not)"));
        }
        main.matchCount++;
        return main;
    }

    private static Result string(SchemaNode s, String data, String path) {
        long len = data.codePointCount(0, data.length());
        if (s.maxLength != null && len > s.maxLength) {
            return Result.of(new Err(Code.TOO_LONG, path, data, s.maxLength, List.of(),
                    path + " in " + IN + " should be at most " + s.maxLength + " chars long"));
        }
        if (s.minLength != null && len < s.minLength) {
            return Result.of(new Err(Code.TOO_SHORT, path, data, s.minLength, List.of(),
                    path + " in " + IN + " should be at least " + s.minLength + " chars long"));
        }
        if (!s.pattern.isEmpty()) {
            Pattern p = s.compiledPattern();
            if (p == null) {
                return Result.of(new Err(Code.PATTERN, path, data, -1, List.of(), path + " in " + IN + " should match '"
                        + s.pattern + ", but pattern is invalid: " + s.patternError() + "'"));
            }
            if (!p.matcher(data).find()) {
                return Result.of(new Err(Code.PATTERN, path, data, -1, List.of(),
                        path + " in " + IN + " should match '" + s.pattern + "'"));
            }
        }
        return new Result();
    }

    private static Result number(SchemaNode s, JsonNode val, String path) {
        String typeName = "";
        String format = "";
        List<String> types = s.validationTypes();
        String f = s.effectiveFormat();
        if (types.size() == 1) {
            if (types.get(0).equals("integer")) {
                typeName = "integer";
                if (f.equals("int32") || f.equals("int64")) format = f;
            } else if (types.get(0).equals("number")) {
                typeName = "number";
                if (f.equals("float") || f.equals("double")) format = f;
            }
        }
        boolean isInt = GoValues.kind(val) == Kind.INT;
        double data = val.doubleValue();
        Result res = new Result();
        res.add(range(isInt ? (Object) val.longValue() : (Object) data, typeName, format, "Checked", path));

        Result resMultiple = new Result();
        Result resMinimum = new Result();
        Result resMaximum = new Result();
        if (s.multipleOf != null) {
            resMultiple.add(range(s.multipleOf, typeName, format, "MultipleOf", path));
            if (resMultiple.valid() && isInt) {
                long factor = (long) (double) s.multipleOf;
                if (factor <= 0) resMultiple.add(multipleOfPositive(path, factor));
                else if (val.longValue() % factor != 0) resMultiple.add(notMultipleOf(path, factor, val.longValue()));
            } else {
                double factor = s.multipleOf;
                if (factor <= 0) {
                    resMultiple.add(multipleOfPositive(path, factor));
                } else {
                    double mult = factor < 1 ? 1 / factor * data : data / factor;
                    if (!isJsonInteger(mult)) resMultiple.add(notMultipleOf(path, factor, data));
                }
            }
        }
        if (s.maximum != null) {
            resMaximum.add(range(s.maximum, typeName, format, "Maximum boundary", path));
            boolean exclusive = s.exclusiveMaximum;
            if (resMaximum.valid() && isInt) {
                long max = (long) (double) s.maximum;
                long v = val.longValue();
                if ((!exclusive && v > max) || (exclusive && v >= max)) resMaximum.add(bound(Code.MAX, path, max, exclusive, v));
            } else {
                double max = s.maximum;
                if ((!exclusive && data > max) || (exclusive && data >= max)) resMaximum.add(bound(Code.MAX, path, max, exclusive, data));
            }
        }
        if (s.minimum != null) {
            resMinimum.add(range(s.minimum, typeName, format, "Minimum boundary", path));
            boolean exclusive = s.exclusiveMinimum;
            if (resMinimum.valid() && isInt) {
                long min = (long) (double) s.minimum;
                long v = val.longValue();
                if ((!exclusive && v < min) || (exclusive && v <= min)) resMinimum.add(bound(Code.MIN, path, min, exclusive, v));
            } else {
                double min = s.minimum;
                if ((!exclusive && data < min) || (exclusive && data <= min)) resMinimum.add(bound(Code.MIN, path, min, exclusive, data));
            }
        }
        res.merge(resMultiple).merge(resMinimum).merge(resMaximum);
        res.matchCount++;
        return res;
    }

    private static Err bound(Code code, String path, Object limit, boolean exclusive, Object value) {
        String l = limit instanceof Double d ? GoValues.goFloat(d) : limit.toString();
        String verb = code == Code.MAX
                ? (exclusive ? " should be less than " : " should be less than or equal to ")
                : (exclusive ? " should be greater than " : " should be greater than or equal to ");
        return new Err(code, path, value, -1, List.of(), path + " in " + IN + verb + l);
    }

    private static Err notMultipleOf(String path, Object factor, Object value) {
        String f = factor instanceof Double d ? GoValues.goFloat(d) : factor.toString();
        return new Err(Code.MULTIPLE_OF, path, value, -1, List.of(), path + " in " + IN + " should be a multiple of " + f);
    }

    private static Err multipleOfPositive(String path, Object factor) {
        String f = factor instanceof Double d ? GoValues.goFloat(d) : factor.toString();
        return new Err(Code.MULTIPLE_OF_POSITIVE, path, factor, -1, List.of(),
                "factor MultipleOf declared for " + path + " must be positive: " + f);
    }

    /** IsValueValidAgainstRange: does the number fit the declared type and format? A plain (fmt) error if not. */
    private static Err range(Object val, String typeName, String format, String prefix, String path) {
        String rep = val instanceof Long l ? l.toString() : GoValues.plainFloat((Double) val);
        boolean bad = false;
        if (typeName.equals("integer")) {
            try {
                long v = Long.parseLong(rep);
                if (format.equals("int32") && (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE)) bad = true;
            } catch (NumberFormatException e) {
                bad = true;
            }
        } else if (format.equals("float")) {
            double d = Double.parseDouble(rep);
            bad = Math.abs(d) > Float.MAX_VALUE;
        }
        if (!bad) return null;
        return Err.plain(format.isEmpty()
                ? prefix + " value must be of type " + typeName + " (default format) in " + path
                : prefix + " value must be of type " + typeName + " with format " + format + " in " + path);
    }

    private static Result slice(SchemaNode s, JsonNode data, String path) {
        Result result = new Result();
        int size = data.size();
        if (s.items != null) {
            for (int i = 0; i < size; i++) result.merge(validate(s.items, data.get(i), path + "[" + i + "]"));
        }
        if (s.minItems != null && size < s.minItems) {
            result.add(new Err(Code.MIN_ITEMS, path, (long) size, s.minItems, List.of(),
                    path + " in " + IN + " should have at least " + s.minItems + " items"));
        }
        if (s.maxItems != null && size > s.maxItems) {
            result.add(new Err(Code.MAX_ITEMS, path, (long) size, s.maxItems, List.of(),
                    path + " in " + IN + " should have at most " + s.maxItems + " items"));
        }
        if (s.uniqueItems) {
            outer:
            for (int i = 0; i < size; i++) {
                for (int j = 0; j < i; j++) {
                    if (GoValues.deepEqual(data.get(i), data.get(j))) {
                        result.add(new Err(Code.UNIQUE, path, null, -1, List.of(), path + " in " + IN + " shouldn't contain duplicates"));
                        break outer;
                    }
                }
            }
        }
        result.matchCount++;
        return result;
    }

    private static Result common(SchemaNode s, JsonNode data, String path) {
        if (s.enumValues.isEmpty()) return new Result();
        for (JsonNode e : s.enumValues) if (enumMatches(data, e)) return new Result();
        List<String> printed = new ArrayList<>();
        s.enumValues.forEach(v -> printed.add(GoValues.plain(v)));
        return Result.of(new Err(Code.ENUM, path, data, -1, s.enumValues,
                path + " in " + IN + " should be one of [" + String.join(" ", printed) + "]"));
    }

    /** reflect: the value converted to the enum entry's Go type, then DeepEqual. */
    private static boolean enumMatches(JsonNode data, JsonNode e) {
        Kind dk = GoValues.kind(data), ek = GoValues.kind(e);
        if (dk == Kind.NULL || ek == Kind.NULL) return false;
        if (dk == ek) return GoValues.deepEqual(data, e);
        if (dk == Kind.INT && ek == Kind.FLOAT) return (double) data.longValue() == e.doubleValue();
        if (dk == Kind.FLOAT && ek == Kind.INT) return (long) data.doubleValue() == e.longValue();
        if (dk == Kind.INT && ek == Kind.STRING) {
            long v = data.longValue();
            String converted = v >= 0 && v <= Character.MAX_CODE_POINT ? new String(Character.toChars((int) v)) : "\uFFFD";
            return converted.equals(e.asText());
        }
        return false;
    }

    private static Result object(SchemaNode s, JsonNode data, String path) {
        Result res = new Result();
        long numKeys = data.size();
        if (s.minProperties != null && numKeys < s.minProperties) {
            res.add(new Err(Code.TOO_FEW_PROPERTIES, path, numKeys, s.minProperties, List.of(),
                    path + " in " + IN + " should have at least " + s.minProperties + " properties"));
        }
        if (s.maxProperties != null && numKeys > s.maxProperties) {
            res.add(new Err(Code.TOO_MANY_PROPERTIES, path, numKeys, s.maxProperties, List.of(),
                    path + " in " + IN + " should have at most " + s.maxProperties + " properties"));
        }
        if (s.additionalPresent && !s.additionalAllows) {
            data.fieldNames().forEachRemaining(k -> {
                if (!s.properties.containsKey(k)) {
                    res.add(new Err(Code.UNALLOWED_PROPERTY, path, k, -1, List.of(),
                            path + "." + k + " in " + IN + " is a forbidden property"));
                }
            });
        } else if (s.additionalSchema != null) {
            data.properties().forEach(en -> {
                if (!s.properties.containsKey(en.getKey())) {
                    res.merge(validate(s.additionalSchema, en.getValue(), path + "." + en.getKey()));
                }
            });
        }
        for (Map.Entry<String, SchemaNode> p : s.properties.entrySet()) {
            JsonNode v = data.get(p.getKey());
            if (v != null) res.merge(validate(p.getValue(), v, path.isEmpty() ? p.getKey() : path + "." + p.getKey()));
        }
        for (String k : s.required) {
            if (!data.has(k)) res.add(new Err(Code.REQUIRED, path + "." + k, null, -1, List.of(), path + "." + k + " in " + IN + " is required"));
        }
        return res;
    }

    /** kubeOpenAPIResultToFieldErrors. */
    static List<Cause> toCauses(Result result, String prefix) {
        List<Cause> out = new ArrayList<>();
        for (Err e : result.errors) {
            if (e.code() == null) {
                out.add(GoValues.invalid(prefix, "", e.message()));
                continue;
            }
            String field = prefix;
            if (!e.name().isEmpty() && !e.name().equals(".")) {
                String name = e.name().startsWith(".") ? e.name().substring(1) : e.name();
                field = GoValues.child(prefix, name);
            }
            Object value = e.value() == null ? "" : e.value();
            switch (e.code()) {
                case REQUIRED -> out.add(GoValues.required(field, ""));
                case ENUM -> {
                    List<String> values = new ArrayList<>();
                    for (JsonNode v : e.values()) values.add(v.isTextual() ? v.asText() : GoValues.json(v));
                    out.add(GoValues.notSupported(field, value, values));
                }
                case TOO_LONG -> out.add(GoValues.tooLong(field, e.valid()));
                case MAX_ITEMS, TOO_MANY_PROPERTIES -> out.add(GoValues.tooMany(field, (Long) e.value(), e.valid()));
                case INVALID_TYPE -> out.add(GoValues.typeInvalid(field, value, e.message()));
                default -> out.add(GoValues.invalid(field, value, e.message()));
            }
        }
        return out;
    }
}
