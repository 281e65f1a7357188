package io.k3j.agent.volume;

import java.time.Instant;
import java.util.Objects;

/**
 * A bound service account token from TokenRequest.
 *
 * @param token     the JWT
 * @param issuedAt  when it was obtained (the agent's clock)
 * @param expiresAt {@code status.expirationTimestamp}
 */
public record ServiceAccountToken(String token, Instant issuedAt, Instant expiresAt) {

    public ServiceAccountToken {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(issuedAt, "issuedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    /**
     * Kubelet's rotation rule (pkg/kubelet/token): renew once 80% of the lifetime has passed, or when the token is
     * older than 24 hours.
     */
    public boolean needsRefresh(Instant now) {
        long lifetime = expiresAt.toEpochMilli() - issuedAt.toEpochMilli();
        Instant refreshAt = issuedAt.plusMillis(lifetime * 8 / 10);
        return !now.isBefore(refreshAt) || !now.isBefore(issuedAt.plusSeconds(24 * 3600));
    }
}
