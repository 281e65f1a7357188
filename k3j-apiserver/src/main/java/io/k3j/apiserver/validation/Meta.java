package io.k3j.apiserver.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/** ObjectMeta, labels, annotations and label selectors (apimachinery pkg/api/validation, meta/v1/validation). */
final class Meta {
    private Meta() {}

    static final int TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
    static final String IMMUTABLE = "field is immutable";
    static final String NEGATIVE = "must be greater than or equal to 0";

    /** A ValidateNameFunc: {@code prefix} is true for generateName, where a trailing dash is allowed. */
    interface NameRule extends Function<String, List<String>> {}

    static final NameRule SUBDOMAIN = Names::isDNS1123Subdomain;
    static final NameRule LABEL = Names::isDNS1123Label;
    static final NameRule DNS1035 = Names::isDNS1035Label;
    static final NameRule PATH_SEGMENT = Names::isPathSegmentName;

    /** generateName may end in '-': apimachinery masks a trailing dash before checking. */
    private static String maskTrailingDash(String name) {
        if (name.length() > 1 && name.endsWith("-")) return name.substring(0, name.length() - 2) + "a";
        return name;
    }

    static void objectMeta(Errs e, JsonNode meta, boolean namespaced, NameRule nameRule, String path) {
        String generateName = text(meta, "generateName");
        if (!generateName.isEmpty()) {
            String checked = nameRule == PATH_SEGMENT ? generateName : maskTrailingDash(generateName);
            List<String> msgs = nameRule == PATH_SEGMENT ? Names.isPathSegmentName(generateName).stream()
                    .filter(m -> !m.startsWith("may not be ")).toList() : nameRule.apply(checked);
            e.invalidEach(path + ".generateName", generateName, msgs);
        }
        String name = text(meta, "name");
        if (name.isEmpty()) {
            e.required(path + ".name", "name or generateName is required");
        } else {
            e.invalidEach(path + ".name", name, nameRule.apply(name));
        }
        String namespace = text(meta, "namespace");
        if (namespaced) {
            if (namespace.isEmpty()) e.required(path + ".namespace", "");
            else e.invalidEach(path + ".namespace", namespace, Names.isDNS1123Label(namespace));
        } else if (!namespace.isEmpty()) {
            e.forbidden(path + ".namespace", "not allowed on this type");
        }
        JsonNode generation = meta == null ? null : meta.get("generation");
        if (generation != null && generation.isNumber() && generation.asLong() < 0) {
            e.invalid(path + ".generation", generation.asLong(), NEGATIVE);
        }
        common(e, meta, path);
        finalizers(e, meta == null ? null : meta.get("finalizers"), path + ".finalizers");
    }

    private static void common(Errs e, JsonNode meta, String path) {
        labels(e, meta == null ? null : meta.get("labels"), path + ".labels");
        annotations(e, meta == null ? null : meta.get("annotations"), path + ".annotations");
        ownerReferences(e, meta == null ? null : meta.get("ownerReferences"), path + ".ownerReferences");
    }

    static void objectMetaUpdate(Errs e, JsonNode meta, JsonNode old, String path) {
        if (old != null && old.hasNonNull("deletionTimestamp")) {
            Set<String> added = new TreeSet<>(strings(meta == null ? null : meta.get("finalizers")));
            added.removeAll(strings(old.get("finalizers")));
            if (!added.isEmpty()) {
                e.forbidden(path + ".finalizers", "no new finalizers can be added if the object is being deleted, found new finalizers "
                        + Errs.go(io.k3j.api.Json.MAPPER.valueToTree(new ArrayList<>(added))));
            }
        }
        if (text(meta, "resourceVersion").isEmpty()) e.invalid(path + ".resourceVersion", "", "must be specified for an update");
        long gen = meta == null ? 0 : meta.path("generation").asLong(0);
        if (old != null && gen < old.path("generation").asLong(0)) e.invalid(path + ".generation", gen, "must not be decremented");
        for (String f : new String[] {"name", "namespace", "uid"}) {
            if (!text(meta, f).equals(text(old, f))) e.invalid(path + "." + f, text(meta, f), IMMUTABLE);
        }
        for (String f : new String[] {"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"}) {
            JsonNode a = meta == null ? null : meta.get(f);
            JsonNode b = old == null ? null : old.get(f);
            if (!sameOrUnset(a, b)) e.invalid(path + "." + f, a == null || a.isNull() ? null : a.isNumber() ? (Object) a.asLong() : a.asText(), IMMUTABLE);
        }
        common(e, meta, path);
    }

    static boolean sameOrUnset(JsonNode a, JsonNode b) {
        boolean ua = a == null || a.isNull();
        boolean ub = b == null || b.isNull();
        if (ua || ub) return ua == ub;
        return a.equals(b);
    }

    static void labels(Errs e, JsonNode labels, String path) {
        if (!(labels instanceof ObjectNode o)) return;
        for (Map.Entry<String, JsonNode> l : o.properties()) {
            e.invalidEach(path, l.getKey(), Names.isQualifiedName(l.getKey()));
            String v = l.getValue().asText("");
            e.invalidEach(path, v, Names.isValidLabelValue(v));
        }
    }

