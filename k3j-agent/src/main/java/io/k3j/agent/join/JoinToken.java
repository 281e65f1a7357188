package io.k3j.agent.join;

import static java.util.Objects.requireNonNull;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * A k3s join token as an agent reads it: {@code K10<sha256 of the CA bundle>::<user>:<password>} (secure form), or
 * a bare password (short form: the agent then trusts whatever CA the server sends, as k3s does with a warning).
 * {@link #toString()} hides the password.
 *
 * @param caHash   64 lowercase hex digits, absent in the short form
 * @param username the basic-auth user ({@code node} when the token names none)
 * @param password the shared secret
 */
public record JoinToken(Optional<String> caHash, String username, String password) {
    private static final String PREFIX = "K10";

    public JoinToken {
        requireNonNull(caHash, "caHash");
        requireNonNull(username, "username");
        requireNonNull(password, "password");
    }

    /**
     * Parses a token as k3s does.
     *
     * @throws IllegalArgumentException {@code token must not be empty}, {@code invalid token CA hash length},
     *                                  {@code invalid token format}
     */
    public static JoinToken parse(String token) {
        if (token == null || token.isEmpty()) throw new IllegalArgumentException("token must not be empty");
        if (!token.startsWith(PREFIX)) return new JoinToken(Optional.empty(), "node", token);
        String rest = token.substring(PREFIX.length());
        Optional<String> hash = Optional.empty();
        int sep = rest.indexOf("::");
        if (sep >= 0) {
            String h = rest.substring(0, sep).toLowerCase(Locale.ROOT);
            if (!h.isEmpty() && (h.length() != 64 || !h.chars().allMatch(c -> Character.digit(c, 16) >= 0))) {
                throw new IllegalArgumentException("invalid token CA hash length");
            }
            hash = h.isEmpty() ? Optional.empty() : Optional.of(h);
            rest = rest.substring(sep + 2);
        }
        int colon = rest.indexOf(':');
        if (colon <= 0 || colon == rest.length() - 1) throw new IllegalArgumentException("invalid token format");
        return new JoinToken(hash, rest.substring(0, colon), rest.substring(colon + 1));
    }

    /** Lowercase hex SHA-256 of the bundle bytes, as the token carries it. */
    public static String hash(byte[] caBundle) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(caBundle));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
        }
    }

    /** Whether the bundle is the one the token pins (always true for a short token). */
    public boolean matches(byte[] caBundle) {
        return caHash.isEmpty() || MessageDigest.isEqual(hash(caBundle).getBytes(), caHash.get().getBytes());
    }

    @Override
    public String toString() {
        return "JoinToken[caHash=" + caHash.orElse("<none>") + ", username=" + username + ", password=<redacted>]";
    }
}
