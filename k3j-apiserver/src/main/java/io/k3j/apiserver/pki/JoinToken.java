package io.k3j.apiserver.pki;

import static java.util.Objects.requireNonNull;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * A k3s join token. The secure ("full") form is {@code K10<ca hash>::<username>:<password>}, where the hash is the
 * lowercase hex SHA-256 of the server CA bundle exactly as {@code /cacerts} serves it; a joiner that downloads the
 * bundle without verification checks it against the hash before sending the password. The short form is just the
 * password. See <a href="https://docs.k3s.io/cli/token">k3s token</a>.
 *
 * <p>{@link #toString()} hides the password; {@link #encoded()} gives the token text.
 *
 * @param caHash   64 lowercase hex digits, absent in the short form
 * @param username {@code server} or {@code node} in tokens k3s writes; empty in the short form
 * @param password the shared secret
 */
public record JoinToken(Optional<String> caHash, String username, String password) {

    static final String PREFIX = "K10";
    private static final int CA_HASH_LENGTH = 64;

    /**
     * @throws IllegalArgumentException if the hash is not 64 hex digits or the password is empty
     */
    public JoinToken {
        requireNonNull(caHash, "caHash");
        requireNonNull(username, "username");
        requireNonNull(password, "password");
        caHash = caHash.map(h -> h.toLowerCase(java.util.Locale.ROOT));
        if (caHash.isPresent() && (caHash.get().length() != CA_HASH_LENGTH
                || !caHash.get().chars().allMatch(c -> Character.digit(c, 16) >= 0))) {
            throw new IllegalArgumentException("invalid token CA hash length");
        }
        if (password.isEmpty()) {
            throw new IllegalArgumentException("invalid token format");
        }
    }

    /** The secure token for {@code username:password} pinned to {@code caBundle}. */
    public static JoinToken secure(byte[] caBundle, String username, String password) {
        return new JoinToken(Optional.of(hashCaBundle(caBundle)), username, password);
    }

    /**
     * Parses a token as k3s does: text without the {@code K10} prefix is a bare password (even if it contains a
     * colon); with the prefix, an optional hash then {@code ::}, then {@code username:password}.
     *
     * @throws IllegalArgumentException with k3s's messages: {@code token must not be empty},
     *                                  {@code invalid token CA hash length}, {@code invalid token format}
     */
    public static JoinToken parse(String token) {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("token must not be empty");
        }
        if (!token.startsWith(PREFIX)) {
            return new JoinToken(Optional.empty(), "", token);
        }
        String rest = token.substring(PREFIX.length());
        Optional<String> hash = Optional.empty();
        int sep = rest.indexOf("::");
        if (sep >= 0) {
            String h = rest.substring(0, sep);
            if (!h.isEmpty() && h.length() != CA_HASH_LENGTH) {
                throw new IllegalArgumentException("invalid token CA hash length");
            }
            hash = h.isEmpty() ? Optional.empty() : Optional.of(h);
            rest = rest.substring(sep + 2);
        }
        int colon = rest.indexOf(':');
        if (colon < 0 || colon == rest.length() - 1) {
            throw new IllegalArgumentException("invalid token format");
        }
        return new JoinToken(hash, rest.substring(0, colon), rest.substring(colon + 1));
    }

    /** Lowercase hex SHA-256 of the CA bundle bytes. */
    public static String hashCaBundle(byte[] caBundle) {
        requireNonNull(caBundle, "caBundle");
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(caBundle));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
        }
    }

    /**
     * Checks the bundle against the token's hash; a token without a hash accepts any bundle (k3s only warns then).
     *
     * @throws IllegalArgumentException {@code token CA hash does not match the Cluster CA certificate hash: <token
     *                                  hash> != <bundle hash>}
     */
    public void verifyCaHash(byte[] caBundle) {
        if (caHash.isEmpty()) {
            return;
        }
        String actual = hashCaBundle(caBundle);
        if (!MessageDigest.isEqual(actual.getBytes(), caHash.get().getBytes())) {
            throw new IllegalArgumentException("token CA hash does not match the Cluster CA certificate hash: "
                    + caHash.get() + " != " + actual);
        }
    }

    /** The token text: {@code K10<hash>::<user>:<password>}, or the bare password for a short token. */
    public String encoded() {
        if (caHash.isEmpty() && username.isEmpty()) {
            return password;
        }
        return PREFIX + caHash.orElse("") + "::" + username + ":" + password;
    }

    @Override
    public String toString() {
        return "JoinToken[caHash=" + caHash.orElse("<none>") + ", username=" + username + ", password=<redacted>]";
    }
}
