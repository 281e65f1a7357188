package io.k3j.apiserver.pki;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The server's join secret, laid out as k3s lays it out: {@code <server data dir>/token} holds the secure token
 * {@code K10<server CA hash>::server:<password>} and a newline (mode 0600), and {@code node-token} is a symlink
 * to it kept for older scripts. The password comes from {@code --token} when given, else from the existing token
 * file, else 16 random bytes in hex (k3s's {@code token.Random(16)}).
 *
 * <p>A user-supplied {@code --token} replaces a stored password; the file is rewritten whenever its content would
 * change (e.g. the CA hash), so it always matches the CA actually served.
 */
public final class ClusterToken {

    /** The username servers present with the server token, as in k3s's passwd file. */
    public static final String SERVER_USER = "server";
    /** The username agents present with the agent token. */
    public static final String NODE_USER = "node";

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;
    private final JoinToken token;

    private ClusterToken(Path file, JoinToken token) {
        this.file = file;
        this.token = token;
    }

    /**
     * @param suppliedToken {@code --token} (short or full form), or null/empty to keep or generate one
     * @param caBundle      the server CA bundle ({@link ClusterPki#serverCaBundle()})
     * @throws IllegalArgumentException if {@code suppliedToken} is malformed or its CA hash does not match
     *                                  {@code caBundle} (message as k3s's: {@code token CA hash does not match ...})
     * @throws IOException              if the files cannot be read or written
     */
    public static ClusterToken loadOrCreate(Path serverDataDir, String suppliedToken, byte[] caBundle)
            throws IOException {
        requireNonNull(serverDataDir, "serverDataDir");
        requireNonNull(caBundle, "caBundle");
        Path file = serverDataDir.resolve("token");
        String password;
        if (suppliedToken != null && !suppliedToken.isEmpty()) {
            JoinToken supplied = JoinToken.parse(suppliedToken.trim());
            try {
                supplied.verifyCaHash(caBundle);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--token was issued for another cluster CA: " + e.getMessage()
                        + " (use the token from this server's " + file + ", or its password part only)", e);
            }
            password = supplied.password();
        } else if (Files.isRegularFile(file)) {
            String stored = Files.readString(file, StandardCharsets.UTF_8).trim();
            try {
                password = JoinToken.parse(stored).password();
            } catch (IllegalArgumentException e) {
                throw new IOException("reading " + file + ": " + e.getMessage(), e);
            }
        } else {
            byte[] secret = new byte[16];
            RANDOM.nextBytes(secret);
            password = HexFormat.of().formatHex(secret);
        }

        JoinToken token = JoinToken.secure(caBundle, SERVER_USER, password);
        String content = token.encoded() + "\n";
        if (!Files.isRegularFile(file) || !content.equals(Files.readString(file, StandardCharsets.UTF_8))) {
            SecureFiles.write(file, content, SecureFiles.KEY_MODE);
        }
        linkNodeToken(serverDataDir.resolve("node-token"));
        return new ClusterToken(file, token);
    }

    private static void linkNodeToken(Path link) throws IOException {
        if (Files.isSymbolicLink(link)) {
            return;
        }
        if (Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(link);
        }
        try {
            // Relative, so the data dir can be moved or mounted elsewhere.
            Files.createSymbolicLink(link, Path.of("token"));
        } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
            // No symlinks here (some Windows setups): a copy serves the scripts that read node-token.
            SecureFiles.write(link, Files.readAllBytes(link.resolveSibling("token")), SecureFiles.KEY_MODE);
        }
    }

    /** {@code <server data dir>/token}. */
    public Path file() {
        return file;
    }

    /** The secure token as stored in the file and handed to joiners. */
    public JoinToken token() {
        return token;
    }

    /** The shared secret joiners authenticate with. */
    public String password() {
        return token.password();
    }

    @Override
    public String toString() {
        return "ClusterToken[" + file + "]";
    }
}
