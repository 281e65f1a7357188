package io.k3j.apiserver.auth;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Locale;

/**
 * What a request presented: the TLS peer's certificate chain and whatever its {@code Authorization} header
 * carried. Any part may be null. {@link #toString()} never shows secrets.
 *
 * @param peerCertificates the verified TLS peer chain, leaf first
 * @param bearerToken      from {@code Authorization: Bearer <token>}
 * @param basicUser        from {@code Authorization: Basic ...} (k3s's supervisor endpoints use it for joining)
 * @param basicPassword    ditto
 */
public record Credentials(X509Certificate[] peerCertificates, String bearerToken, String basicUser,
                          String basicPassword) {

    public static Credentials none() {
        return new Credentials(null, null, null, null);
    }

    public static Credentials bearer(String token) {
        return new Credentials(null, token, null, null);
    }

    public static Credentials basic(String user, String password) {
        return new Credentials(null, null, user, password);
    }

    public static Credentials certificates(X509Certificate... chain) {
        return new Credentials(chain, null, null, null);
    }

    /**
     * Reads an {@code Authorization} header as kube-apiserver does: trimmed, split on spaces, scheme
     * case-insensitive, an empty token ignored. A malformed header yields no header credentials (the request is
     * then anonymous unless its certificate authenticates it).
     *
     * @param authorization    the header value, or null
     * @param peerCertificates the TLS peer chain, or null
     */
    public static Credentials fromAuthorizationHeader(String authorization, X509Certificate[] peerCertificates) {
        if (authorization == null) {
            return new Credentials(peerCertificates, null, null, null);
        }
        String[] parts = authorization.trim().split(" ", 3);
        if (parts.length < 2 || parts[1].isEmpty()) {
            return new Credentials(peerCertificates, null, null, null);
        }
        String scheme = parts[0].toLowerCase(Locale.ROOT);
        if (scheme.equals("bearer")) {
            return new Credentials(peerCertificates, parts[1], null, null);
        }
        if (scheme.equals("basic")) {
            try {
                String decoded = new String(Base64.getDecoder().decode(parts[1]), StandardCharsets.UTF_8);
                int colon = decoded.indexOf(':');
                if (colon >= 0) {
                    return new Credentials(peerCertificates, null, decoded.substring(0, colon),
                            decoded.substring(colon + 1));
                }
            } catch (IllegalArgumentException e) {
                // Not base64: no basic credentials.
            }
        }
        return new Credentials(peerCertificates, null, null, null);
    }

    @Override
    public String toString() {
        return "Credentials[certificates=" + (peerCertificates == null ? 0 : peerCertificates.length)
                + ", bearer=" + (bearerToken != null) + ", basicUser=" + basicUser + "]";
    }
}
