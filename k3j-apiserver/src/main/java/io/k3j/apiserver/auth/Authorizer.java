package io.k3j.apiserver.auth;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides whether a user may do what a request asks. Authorizers are chained like kube-apiserver's
 * {@code --authorization-mode} list: the first ALLOW or DENY wins; if all have no opinion the request is refused
 * (403). Implementations are thread-safe.
 */
@FunctionalInterface
public interface Authorizer {

    AuthorizationResult authorize(UserInfo user, RequestAttributes attributes);

    /**
     * Asks each authorizer in order; the first ALLOW or DENY is the answer. If every one has no opinion, the
     * answer is NO_OPINION with their reasons joined by newlines (the caller refuses it).
     */
    static Authorizer chain(List<Authorizer> authorizers) {
        List<Authorizer> all = List.copyOf(authorizers);
        return (user, attributes) -> {
            List<String> reasons = new ArrayList<>();
            for (Authorizer a : all) {
                AuthorizationResult result = a.authorize(user, attributes);
                if (result.decision() != Decision.NO_OPINION) {
                    return result;
                }
                if (!result.reason().isEmpty()) {
                    reasons.add(result.reason());
                }
            }
            return AuthorizationResult.noOpinion(String.join("\n", reasons));
        };
    }

    static Authorizer chain(Authorizer... authorizers) {
        return chain(List.of(authorizers));
    }

    /** Allows everything to members of {@code system:masters}, as kube-apiserver does ahead of any mode. */
    static Authorizer systemMasters() {
        return (user, attributes) -> user.inGroup(UserInfo.SYSTEM_MASTERS)
                ? AuthorizationResult.allow("")
                : AuthorizationResult.noOpinion("");
    }

    /**
     * The server's chain, as kube-apiserver's {@code --authorization-mode=Node,RBAC} with its privileged-group
     * shortcut: {@link #systemMasters()}, then {@code rbac}; a request neither allows is refused (403).
     */
    static Authorizer defaultChain(Authorizer rbac) {
        return chain(systemMasters(), rbac);
    }
}