    static void annotations(Errs e, JsonNode annotations, String path) {
        if (!(annotations instanceof ObjectNode o)) return;
        long total = 0;
        for (Map.Entry<String, JsonNode> a : o.properties()) {
            e.invalidEach(path, a.getKey(), Names.isQualifiedName(a.getKey().toLowerCase(Locale.ROOT)));
            total += utf8Length(a.getKey()) + utf8Length(a.getValue().asText(""));
        }
        if (total > TOTAL_ANNOTATION_SIZE_LIMIT) e.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT);
    }

    static long utf8Length(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    private static void ownerReferences(Errs e, JsonNode refs, String path) {
        if (refs == null || !refs.isArray()) return;
        String firstController = "";
        for (JsonNode ref : refs) {
            String apiVersion = text(ref, "apiVersion");
            String version = apiVersion.contains("/") ? apiVersion.substring(apiVersion.indexOf('/') + 1) : apiVersion;
            if (version.isEmpty()) e.invalid(path + ".apiVersion", apiVersion, "version must not be empty");
            if (text(ref, "kind").isEmpty()) e.invalid(path + ".kind", "", "kind must not be empty");
            if (text(ref, "name").isEmpty()) e.invalid(path + ".name", "", "name must not be empty");
            if (text(ref, "uid").isEmpty()) e.invalid(path + ".uid", "", "uid must not be empty");
            if (apiVersion.equals("v1") && text(ref, "kind").equals("Event")) {
                e.invalid(path, new Errs.GoText(ref.toString()), "/v1, Kind=Event is disallowed from being an owner");
            }
            if (ref.path("controller").asBoolean(false)) {
                String current = text(ref, "kind") + "/" + text(ref, "name");
                if (!firstController.isEmpty()) {
                    e.invalid(path, new Errs.GoText(refs.toString()), "Only one reference can have Controller set to true. Found \"true\" in references for "
                            + firstController + " and " + current);
                } else {
                    firstController = current;
                }
            }
        }
    }

    private static void finalizers(Errs e, JsonNode finalizers, String path) {
        List<String> list = strings(finalizers);
        for (String f : list) e.invalidEach(path, f, Names.isQualifiedName(f));
        if (list.contains("orphan") && list.contains("foregroundDeletion")) {
            e.invalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set");
        }
    }

    /** metav1 ValidateLabelSelector. */
    static void labelSelector(Errs e, JsonNode selector, String path) {
        if (selector == null || selector.isNull()) return;
        labels(e, selector.get("matchLabels"), path + ".matchLabels");
        int i = 0;
        for (JsonNode req : iter(selector.get("matchExpressions"))) {
            String p = path + ".matchExpressions[" + i++ + "]";
            String op = text(req, "operator");
            List<String> values = strings(req.get("values"));
            switch (op) {
                case "In", "NotIn" -> {
                    if (values.isEmpty()) e.required(p + ".values", "must be specified when `operator` is 'In' or 'NotIn'");
                }
                case "Exists", "DoesNotExist" -> {
                    if (!values.isEmpty()) e.forbidden(p + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
                }
                default -> e.invalid(p + ".operator", op, "not a valid selector operator");
            }
            e.invalidEach(p + ".key", text(req, "key"), Names.isQualifiedName(text(req, "key")));
            int j = 0;
            for (String v : values) e.invalidEach(p + ".values[" + j++ + "]", v, Names.isValidLabelValue(v));
        }
    }

    /** True when a LabelSelector has neither matchLabels nor matchExpressions. */
    static boolean selectorEmpty(JsonNode selector) {
        if (selector == null || selector.isNull()) return true;
        return selector.path("matchLabels").size() + selector.path("matchExpressions").size() == 0;
    }

    /** LabelSelectorAsSelector(...).Matches(labels). */
    static boolean selectorMatches(JsonNode selector, JsonNode labels) {
        if (selector == null || selector.isNull()) return false;
        for (Map.Entry<String, JsonNode> m : selector.path("matchLabels").properties()) {
            JsonNode v = labels == null ? null : labels.get(m.getKey());
            if (v == null || !v.asText().equals(m.getValue().asText())) return false;
        }
        for (JsonNode req : iter(selector.get("matchExpressions"))) {
            String key = text(req, "key");
            JsonNode v = labels == null ? null : labels.get(key);
            List<String> values = strings(req.get("values"));
            boolean ok = switch (text(req, "operator")) {
                case "In" -> v != null && values.contains(v.asText());
                case "NotIn" -> v == null || !values.contains(v.asText());
                case "Exists" -> v != null;
                case "DoesNotExist" -> v == null;
                default -> false;
            };
            if (!ok) return false;
        }
        return true;
    }

    /** A plain map selector (Service, ReplicationController) matches when every pair is present. */
    static boolean mapSelectorMatches(JsonNode selector, JsonNode labels) {
        for (Map.Entry<String, JsonNode> m : selector.properties()) {
            JsonNode v = labels == null ? null : labels.get(m.getKey());
            if (v == null || !v.asText().equals(m.getValue().asText())) return false;
        }
        return true;
    }

    static String text(JsonNode n, String field) {
        JsonNode v = n == null ? null : n.get(field);
        return v != null && v.isValueNode() && !v.isNull() ? v.asText() : "";
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null && array.isArray()) for (JsonNode s : array) out.add(s.asText());
        return out;
    }

    static Iterable<JsonNode> iter(JsonNode array) {
        return array != null && array.isArray() ? array : List.of();
    }
}
