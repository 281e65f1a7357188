package io.k3j.apiserver.auth.rbac;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.apiserver.auth.RequestAttributes;
import io.k3j.apiserver.auth.UserInfo;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** RBAC matching as kube-apiserver's plugin/pkg/auth/authorizer/rbac (rbac.go, subject_locator.go). */
class RbacIndexTest {

    private static JsonNode json(String text) {
        return Json.parse(text.getBytes(StandardCharsets.UTF_8));
    }

    private static RequestAttributes res(String verb, String group, String resource, String sub, String ns, String name) {
        return RequestAttributes.resource(verb, group, resource, sub, ns, name, "");
    }

    private static boolean rule(String rule, RequestAttributes a) {
        return PolicyRule.fromJson(json(rule)).allows(a);
    }

    @Nested
    @DisplayName("a rule")
    class Rules {
        @Test
        @DisplayName("matches verbs, groups and resources exactly or by *")
        void exactAndStar() {
            String pods = "{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}";
            assertThat(rule(pods, res("get", "", "pods", "", "default", "p"))).isTrue();
            assertThat(rule(pods, res("list", "", "pods", "", "default", ""))).isTrue();
            assertThat(rule(pods, res("delete", "", "pods", "", "default", "p"))).isFalse();
            assertThat(rule(pods, res("get", "apps", "pods", "", "default", "p"))).isFalse();
            assertThat(rule(pods, res("get", "", "services", "", "default", "p"))).isFalse();
            String all = "{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}";
            assertThat(rule(all, res("deletecollection", "apps", "deployments", "", "x", ""))).isTrue();
            assertThat(rule(all, res("update", "apps", "deployments", "scale", "x", "web"))).isTrue();
        }

        @Test
        @DisplayName("matches a subresource only as resource/subresource or */subresource")
        void subresources() {
            String pods = "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}";
            assertThat(rule(pods, res("get", "", "pods", "log", "default", "p"))).isFalse();
            String log = "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/log\"]}";
            assertThat(rule(log, res("get", "", "pods", "log", "default", "p"))).isTrue();
            assertThat(rule(log, res("get", "", "pods", "", "default", "p"))).isFalse();
            String anyScale = "{\"verbs\":[\"update\"],\"apiGroups\":[\"*\"],\"resources\":[\"*/scale\"]}";
            assertThat(rule(anyScale, res("update", "apps", "deployments", "scale", "d", "web"))).isTrue();
            assertThat(rule(anyScale, res("update", "apps", "deployments", "status", "d", "web"))).isFalse();
            assertThat(rule(anyScale, res("update", "apps", "deployments", "", "d", "web"))).isFalse();
        }

        @Test
        @DisplayName("with resourceNames matches only those names, never a request without a name")
        void resourceNames() {
            String one = "{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"resourceNames\":[\"a\"]}";
            assertThat(rule(one, res("get", "", "configmaps", "", "d", "a"))).isTrue();
            assertThat(rule(one, res("get", "", "configmaps", "", "d", "b"))).isFalse();
            assertThat(rule(one, res("list", "", "configmaps", "", "d", ""))).isFalse();
        }

        @Test
        @DisplayName("with nonResourceURLs matches paths exactly or by a * suffix, and never resources")
        void nonResourceUrls() {
            String r = "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\",\"/apis/*\"]}";
            assertThat(rule(r, RequestAttributes.nonResource("get", "/healthz"))).isTrue();
            assertThat(rule(r, RequestAttributes.nonResource("get", "/healthz/etcd"))).isFalse();
            assertThat(rule(r, RequestAttributes.nonResource("get", "/apis/apps/v1"))).isTrue();
            assertThat(rule(r, RequestAttributes.nonResource("get", "/apis"))).isFalse();
            assertThat(rule(r, RequestAttributes.nonResource("post", "/healthz"))).isFalse();
            assertThat(rule(r, res("get", "", "pods", "", "d", ""))).isFalse();
            String resourceRule = "{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}";
            assertThat(rule(resourceRule, RequestAttributes.nonResource("get", "/healthz"))).isFalse();
            assertThat(rule("{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}", RequestAttributes.nonResource("delete", "/x/y"))).isTrue();
        }
    }

    @Nested
    @DisplayName("bindings")
    class Bindings {
        final RbacIndex index = RbacIndex.build(
                Map.of("shop/pod-reader", json("""
                        {"metadata":{"name":"pod-reader","namespace":"shop"},
                         "rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"]}]}""")),
                Map.of("secret-reader", json("""
                        {"metadata":{"name":"secret-reader"},
                         "rules":[{"verbs":["get"],"apiGroups":[""],"resources":["secrets"]}]}""")),
                List.of(json("""
                        {"metadata":{"name":"jane-pods","namespace":"shop"},
                         "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-reader"},
                         "subjects":[{"kind":"User","name":"jane"},{"kind":"ServiceAccount","name":"builder"}]}"""),
                        json("""
                        {"metadata":{"name":"secrets-here","namespace":"shop"},
                         "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"secret-reader"},
                         "subjects":[{"kind":"Group","name":"auditors"}]}"""),
                        json("""
                        {"metadata":{"name":"dangling","namespace":"shop"},
                         "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"missing"},
                         "subjects":[{"kind":"User","name":"bob"}]}""")),
                List.of(json("""
                        {"metadata":{"name":"ops-secrets"},
                         "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"secret-reader"},
                         "subjects":[{"kind":"ServiceAccount","name":"ops","namespace":"kube-system"}]}""")));

