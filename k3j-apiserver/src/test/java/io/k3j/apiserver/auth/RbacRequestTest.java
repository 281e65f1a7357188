package io.k3j.apiserver.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.testing.TestServers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authorization on a real in-process server: RBAC decisions, kube-apiserver's 403 messages
 * (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go), impersonation and SelfSubjectRulesReview.
 */
class RbacRequestTest {
    @TempDir static Path dir;
    private static ControlPlane cp;
    private static HttpClient admin;
    private static HttpClient jane;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        cp = TestServers.start(dir);
        base = "https://127.0.0.1:" + cp.port();
        admin = HttpClient.newBuilder().sslContext(TestServers.tls(cp, cp.pki().adminCredentials())).build();
        jane = HttpClient.newBuilder().sslContext(TestServers.tls(cp, cp.pki().issueClientCert("jane", List.of(), Duration.ofHours(1)))).build();
    }

    @AfterAll
    static void stop() {
        if (cp != null) cp.close();
    }

    record Answer(int code, String text) {
        JsonNode json() {
            return Json.parse(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        String message() {
            return json().path("message").asText();
        }
    }

    private static Answer call(HttpClient client, String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Accept", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body());
    }

    @Test
    @DisplayName("a user with no bindings gets kube-apiserver's 403 for resources and paths, but may use discovery and /version")
    void noBindings() throws Exception {
        Answer pods = call(jane, "GET", "/api/v1/namespaces/kube-system/pods", null);
        assertThat(pods.code()).isEqualTo(403);
        assertThat(pods.json().path("reason").asText()).isEqualTo("Forbidden");
        assertThat(pods.message()).isEqualTo(
                "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\"");

        Answer deploy = call(jane, "GET", "/apis/apps/v1/namespaces/kube-system/deployments/web", null);
        assertThat(deploy.code()).isEqualTo(403);
        assertThat(deploy.message()).isEqualTo("deployments.apps \"web\" is forbidden: User \"jane\" cannot get resource "
                + "\"deployments\" in API group \"apps\" in the namespace \"kube-system\"");

        Answer nodes = call(jane, "GET", "/api/v1/nodes", null);
        assertThat(nodes.message()).isEqualTo(
                "nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope");

        Answer metrics = call(jane, "GET", "/metrics", null);
        assertThat(metrics.code()).isEqualTo(403);
        assertThat(metrics.message()).isEqualTo("forbidden: User \"jane\" cannot get path \"/metrics\"");

        for (String path : List.of("/version", "/healthz", "/readyz", "/api", "/apis", "/api/v1", "/apis/apps/v1")) {
            assertThat(call(jane, "GET", path, null).code()).as(path).isEqualTo(200);
        }
    }

    @Test
    @DisplayName("a RoleBinding takes effect within a second, in its namespace only, and its deletion as fast")
    void roleBindingTakesEffect() throws Exception {
        call(admin, "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"team-a\"}}");
        String list = "/api/v1/namespaces/team-a/configmaps";
        assertThat(call(jane, "GET", list, null).code()).isEqualTo(403);
        assertThat(call(admin, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles", """
                {"metadata":{"name":"cm-reader"},"rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["configmaps"]}]}
                """).code()).isEqualTo(201);
        assertThat(call(admin, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings", """
                {"metadata":{"name":"jane-reads"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"cm-reader"},
                 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"jane"}]}
                """).code()).isEqualTo(201);
        long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        int code = 0;
        while (System.nanoTime() < deadline && (code = call(jane, "GET", list, null).code()) != 200) Thread.sleep(20);
        assertThat(code).isEqualTo(200);
        assertThat(call(jane, "GET", "/api/v1/namespaces/default/configmaps", null).code()).isEqualTo(403);
        assertThat(call(jane, "DELETE", list + "/kube-root-ca.crt", null).message()).isEqualTo("configmaps \"kube-root-ca.crt\" is "
                + "forbidden: User \"jane\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"team-a\"");

        // deleting the binding takes the permission away just as fast
        assertThat(call(admin, "DELETE", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/jane-reads", null)
                .code()).isEqualTo(200);
        deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        while (System.nanoTime() < deadline && (code = call(jane, "GET", list, null).code()) != 403) Thread.sleep(20);
        assertThat(code).isEqualTo(403);
    }

    @Test
    @DisplayName("admin may impersonate; the request then runs as the impersonated user and groups")
    void adminImpersonates() throws Exception {
        Answer asJane = call(admin, "GET", "/api/v1/namespaces/kube-system/secrets", null, "Impersonate-User", "jane");
        assertThat(asJane.code()).isEqualTo(403);
        assertThat(asJane.message()).isEqualTo(
                "secrets is forbidden: User \"jane\" cannot list resource \"secrets\" in API group \"\" in the namespace \"kube-system\"");
        Answer asMaster = call(admin, "GET", "/api/v1/namespaces/kube-system/secrets", null,
                "Impersonate-User", "jane", "Impersonate-Group", "system:masters");
        assertThat(asMaster.code()).isEqualTo(200);

        // impersonated users are in system:authenticated, which may read /version
        assertThat(call(admin, "GET", "/version", null, "Impersonate-User", "jane").code()).isEqualTo(200);
        assertThat(call(admin, "GET", "/metrics", null, "Impersonate-User", "jane").message())
                .isEqualTo("forbidden: User \"jane\" cannot get path \"/metrics\"");
    }

    @Test
    @DisplayName("groups or a uid without Impersonate-User are a 400 listing what was asked for, as kube-apiserver prints it")
    void groupsWithoutUser() throws Exception {
        Answer a = call(admin, "GET", "/version", null, "Impersonate-Group", "devs", "Impersonate-Uid", "42");
        assertThat(a.code()).isEqualTo(400);
        assertThat(a.json().path("reason").asText()).isEqualTo("BadRequest");
        assertThat(a.message()).isEqualTo("requested [{Group  devs    } {UID  42  authentication.k8s.io/v1  }] without impersonating a user");
    }

    @Test
    @DisplayName("a user without the impersonate verb gets kube-apiserver's 403 naming what was asked for")
    void janeMayNotImpersonate() throws Exception {
        Answer user = call(jane, "GET", "/version", null, "Impersonate-User", "system:admin");
        assertThat(user.code()).isEqualTo(403);
        assertThat(user.message()).isEqualTo("users \"system:admin\" is forbidden: User \"jane\" cannot impersonate resource "
                + "\"users\" in API group \"\" at the cluster scope");
        Answer sa = call(jane, "GET", "/version", null, "Impersonate-User", "system:serviceaccount:kube-system:default");
        assertThat(sa.message()).isEqualTo("serviceaccounts \"default\" is forbidden: User \"jane\" cannot impersonate resource "
                + "\"serviceaccounts\" in API group \"\" in the namespace \"kube-system\"");
    }

    @Test
    @DisplayName("impersonating a user needs impersonate on each group, extra and uid too")
    void partialImpersonationRights() throws Exception {
        call(admin, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", """
                {"metadata":{"name":"impersonate-bob"},"rules":[{"verbs":["impersonate"],"apiGroups":[""],"resources":["users"],"resourceNames":["bob"]}]}
                """);
        call(admin, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", """
                {"metadata":{"name":"jane-as-bob"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"impersonate-bob"},
                 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"jane"}]}
                """);
        long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        int code = 0;
        while (System.nanoTime() < deadline && (code = call(jane, "GET", "/version", null, "Impersonate-User", "bob").code()) != 200) {
            Thread.sleep(20);
        }
        assertThat(code).isEqualTo(200);
        Answer group = call(jane, "GET", "/version", null, "Impersonate-User", "bob", "Impersonate-Group", "system:masters");
        assertThat(group.code()).isEqualTo(403);
        assertThat(group.message()).isEqualTo("groups \"system:masters\" is forbidden: User \"jane\" cannot impersonate resource "
                + "\"groups\" in API group \"\" at the cluster scope");
        Answer uid = call(jane, "GET", "/version", null, "Impersonate-User", "bob", "Impersonate-Uid", "7");
        assertThat(uid.message()).isEqualTo("uids.authentication.k8s.io \"7\" is forbidden: User \"jane\" cannot impersonate "
                + "resource \"uids\" in API group \"authentication.k8s.io\" at the cluster scope");
        Answer extra = call(jane, "GET", "/version", null, "Impersonate-User", "bob", "Impersonate-Extra-Scopes", "x");
        assertThat(extra.message()).isEqualTo("userextras.authentication.k8s.io \"x\" is forbidden: User \"jane\" cannot "
                + "impersonate resource \"userextras/scopes\" in API group \"authentication.k8s.io\" at the cluster scope");
    }

    @Test
    @DisplayName("SelfSubjectRulesReview: system:masters sees cluster-admin's rules, jane the basic-user and discovery ones")
    void rulesReview() throws Exception {
        String body = "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectRulesReview\",\"spec\":{\"namespace\":\"default\"}}";
        Answer a = call(admin, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", body);
        assertThat(a.code()).isEqualTo(201);
        JsonNode status = a.json().path("status");
        assertThat(a.json().path("kind").asText()).isEqualTo("SelfSubjectRulesReview");
        assertThat(status.path("incomplete").asBoolean(true)).isFalse();
        assertThat(status.path("resourceRules").toString())
                .contains("{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}");
        assertThat(status.path("nonResourceRules").toString()).contains("{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}");

        Answer j = call(jane, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", body);
        assertThat(j.code()).isEqualTo(201);
        assertThat(j.json().path("status").path("resourceRules").toString()).doesNotContain("\"*\"")
                .contains("selfsubjectaccessreviews", "selfsubjectrulesreviews");
        assertThat(j.json().path("status").path("nonResourceRules").toString()).contains("/version", "/apis/*");
    }
}
