package io.k3j.api.select;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Placeholder: equality-based label selectors only, until the full implementation lands. */
public final class LabelSelector {
    public static final LabelSelector EVERYTHING = new LabelSelector(List.of());
    private final List<String[]> reqs;

    private LabelSelector(List<String[]> reqs) {
        this.reqs = reqs;
    }

    public static LabelSelector parse(String s) {
        if (s == null || s.isBlank()) return EVERYTHING;
        List<String[]> r = new ArrayList<>();
        for (String part : s.split(",")) {
            String[] kv = part.split("==|=", 2);
            r.add(kv.length == 2 ? new String[] {kv[0].trim(), kv[1].trim()} : new String[] {kv[0].trim(), null});
        }
        return new LabelSelector(r);
    }

    public boolean matches(JsonNode labels) {
        for (String[] r : reqs) {
            JsonNode v = labels == null ? null : labels.get(r[0]);
            if (v == null) return false;
            if (r[1] != null && !r[1].equals(v.asText())) return false;
        }
        return true;
    }

    public boolean isEmpty() {
        return reqs.isEmpty();
    }
}
