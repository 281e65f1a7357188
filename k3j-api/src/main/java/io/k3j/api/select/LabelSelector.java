package io.k3j.api.select;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A label selector with the semantics of k8s.io/apimachinery/pkg/labels: a conjunction of requirements,
 * sorted by key. Two special selectors exist and must not be confused:
 * <ul>
 *   <li>{@link #EVERYTHING}: no requirements, matches every object. This is what an empty query parameter and
 *       an empty {@code metav1.LabelSelector} ({@code {}}) mean.</li>
 *   <li>{@link #NOTHING}: matches no object. This is what a <em>null</em> {@code metav1.LabelSelector} means
 *       ({@code LabelSelectorAsSelector(nil)}), e.g. a PodDisruptionBudget or NetworkPolicy peer without one.</li>
 * </ul>
 * Both print as the empty string, as in Kubernetes.
 */
public final class LabelSelector {

    /** The operators of k8s.io/apimachinery/pkg/selection, with their wire spelling. */
    public enum Operator {
        DOES_NOT_EXIST("!"), EQUALS("="), DOUBLE_EQUALS("=="), IN("in"), NOT_EQUALS("!="), NOT_IN("notin"),
        EXISTS("exists"), GREATER_THAN("gt"), LESS_THAN("lt");

        private final String spelling;

        Operator(String spelling) {
            this.spelling = spelling;
        }

        /** The spelling Kubernetes uses in messages ({@code selection.Operator}). */
        public String spelling() {
            return spelling;
        }
    }

    /**
     * One requirement. {@code values} keeps the given order (parsed selectors have them sorted and
     * de-duplicated, as Kubernetes' parser does); printing sorts them.
     */
    public record Requirement(String key, Operator operator, List<String> values) {
        public Requirement {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(operator, "operator");
            values = List.copyOf(values);
        }

        /** Whether a label set satisfies this requirement ({@code labels.Requirement.Matches}). */
        public boolean matches(Map<String, String> labels) {
            String v = labels.get(key);
            boolean present = labels.containsKey(key);
            return switch (operator) {
                case IN, EQUALS, DOUBLE_EQUALS -> present && values.contains(v);
                case NOT_IN, NOT_EQUALS -> !present || !values.contains(v);
                case EXISTS -> present;
                case DOES_NOT_EXIST -> !present;
                case GREATER_THAN, LESS_THAN -> {
                    if (!present || values.size() != 1) yield false;
                    Long have = parseInt64(v);
                    Long want = parseInt64(values.get(0));
                    if (have == null || want == null) yield false;
                    yield operator == Operator.GREATER_THAN ? have > want : have < want;
                }
            };
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            if (operator == Operator.DOES_NOT_EXIST) b.append('!');
            b.append(key);
            switch (operator) {
                case EQUALS -> b.append('=');
                case DOUBLE_EQUALS -> b.append("==");
                case NOT_EQUALS -> b.append("!=");
                case IN -> b.append(" in ");
                case NOT_IN -> b.append(" notin ");
                case GREATER_THAN -> b.append('>');
                case LESS_THAN -> b.append('<');
                case EXISTS, DOES_NOT_EXIST -> {
                    return b.toString();
                }
            }
            boolean set = operator == Operator.IN || operator == Operator.NOT_IN;
            if (set) b.append('(');
            if (values.size() == 1) {
                b.append(values.get(0));
            } else {
                b.append(String.join(",", values.stream().sorted().toList()));
            }
            if (set) b.append(')');
            return b.toString();
        }
    }

    /** Matches every object; {@code toString()} is empty. */
    public static final LabelSelector EVERYTHING = new LabelSelector(List.of(), false);
    /** Matches no object (a null {@code metav1.LabelSelector}); {@code toString()} is empty. */
    public static final LabelSelector NOTHING = new LabelSelector(List.of(), true);

    private final List<Requirement> requirements;
    private final boolean nothing;

    private LabelSelector(List<Requirement> requirements, boolean nothing) {
        this.requirements = List.copyOf(requirements);
        this.nothing = nothing;
    }

    /**
     * Parses the {@code labelSelector} query parameter syntax ({@code labels.Parse}): {@code a=b}, {@code a==b},
     * {@code a!=b}, {@code a in (x,y)}, {@code a notin (x)}, {@code a}, {@code !a}, {@code a>1}, {@code a<1},
     * joined by commas. Null or blank input is {@link #EVERYTHING}.
     *
     * @throws ApiException 400 BadRequest with kube-apiserver's message, e.g.
     *     {@code unable to parse requirement: found '', expected: identifier}
     */
    public static LabelSelector parse(String selector) {
        if (selector == null) return EVERYTHING;
        try {
            List<Requirement> reqs = new ArrayList<>(new SelectorParser(selector).parse());
            if (reqs.isEmpty()) return EVERYTHING;
            reqs.sort(Comparator.comparing(Requirement::key));
            return new LabelSelector(reqs, false);
        } catch (SelectorParser.ParseError e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    /**
     * Converts a {@code metav1.LabelSelector} object ({@code LabelSelectorAsSelector}): {@code null}, a JSON
     * null or a missing node is {@link #NOTHING}; an object without matchLabels and matchExpressions is
     * {@link #EVERYTHING}.
     *
     * @throws ApiException 400 BadRequest when an operator is unknown or a key or value is invalid, with the
     *     message Kubernetes gives (e.g. {@code "Foo" is not a valid label selector operator})
     */
    public static LabelSelector fromJson(JsonNode selector) {
        if (selector == null || selector.isNull() || selector.isMissingNode()) return NOTHING;
        JsonNode matchLabels = selector.path("matchLabels");
        JsonNode matchExpressions = selector.path("matchExpressions");
        List<Requirement> reqs = new ArrayList<>();
        try {
            if (matchLabels.isObject()) {
                for (var it = matchLabels.fields(); it.hasNext(); ) {
                    var e = it.next();
                    reqs.add(newRequirement(e.getKey(), Operator.EQUALS, List.of(e.getValue().asText())));
                }
            }
            if (matchExpressions.isArray()) {
                for (JsonNode expr : matchExpressions) {
                    String op = expr.path("operator").asText("");
                    Operator operator = switch (op) {
                        case "In" -> Operator.IN;
                        case "NotIn" -> Operator.NOT_IN;
                        case "Exists" -> Operator.EXISTS;
                        case "DoesNotExist" -> Operator.DOES_NOT_EXIST;
                        default -> throw new SelectorParser.ParseError(GoText.quote(op) + " is not a valid label selector operator");
                    };
                    List<String> values = null;
                    JsonNode vs = expr.path("values");
                    if (vs.isArray() && !vs.isEmpty()) {
                        values = new ArrayList<>();
                        for (JsonNode v : vs) values.add(v.asText());
                    }
                    reqs.add(newRequirement(expr.path("key").asText(""), operator, values));
                }
            }
        } catch (SelectorParser.ParseError e) {
            throw ApiException.badRequest(e.getMessage());
        }
        if (reqs.isEmpty()) return EVERYTHING;
        reqs.sort(Comparator.comparing(Requirement::key));
        return new LabelSelector(reqs, false);
    }

    /**
     * A selector requiring every given label ({@code labels.SelectorFromSet}), as Services and
     * ReplicationControllers use. An empty or null map is {@link #EVERYTHING}; entries are not validated.
     */
    public static LabelSelector fromMap(Map<String, String> labels) {
        if (labels == null || labels.isEmpty()) return EVERYTHING;
        List<Requirement> reqs = new ArrayList<>();
        labels.forEach((k, v) -> reqs.add(new Requirement(k, Operator.EQUALS, List.of(v))));
        reqs.sort(Comparator.comparing(Requirement::key));
        return new LabelSelector(reqs, false);
    }

    /**
     * Validates like {@code labels.NewRequirement} and reports all problems in one aggregated message.
     * {@code values} null stands for Go's nil slice (it prints as {@code null}).
     */
    static Requirement newRequirement(String key, Operator op, List<String> values) {
        List<String> vals = values == null ? List.of() : values;
        LinkedHashSet<String> errs = new LinkedHashSet<>();
        List<String> keyErrs = LabelValidation.labelKeyErrors(key);
        if (!keyErrs.isEmpty()) errs.add(LabelValidation.invalid("key", key, keyErrs));
        switch (op) {
            case IN, NOT_IN -> {
                if (vals.isEmpty()) {
                    errs.add("values: Invalid value: " + GoText.jsonStrings(values)
                            + ": for 'in', 'notin' operators, values set can't be empty");
                }
            }
            case EQUALS, DOUBLE_EQUALS, NOT_EQUALS -> {
                if (vals.size() != 1) {
                    errs.add("values: Invalid value: " + GoText.jsonStrings(values)
                            + ": exact-match compatibility requires one single value");
                }
            }
            case EXISTS, DOES_NOT_EXIST -> {
                if (!vals.isEmpty()) {
                    errs.add("values: Invalid value: " + GoText.jsonStrings(values)
                            + ": values set must be empty for exists and does not exist");
                }
            }
            case GREATER_THAN, LESS_THAN -> {
                if (vals.size() != 1) {
                    errs.add("values: Invalid value: " + GoText.jsonStrings(values)
                            + ": for 'Gt', 'Lt' operators, exactly one value is required");
                }
                for (int i = 0; i < vals.size(); i++) {
                    if (parseInt64(vals.get(i)) == null) {
                        errs.add("values[" + i + "]: Invalid value: " + GoText.quote(vals.get(i))
                                + ": for 'Gt', 'Lt' operators, the value must be an integer");
                    }
                }
            }
        }
        for (int i = 0; i < vals.size(); i++) {
            List<String> valueErrs = LabelValidation.labelValueErrors(vals.get(i));
            if (!valueErrs.isEmpty()) {
                errs.add(LabelValidation.invalid("values[" + i + "][" + key + "]", vals.get(i), valueErrs));
            }
        }
        if (!errs.isEmpty()) {
            // utilerrors.Aggregate: one message alone, several in brackets.
            throw new SelectorParser.ParseError(errs.size() == 1 ? errs.iterator().next() : "[" + String.join(", ", errs) + "]");
        }
        return new Requirement(key, op, vals);
    }

    static Long parseInt64(String s) {
        // strconv.ParseInt(s, 10, 64) accepts an optional sign and decimal digits only.
        if (s == null || s.isEmpty()) return null;
        int start = s.charAt(0) == '+' || s.charAt(0) == '-' ? 1 : 0;
        if (start == s.length()) return null;
        for (int i = start; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') return null;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Whether the labels (a JSON object of strings, or null for none) satisfy every requirement. */
    public boolean matches(JsonNode labelsObject) {
        if (nothing) return false;
        if (requirements.isEmpty()) return true;
        Map<String, String> labels = new java.util.HashMap<>();
        if (labelsObject != null && labelsObject.isObject()) {
            labelsObject.fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText()));
        }
        return matches(labels);
    }

    /** Whether the labels satisfy every requirement. */
    public boolean matches(Map<String, String> labels) {
        if (nothing) return false;
        for (Requirement r : requirements) {
            if (!r.matches(labels)) return false;
        }
        return true;
    }

    /** True for {@link #EVERYTHING} and any selector without requirements (never for {@link #NOTHING}). */
    public boolean isEmpty() {
        return !nothing && requirements.isEmpty();
    }

    public boolean matchesNothing() {
        return nothing;
    }

    /** The requirements, sorted by key. */
    public List<Requirement> requirements() {
        return requirements;
    }

    /**
     * The single value a label must have, when a requirement pins it ({@code =}, {@code ==} or {@code in}
     * with one value) — for indexes. Like Kubernetes, only the first requirement on the key is consulted.
     */
    public Optional<String> requiresExactMatch(String key) {
        for (Requirement r : requirements) {
            if (r.key().equals(key)) {
                if ((r.operator() == Operator.EQUALS || r.operator() == Operator.DOUBLE_EQUALS
                        || r.operator() == Operator.IN) && r.values().size() == 1) {
                    return Optional.of(r.values().get(0));
                }
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** The canonical form kube-apiserver prints, e.g. {@code app=web,tier in (a,b),!legacy}. */
    @Override
    public String toString() {
        return String.join(",", requirements.stream().map(Requirement::toString).toList());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LabelSelector s && s.nothing == nothing && s.requirements.equals(requirements);
    }

    @Override
    public int hashCode() {
        return Objects.hash(requirements, nothing);
    }

    /** Sorted, de-duplicated values, as the parser's string sets produce them. */
    static List<String> sortedSet(java.util.Collection<String> values) {
        return List.copyOf(new TreeSet<>(values));
    }
}
