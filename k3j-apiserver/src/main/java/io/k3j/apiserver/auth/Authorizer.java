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
     * Allows every authenticated user everything.
     *
     * <p>TODO(rbac): a stand-in until the RBAC authorizer (and the Node authorizer for {@code system:node:*}) land
     * in their own issue; they replace this link in {@link #defaultChain()} and nothing else changes.
     */
    static Authorizer allowAuthenticated() {
        return (user, attributes) -> user.inGroup(UserInfo.ALL_AUTHENTICATED)
                ? AuthorizationResult.allow("")
                : AuthorizationResult.noOpinion("");
    }

    /** The server's chain today: {@link #systemMasters()}, then {@link #allowAuthenticated()}. */
    static Authorizer defaultChain() {
        return chain(systemMasters(), allowAuthenticated());
    }
}
