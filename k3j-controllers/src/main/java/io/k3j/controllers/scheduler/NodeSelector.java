package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@code core/v1 NodeSelector}: terms are ORed, the requirements of a term ANDed, a term without
 * requirements matches nothing ({@code nodeaffinity.NewNodeSelector} semantics). Also used for one
 * preferred term and for a PersistentVolume's {@code spec.nodeAffinity.required}.
 */
final class NodeSelector {

    record Requirement(String key, String operator, List<String> values, boolean field) {
        boolean matches(String nodeName, Map<String, String> labels) {
            String v = field ? ("metadata.name".equals(key) ? nodeName : null) : labels.get(key);
            boolean present = v != null;
            return switch (operator) {
                case "In" -> present && values.contains(v);
                case "NotIn" -> !present || !values.contains(v);
                case "Exists" -> present;
                case "DoesNotExist" -> !present;
                case "Gt", "Lt" -> {
                    if (!present || values.size() != 1) yield false;
                    try {
                        long have = Long.parseLong(v);
                        long want = Long.parseLong(values.get(0));
                        yield operator.equals("Gt") ? have > want : have < want;
                    } catch (NumberFormatException e) {
                        yield false;
                    }
                }
                default -> false;
            };
        }
    }

    private final List<List<Requirement>> terms;

    private NodeSelector(List<List<Requirement>> terms) {
        this.terms = terms;
    }

    /** Parses {@code {nodeSelectorTerms: [...]}}; null when the node is absent (no requirement). */
    static NodeSelector parse(JsonNode selector) {
        if (selector == null || !selector.isObject()) return null;
        List<List<Requirement>> terms = new ArrayList<>();
        JsonNode ts = selector.get("nodeSelectorTerms");
        if (ts != null && ts.isArray()) for (JsonNode t : ts) terms.add(parseTerm(t));
        return new NodeSelector(terms);
    }

    /** Parses one {@code NodeSelectorTerm} as a selector of its own. */
    static NodeSelector ofTerm(JsonNode term) {
        return new NodeSelector(List.of(parseTerm(term)));
    }

    private static List<Requirement> parseTerm(JsonNode term) {
        List<Requirement> reqs = new ArrayList<>();
        addAll(reqs, term == null ? null : term.get("matchExpressions"), false);
        addAll(reqs, term == null ? null : term.get("matchFields"), true);
        return reqs;
    }

    private static void addAll(List<Requirement> reqs, JsonNode exprs, boolean field) {
        if (exprs == null || !exprs.isArray()) return;
        for (JsonNode e : exprs) {
            List<String> values = new ArrayList<>();
            JsonNode vs = e.get("values");
            if (vs != null && vs.isArray()) for (JsonNode v : vs) values.add(v.asText());
            reqs.add(new Requirement(Json.text(e, "key"), Json.text(e, "operator"), List.copyOf(values), field));
        }
    }

    boolean matches(String nodeName, Map<String, String> labels) {
        for (List<Requirement> term : terms) {
            if (term.isEmpty()) continue;
            boolean all = true;
            for (Requirement r : term) {
                if (!r.matches(nodeName, labels)) {
                    all = false;
                    break;
                }
            }
            if (all) return true;
        }
        return false;
    }
}
