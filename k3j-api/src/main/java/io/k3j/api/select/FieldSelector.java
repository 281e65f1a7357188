package io.k3j.api.select;

import io.k3j.api.ApiException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A field selector with the semantics of k8s.io/apimachinery/pkg/fields: a conjunction of {@code field=value}
 * and {@code field!=value} terms ({@code ==} is read as {@code =}). Values may escape {@code \}, {@code ,} and
 * {@code =} with a backslash. Which fields a resource supports is the server's business: check
 * {@link #requirements()} (or call {@link #requireSupported}) before matching.
 */
public final class FieldSelector {

    public enum Operator {
        EQUALS("="), NOT_EQUALS("!=");

        private final String spelling;

        Operator(String spelling) {
            this.spelling = spelling;
        }

        public String spelling() {
            return spelling;
        }
    }

    /** One term; {@code value} is unescaped. */
    public record Requirement(String field, Operator operator, String value) {
        public Requirement {
            Objects.requireNonNull(field, "field");
            Objects.requireNonNull(operator, "operator");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return field + operator.spelling() + escape(value);
        }
    }

    /** No terms: matches everything. */
    public static final FieldSelector EVERYTHING = new FieldSelector(List.of());

    private final List<Requirement> requirements;

    private FieldSelector(List<Requirement> requirements) {
        this.requirements = List.copyOf(requirements);
    }

    /**
     * Parses the {@code fieldSelector} query parameter ({@code fields.ParseSelector}). Terms are sorted by their
     * raw text, as Kubernetes does. Null or empty input is {@link #EVERYTHING}.
     *
     * @throws ApiException 400 BadRequest with kube-apiserver's message, e.g.
     *     {@code invalid selector: 'a'; can't understand 'a'} or
     *     {@code invalid field selector: invalid escape sequence: \x}
     */
    public static FieldSelector parse(String selector) {
        if (selector == null || selector.isEmpty()) return EVERYTHING;
        List<String> parts = splitTerms(selector);
        parts.sort(null);
        List<Requirement> reqs = new ArrayList<>();
        for (String part : parts) {
            if (part.isEmpty()) continue;
            int at = -1;
            String op = null;
            for (int i = 0; i < part.length() && op == null; i++) {
                for (String candidate : new String[] {"!=", "==", "="}) {
                    if (part.startsWith(candidate, i)) {
                        at = i;
                        op = candidate;
                        break;
                    }
                }
            }
            if (op == null) {
                throw ApiException.badRequest("invalid selector: '" + selector + "'; can't understand '" + part + "'");
            }
            String field = part.substring(0, at);
            String value = unescape(part.substring(at + op.length()));
            // Kubernetes' identity transform turns a term with empty field and value into "everything".
            if (field.isEmpty() && value.isEmpty()) continue;
            reqs.add(new Requirement(field, op.equals("!=") ? Operator.NOT_EQUALS : Operator.EQUALS, value));
        }
        return new FieldSelector(reqs);
    }

    /** A selector of the given terms, kept in the given order. */
    public static FieldSelector of(List<Requirement> requirements) {
        return requirements.isEmpty() ? EVERYTHING : new FieldSelector(requirements);
    }

    // Splits on commas that are not escaped by a backslash (fields.splitTerms).
    private static List<String> splitTerms(String s) {
        List<String> terms = new ArrayList<>();
        int start = 0;
        boolean inSlash = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (inSlash) {
                inSlash = false;
            } else if (c == '\\') {
                inSlash = true;
            } else if (c == ',') {
                terms.add(s.substring(start, i));
                start = i + 1;
            }
        }
        terms.add(s.substring(start));
        return terms;
    }

    private static String unescape(String s) {
        if (s.indexOf('\\') < 0 && s.indexOf(',') < 0 && s.indexOf('=') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        boolean inSlash = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (inSlash) {
                if (c != '\\' && c != ',' && c != '=') {
                    throw ApiException.badRequest("invalid field selector: invalid escape sequence: \\" + Character.toString(c));
                }
                b.appendCodePoint(c);
                inSlash = false;
            } else if (c == '\\') {
                inSlash = true;
            } else if (c == ',' || c == '=') {
                // Go formats the rune with %v, i.e. as its number.
                throw ApiException.badRequest("invalid field selector: unescaped character in value: " + c);
            } else {
                b.appendCodePoint(c);
            }
        }
        if (inSlash) throw ApiException.badRequest("invalid field selector: invalid escape sequence: \\");
        return b.toString();
    }

    /** Escapes a value for printing ({@code fields.EscapeValue}). */
    public static String escape(String value) {
        return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=");
    }

    /**
     * Whether an object matches; {@code fieldValue} returns the value of a field, or null when the object has
     * none, which compares like the empty string (as {@code fields.Set.Get} does).
     */
    public boolean matches(Function<String, String> fieldValue) {
        for (Requirement r : requirements) {
            String v = fieldValue.apply(r.field());
            if (v == null) v = "";
            boolean eq = v.equals(r.value());
            if (r.operator() == Operator.EQUALS ? !eq : eq) return false;
        }
        return true;
    }

    public List<Requirement> requirements() {
        return requirements;
    }

    public boolean isEmpty() {
        return requirements.isEmpty();
    }

    /** The value an equality term pins for {@code field}, for indexes ({@code RequiresExactMatch}). */
    public Optional<String> requiresExactMatch(String field) {
        for (Requirement r : requirements) {
            if (r.field().equals(field) && r.operator() == Operator.EQUALS) return Optional.of(r.value());
        }
        return Optional.empty();
    }

    /**
     * Rejects the first term whose field is not in {@code supported}, the way built-in resources do.
     *
     * @throws ApiException 400 BadRequest {@code field label not supported: <field>}
     */
    public void requireSupported(Collection<String> supported) {
        for (Requirement r : requirements) {
            if (!supported.contains(r.field())) throw unsupported(r.field());
        }
    }

    /** kube-apiserver's answer to a field a resource cannot be selected by. */
    public static ApiException unsupported(String field) {
        return ApiException.badRequest("field label not supported: " + field);
    }

    /** Canonical form, e.g. {@code metadata.name=web,status.phase!=Running}. */
    @Override
    public String toString() {
        return String.join(",", requirements.stream().map(Requirement::toString).toList());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FieldSelector f && f.requirements.equals(requirements);
    }

    @Override
    public int hashCode() {
        return requirements.hashCode();
    }
}
