package io.k3j.apiserver.auth.rbac;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.auth.RequestAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code rbac.authorization.k8s.io/v1} PolicyRule and the matching kube-apiserver applies to it
 * (plugin/pkg/auth/authorizer/rbac/rbac.go {@code RuleAllows}): a rule with resources matches resource requests,
 * one with nonResourceURLs matches the other paths; {@code *} matches anything in every list.
 */
public record PolicyRule(List<String> verbs, List<String> apiGroups, List<String> resources, List<String> resourceNames,
                         List<String> nonResourceURLs) {
    static final String ALL = "*";

    public PolicyRule {
        verbs = List.copyOf(verbs);
        apiGroups = List.copyOf(apiGroups);
        resources = List.copyOf(resources);
        resourceNames = List.copyOf(resourceNames);
        nonResourceURLs = List.copyOf(nonResourceURLs);
    }

    /** A rule from its JSON form; absent lists are empty. */
    public static PolicyRule fromJson(JsonNode rule) {
        return new PolicyRule(strings(rule, "verbs"), strings(rule, "apiGroups"), strings(rule, "resources"),
                strings(rule, "resourceNames"), strings(rule, "nonResourceURLs"));
    }

    /** Every rule in an object's {@code rules} list. */
    static List<PolicyRule> rulesOf(JsonNode role) {
        List<PolicyRule> out = new ArrayList<>();
        JsonNode rules = role == null ? null : role.get("rules");
        if (rules != null && rules.isArray()) {
            for (JsonNode r : rules) out.add(fromJson(r));
        }
        return out;
    }

    private static List<String> strings(JsonNode node, String field) {
        JsonNode list = node == null ? null : node.get(field);
        if (list == null || !list.isArray()) return List.of();
        List<String> out = new ArrayList<>(list.size());
        for (JsonNode s : list) out.add(s.asText());
        return out;
    }

    /** Whether this rule allows the request. */
    public boolean allows(RequestAttributes a) {
        if (!matchesVerb(a.verb())) return false;
        if (!a.resourceRequest()) return matchesNonResourceUrl(a.path());
        return matchesGroup(a.apiGroup()) && matchesResource(a.resource(), a.subresource()) && matchesName(a.name());
    }

    private boolean matchesVerb(String verb) {
        return verbs.contains(ALL) || verbs.contains(verb);
    }

    private boolean matchesGroup(String group) {
        return apiGroups.contains(ALL) || apiGroups.contains(group);
    }

    private boolean matchesResource(String resource, String subresource) {
        String combined = subresource.isEmpty() ? resource : resource + "/" + subresource;
        for (String r : resources) {
            if (r.equals(ALL) || r.equals(combined)) return true;
            // "*/scale" grants the scale subresource of every resource
            if (!subresource.isEmpty() && r.length() == subresource.length() + 2 && r.startsWith("*/") && r.endsWith(subresource)) {
                return true;
            }
        }
        return false;
    }

    private boolean matchesName(String name) {
        // a rule naming objects never matches a request without a name (list, create)
        return resourceNames.isEmpty() || (!name.isEmpty() && resourceNames.contains(name));
    }

    private boolean matchesNonResourceUrl(String path) {
        for (String u : nonResourceURLs) {
            if (u.equals(ALL) || u.equals(path)) return true;
            if (u.endsWith(ALL) && path.startsWith(u.substring(0, u.length() - 1))) return true;
        }
        return false;
    }

    /** The rule as JSON (omitting empty lists but verbs, as the API's omitempty fields do). */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        put(o, "verbs", verbs, true);
        put(o, "apiGroups", apiGroups, false);
        put(o, "resources", resources, false);
        put(o, "resourceNames", resourceNames, false);
        put(o, "nonResourceURLs", nonResourceURLs, false);
        return o;
    }

    private static void put(ObjectNode o, String field, List<String> values, boolean always) {
        if (values.isEmpty() && !always) return;
        ArrayNode a = o.putArray(field);
        values.forEach(a::add);
    }
}
