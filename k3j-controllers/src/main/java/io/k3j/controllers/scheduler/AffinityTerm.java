package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One {@code PodAffinityTerm}, parsed once: which pods it selects (label selector plus the namespaces
 * named, selected, or the owning pod's own), the topology key, and a weight (1 for required terms).
 * matchLabelKeys/mismatchLabelKeys are folded into the selector with the owning pod's label values.
 */
record AffinityTerm(LabelSelector selector, Set<String> namespaces, LabelSelector namespaceSelector,
                    String topologyKey, int weight) {

    /** Whether {@code pod} is selected by this term; {@code nsLabels} resolves namespace labels. */
    boolean matches(PodInfo pod, Function<String, Map<String, String>> nsLabels) {
        if (!namespaces.contains(pod.namespace())) {
            if (namespaceSelector == null || namespaceSelector.matchesNothing()) return false;
            if (!namespaceSelector.isEmpty()) {
                Map<String, String> labels = nsLabels.apply(pod.namespace());
                if (labels == null || !namespaceSelector.matches(labels)) return false;
            }
        }
        return selector.matches(pod.labels());
    }

    static List<AffinityTerm> parseRequired(JsonNode terms, String ownNamespace, Map<String, String> ownLabels) {
        List<AffinityTerm> out = new ArrayList<>();
        if (terms != null && terms.isArray()) for (JsonNode t : terms) out.add(parse(t, 1, ownNamespace, ownLabels));
        return out;
    }

    static List<AffinityTerm> parsePreferred(JsonNode terms, String ownNamespace, Map<String, String> ownLabels) {
        List<AffinityTerm> out = new ArrayList<>();
        if (terms != null && terms.isArray()) {
            for (JsonNode w : terms) {
                int weight = w.path("weight").asInt(0);
                if (weight == 0) continue;
                out.add(parse(w.get("podAffinityTerm"), weight, ownNamespace, ownLabels));
            }
        }
        return out;
    }

    private static AffinityTerm parse(JsonNode t, int weight, String ownNamespace, Map<String, String> ownLabels) {
        JsonNode sel = t == null ? null : t.get("labelSelector");
        LabelSelector selector;
        try {
            selector = LabelSelector.fromJson(withKeys(sel, t, ownLabels));
        } catch (RuntimeException e) {
            selector = LabelSelector.NOTHING; // an invalid selector selects nothing, as in kube
        }
        Set<String> namespaces = new HashSet<>();
        JsonNode ns = t == null ? null : t.get("namespaces");
        if (ns != null && ns.isArray()) for (JsonNode n : ns) namespaces.add(n.asText());
        JsonNode nsSel = t == null ? null : t.get("namespaceSelector");
        LabelSelector namespaceSelector = null;
        if (nsSel != null && nsSel.isObject()) {
            try {
                namespaceSelector = LabelSelector.fromJson(nsSel);
            } catch (RuntimeException e) {
                namespaceSelector = LabelSelector.NOTHING;
            }
        }
        if (namespaces.isEmpty() && namespaceSelector == null) namespaces.add(ownNamespace);
        return new AffinityTerm(selector, Set.copyOf(namespaces), namespaceSelector, Json.text(t, "topologyKey"), weight);
    }

    /**
     * Adds {@code key In (value)} for matchLabelKeys and {@code key NotIn (value)} for mismatchLabelKeys,
     * taking values from the owning pod (KEP-3633). A null selector stays null (selects nothing).
     */
    static JsonNode withKeys(JsonNode selector, JsonNode term, Map<String, String> ownLabels) {
        if (selector == null || !selector.isObject() || term == null) return selector;
        JsonNode match = term.get("matchLabelKeys");
        JsonNode mismatch = term.get("mismatchLabelKeys");
        if ((match == null || match.isEmpty()) && (mismatch == null || mismatch.isEmpty())) return selector;
        var copy = selector.deepCopy();
        var exprs = ((com.fasterxml.jackson.databind.node.ObjectNode) copy).withArray("matchExpressions");
        addKeys(exprs, match, "In", ownLabels);
        addKeys(exprs, mismatch, "NotIn", ownLabels);
        return copy;
    }

    private static void addKeys(com.fasterxml.jackson.databind.node.ArrayNode exprs, JsonNode keys, String op,
                                Map<String, String> ownLabels) {
        if (keys == null || !keys.isArray()) return;
        for (JsonNode k : keys) {
            String v = ownLabels.get(k.asText());
            if (v == null) continue;
            var e = exprs.addObject();
            e.put("key", k.asText());
            e.put("operator", op);
            e.putArray("values").add(v);
        }
    }
}
