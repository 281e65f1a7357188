package io.k3j.api.select;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Placeholder: field selectors (=, ==, !=), until the full implementation lands. */
public final class FieldSelector {
    public record Requirement(String field, String operator, String value) {}

    public static final FieldSelector EVERYTHING = new FieldSelector(List.of());
    private final List<Requirement> reqs;

    private FieldSelector(List<Requirement> reqs) {
        this.reqs = reqs;
    }

    public static FieldSelector parse(String s) {
        if (s == null || s.isBlank()) return EVERYTHING;
        List<Requirement> r = new ArrayList<>();
        for (String part : s.split(",")) {
            int i;
            if ((i = part.indexOf("!=")) > 0) r.add(new Requirement(part.substring(0, i).trim(), "!=", part.substring(i + 2).trim()));
            else if ((i = part.indexOf("==")) > 0) r.add(new Requirement(part.substring(0, i).trim(), "=", part.substring(i + 2).trim()));
            else if ((i = part.indexOf('=')) > 0) r.add(new Requirement(part.substring(0, i).trim(), "=", part.substring(i + 1).trim()));
        }
        return new FieldSelector(r);
    }

    public List<Requirement> requirements() {
        return reqs;
    }

    public boolean matches(Function<String, String> fieldValue) {
        for (Requirement r : reqs) {
            String v = fieldValue.apply(r.field());
            boolean eq = r.value().equals(v == null ? "" : v);
            if (r.operator().equals("!=") == eq) return false;
        }
        return true;
    }

    public boolean isEmpty() {
        return reqs.isEmpty();
    }
}
