package io.k3j.apiserver.auth;

import static java.util.Objects.requireNonNull;

/**
 * A {@link Decision} with its reason. A refusal's reason is appended to the 403 message
 * ({@code ...: <reason>}), as kube-apiserver does; empty means none.
 */
public record AuthorizationResult(Decision decision, String reason) {

    public AuthorizationResult {
        requireNonNull(decision, "decision");
        reason = reason == null ? "" : reason;
    }

    public static AuthorizationResult allow(String reason) {
        return new AuthorizationResult(Decision.ALLOW, reason);
    }

    public static AuthorizationResult deny(String reason) {
        return new AuthorizationResult(Decision.DENY, reason);
    }

    public static AuthorizationResult noOpinion(String reason) {
        return new AuthorizationResult(Decision.NO_OPINION, reason);
    }

    /** Only {@link Decision#ALLOW} lets a request through; {@code NO_OPINION} at the end of the chain is a 403. */
    public boolean allowed() {
        return decision == Decision.ALLOW;
    }
}
