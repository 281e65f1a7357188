package io.k3j.apiserver.auth.rbac;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.apiserver.auth.RequestAttributes;
import io.k3j.apiserver.auth.UserInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of every Role, ClusterRole, RoleBinding and ClusterRoleBinding, indexed by subject: a
 * decision looks up the user's name and groups and walks only the rules bound to them. Bindings whose role does
 * not exist grant nothing (kube-apiserver does the same, and only mentions the missing role in the reason).
 */
final class RbacIndex {
    static final RbacIndex EMPTY = new RbacIndex(Map.of(), Map.of());

    private static final String USER = "u:";
    private static final String GROUP = "g:";

    /** subject key → rules granted everywhere (ClusterRoleBindings). */
    private final Map<String, List<PolicyRule>> cluster;
    /** namespace → subject key → rules granted in that namespace (RoleBindings). */
    private final Map<String, Map<String, List<PolicyRule>>> namespaced;

    private RbacIndex(Map<String, List<PolicyRule>> cluster, Map<String, Map<String, List<PolicyRule>>> namespaced) {
        this.cluster = cluster;
        this.namespaced = namespaced;
    }

    /**
     * Builds the index from the objects' JSON.
     *
     * @param roles         Roles by {@code namespace/name}
     * @param clusterRoles  ClusterRoles by name
     */
    static RbacIndex build(Map<String, JsonNode> roles, Map<String, JsonNode> clusterRoles,
                           List<JsonNode> roleBindings, List<JsonNode> clusterRoleBindings) {
        Map<String, List<PolicyRule>> clusterRules = new HashMap<>();
        Map<String, List<PolicyRule>> roleRules = new HashMap<>();
        clusterRoles.forEach((name, obj) -> clusterRules.put(name, PolicyRule.rulesOf(obj)));
        roles.forEach((key, obj) -> roleRules.put(key, PolicyRule.rulesOf(obj)));

        Map<String, List<PolicyRule>> cluster = new HashMap<>();
        for (JsonNode b : clusterRoleBindings) {
            JsonNode ref = b.path("roleRef");
            if (!"ClusterRole".equals(Json.text(ref, "kind"))) continue;
            List<PolicyRule> rules = clusterRules.get(Json.text(ref, "name"));
            if (rules == null || rules.isEmpty()) continue;
            for (String subject : subjectKeys(b, "")) cluster.computeIfAbsent(subject, k -> new ArrayList<>()).addAll(rules);
        }
        Map<String, Map<String, List<PolicyRule>>> namespaced = new HashMap<>();
        for (JsonNode b : roleBindings) {
            String ns = Json.text(b.path("metadata"), "namespace");
            JsonNode ref = b.path("roleRef");
            String refName = Json.text(ref, "name");
            List<PolicyRule> rules = switch (Json.text(ref, "kind")) {
                case "ClusterRole" -> clusterRules.get(refName);
                case "Role" -> roleRules.get(ns + "/" + refName);
                default -> null;
            };
            if (rules == null || rules.isEmpty()) continue;
            Map<String, List<PolicyRule>> inNs = namespaced.computeIfAbsent(ns, k -> new HashMap<>());
            for (String subject : subjectKeys(b, ns)) inNs.computeIfAbsent(subject, k -> new ArrayList<>()).addAll(rules);
        }
        return new RbacIndex(freeze(cluster), freezeNested(namespaced));
    }

    /**
     * The keys a binding's subjects match: users by name, groups by name, and a ServiceAccount as the user it
     * authenticates as, {@code system:serviceaccount:<ns>:<name>} (its namespace defaults to the binding's).
     */
    private static List<String> subjectKeys(JsonNode binding, String bindingNamespace) {
        List<String> keys = new ArrayList<>();
        for (JsonNode s : binding.path("subjects")) {
            String name = Json.text(s, "name");
            switch (Json.text(s, "kind")) {
                case "User" -> keys.add(USER + name);
                case "Group" -> keys.add(GROUP + name);
                case "ServiceAccount" -> {
                    String ns = Json.text(s, "namespace");
                    if (ns.isEmpty()) ns = bindingNamespace;
                    if (!ns.isEmpty()) keys.add(USER + "system:serviceaccount:" + ns + ":" + name);
                }
                default -> { }
            }
        }
        return keys;
    }

    boolean allows(UserInfo user, RequestAttributes a) {
        if (anyAllows(cluster, user, a)) return true;
        if (a.namespace().isEmpty()) return false;
        Map<String, List<PolicyRule>> inNs = namespaced.get(a.namespace());
        return inNs != null && anyAllows(inNs, user, a);
    }

    private static boolean anyAllows(Map<String, List<PolicyRule>> bySubject, UserInfo user, RequestAttributes a) {
        if (allows(bySubject.get(USER + user.name()), a)) return true;
        for (String g : user.groups()) {
            if (allows(bySubject.get(GROUP + g), a)) return true;
        }
        return false;
    }

    private static boolean allows(List<PolicyRule> rules, RequestAttributes a) {
        if (rules == null) return false;
        for (PolicyRule r : rules) {
            if (r.allows(a)) return true;
        }
        return false;
    }

    /** Every rule that applies to the user in the namespace (cluster-wide ones first), duplicates included. */
    List<PolicyRule> rulesFor(UserInfo user, String namespace) {
        List<PolicyRule> out = new ArrayList<>();
        collect(cluster, user, out);
        if (namespace != null && !namespace.isEmpty()) {
            Map<String, List<PolicyRule>> inNs = namespaced.get(namespace);
            if (inNs != null) collect(inNs, user, out);
        }
        return out;
    }

    private static void collect(Map<String, List<PolicyRule>> bySubject, UserInfo user, List<PolicyRule> out) {
        List<PolicyRule> mine = bySubject.get(USER + user.name());
        if (mine != null) out.addAll(mine);
        for (String g : user.groups()) {
            List<PolicyRule> rules = bySubject.get(GROUP + g);
            if (rules != null) out.addAll(rules);
        }
    }

    private static Map<String, List<PolicyRule>> freeze(Map<String, List<PolicyRule>> m) {
        Map<String, List<PolicyRule>> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return Map.copyOf(out);
    }

    private static Map<String, Map<String, List<PolicyRule>>> freezeNested(Map<String, Map<String, List<PolicyRule>>> m) {
        Map<String, Map<String, List<PolicyRule>>> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, freeze(v)));
        return Map.copyOf(out);
    }
}