        final UserInfo jane = new UserInfo("jane", "", List.of("system:authenticated"));

        @Test
        @DisplayName("a RoleBinding grants its Role's rules to a user only in its namespace")
        void roleBindingIsNamespaced() {
            assertThat(index.allows(jane, res("list", "", "pods", "", "shop", ""))).isTrue();
            assertThat(index.allows(jane, res("list", "", "pods", "", "default", ""))).isFalse();
            assertThat(index.allows(jane, res("list", "", "pods", "", "", ""))).isFalse();
            assertThat(index.allows(jane, res("get", "", "secrets", "", "shop", "s"))).isFalse();
        }

        @Test
        @DisplayName("a RoleBinding to a ClusterRole grants its rules in the binding's namespace, by group")
        void roleBindingToClusterRoleByGroup() {
            UserInfo auditor = new UserInfo("amy", "", List.of("auditors", "system:authenticated"));
            assertThat(index.allows(auditor, res("get", "", "secrets", "", "shop", "s"))).isTrue();
            assertThat(index.allows(auditor, res("get", "", "secrets", "", "default", "s"))).isFalse();
        }

        @Test
        @DisplayName("a ServiceAccount subject is the user system:serviceaccount:<ns>:<name>, its namespace defaulting to the binding's")
        void serviceAccounts() {
            UserInfo builder = new UserInfo("system:serviceaccount:shop:builder", "", List.of());
            assertThat(index.allows(builder, res("get", "", "pods", "", "shop", "p"))).isTrue();
            UserInfo ops = new UserInfo("system:serviceaccount:kube-system:ops", "", List.of());
            assertThat(index.allows(ops, res("get", "", "secrets", "", "anywhere", "s"))).isTrue();
            assertThat(index.allows(ops, res("get", "", "secrets", "", "", "s"))).isTrue();
            UserInfo otherOps = new UserInfo("system:serviceaccount:default:ops", "", List.of());
            assertThat(index.allows(otherOps, res("get", "", "secrets", "", "anywhere", "s"))).isFalse();
        }

        @Test
        @DisplayName("a binding to a missing role grants nothing; a user with no bindings gets nothing")
        void nothing() {
            UserInfo bob = new UserInfo("bob", "", List.of("system:authenticated"));
            assertThat(index.allows(bob, res("get", "", "pods", "", "shop", "p"))).isFalse();
            assertThat(index.rulesFor(bob, "shop")).isEmpty();
            UserInfo jim = new UserInfo("jim", "", List.of("system:authenticated"));
            assertThat(index.allows(jim, RequestAttributes.nonResource("get", "/version"))).isFalse();
        }

        @Test
        @DisplayName("rulesFor lists cluster-wide rules, plus the namespace's when one is given")
        void rulesFor() {
            assertThat(index.rulesFor(jane, "shop")).containsExactly(
                    new PolicyRule(List.of("get", "list"), List.of(""), List.of("pods"), List.of(), List.of()));
            assertThat(index.rulesFor(jane, "")).isEmpty();
        }
    }

    @Test
    @DisplayName("the bootstrap policy gives system:masters everything and system:authenticated discovery and self reviews")
    void bootstrapPolicy() {
        Map<String, JsonNode> roles = new java.util.HashMap<>();
        BootstrapPolicy.clusterRoles().forEach(r -> roles.put(Json.text(r.get("metadata"), "name"), r));
        RbacIndex index = RbacIndex.build(Map.of(), roles, List.of(), List.copyOf(BootstrapPolicy.clusterRoleBindings()));
        UserInfo admin = new UserInfo("system:admin", "", List.of("system:masters", "system:authenticated"));
        assertThat(index.allows(admin, res("delete", "apps", "deployments", "", "x", "y"))).isTrue();
        assertThat(index.allows(admin, RequestAttributes.nonResource("get", "/metrics"))).isTrue();
        UserInfo jane = new UserInfo("jane", "", List.of("system:authenticated"));
        for (String path : List.of("/api", "/api/v1", "/apis", "/apis/apps/v1", "/version", "/healthz", "/readyz",
                "/livez", "/openapi/v3", "/openapi/v2")) {
            assertThat(index.allows(jane, RequestAttributes.nonResource("get", path))).as(path).isTrue();
        }
        assertThat(index.allows(jane, RequestAttributes.nonResource("get", "/metrics"))).isFalse();
        assertThat(index.allows(jane, res("create", "authorization.k8s.io", "selfsubjectaccessreviews", "", "", ""))).isTrue();
        assertThat(index.allows(jane, res("create", "authorization.k8s.io", "selfsubjectrulesreviews", "", "", ""))).isTrue();
        assertThat(index.allows(jane, res("create", "authentication.k8s.io", "selfsubjectreviews", "", "", ""))).isTrue();
        assertThat(index.allows(jane, res("list", "", "pods", "", "default", ""))).isFalse();
        assertThat(index.allows(jane, res("list", "", "namespaces", "", "", ""))).isFalse();
    }
}
