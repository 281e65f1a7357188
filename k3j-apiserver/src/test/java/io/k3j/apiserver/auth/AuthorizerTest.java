package io.k3j.apiserver.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AuthorizerTest {

    private static final UserInfo ADMIN = new UserInfo("system:admin", "", List.of("system:masters", "system:authenticated"));
    private static final UserInfo BOB = new UserInfo("bob", "", List.of("system:authenticated"));
    private static final UserInfo UNAUTHENTICATED = new UserInfo("system:anonymous", "", List.of("system:unauthenticated"));
    private static final RequestAttributes LIST_PODS = RequestAttributes.resource("list", "", "pods", "", "default", "",
            "/api/v1/namespaces/default/pods");

    @Test
    @DisplayName("system:masters is allowed everything, anyone else gets no opinion from that link")
    void masters() {
        assertThat(Authorizer.systemMasters().authorize(ADMIN, LIST_PODS).decision()).isEqualTo(Decision.ALLOW);
        assertThat(Authorizer.systemMasters().authorize(BOB, LIST_PODS).decision()).isEqualTo(Decision.NO_OPINION);
    }

    @Test
    @DisplayName("the default chain allows system:masters, then whatever RBAC allows, and refuses the rest")
    void defaultChain() {
        Authorizer rbac = (u, a) -> u.name().equals("bob") && a.verb().equals("list")
                ? AuthorizationResult.allow("") : AuthorizationResult.noOpinion("");
        Authorizer authz = Authorizer.defaultChain(rbac);
        assertThat(authz.authorize(ADMIN, LIST_PODS).allowed()).isTrue();
        assertThat(authz.authorize(BOB, LIST_PODS).allowed()).isTrue();
        RequestAttributes deletePods = RequestAttributes.resource("delete", "", "pods", "", "default", "p", "");
        assertThat(authz.authorize(BOB, deletePods).decision()).isEqualTo(Decision.NO_OPINION);
        assertThat(authz.authorize(UNAUTHENTICATED, LIST_PODS).allowed()).isFalse();
        assertThat(authz.authorize(UNAUTHENTICATED, LIST_PODS).decision()).isEqualTo(Decision.NO_OPINION);
    }

    @Test
    @DisplayName("the first ALLOW or DENY wins; no opinions collect their reasons")
    void chainOrder() {
        Authorizer deny = (u, a) -> AuthorizationResult.deny("node may not");
        Authorizer quiet1 = (u, a) -> AuthorizationResult.noOpinion("no RBAC rule");
        Authorizer quiet2 = (u, a) -> AuthorizationResult.noOpinion("not a node");
        assertThat(Authorizer.chain(quiet1, deny, Authorizer.systemMasters()).authorize(ADMIN, LIST_PODS))
                .isEqualTo(AuthorizationResult.deny("node may not"));
        assertThat(Authorizer.chain(Authorizer.systemMasters(), deny).authorize(ADMIN, LIST_PODS).allowed()).isTrue();
        assertThat(Authorizer.chain(quiet1, quiet2).authorize(BOB, LIST_PODS))
                .isEqualTo(AuthorizationResult.noOpinion("no RBAC rule\nnot a node"));
        assertThat(Authorizer.chain(List.of()).authorize(ADMIN, LIST_PODS).allowed()).isFalse();
    }

    @Test
    @DisplayName("forbidden messages are kube-apiserver's, word for word")
    void forbiddenMessages() {
        assertThat(LIST_PODS.forbiddenMessage("system:anonymous"))
                .isEqualTo("User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"");
        assertThat(RequestAttributes.resource("get", "apps", "deployments", "scale", "prod", "web", "/apis/...")
                .forbiddenMessage("bob"))
                .isEqualTo("User \"bob\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"prod\"");
        assertThat(RequestAttributes.resource("list", "", "nodes", "", "", "", "/api/v1/nodes").forbiddenMessage("bob"))
                .isEqualTo("User \"bob\" cannot list resource \"nodes\" in API group \"\" at the cluster scope");
        assertThat(RequestAttributes.nonResource("get", "/metrics").forbiddenMessage("bob"))
                .isEqualTo("User \"bob\" cannot get path \"/metrics\"");
        assertThat(RequestAttributes.quote("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
    }
}
