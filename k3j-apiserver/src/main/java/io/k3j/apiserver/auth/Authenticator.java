package io.k3j.apiserver.auth;

import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns a request's credentials into a user. An empty result means "not authenticated by me"; a request nobody
 * authenticates is anonymous and the HTTP layer answers 401 Unauthorized.
 *
 * <p>Implementations are thread-safe and do no I/O per request.
 */
@FunctionalInterface
public interface Authenticator {

    Optional<UserInfo> authenticate(Credentials credentials);

    /**
     * X.509 client certificates, as kube-apiserver's {@code --client-ca-file}: the chain must verify against one of
     * {@code trustedCas} at the clock's time and allow client authentication; the user is the subject CN, the
     * groups its O values plus {@code system:authenticated}. A certificate with an empty CN authenticates nobody.
     *
     * @throws IllegalArgumentException if {@code trustedCas} is empty
     */
    static Authenticator clientCertificates(Collection<X509Certificate> trustedCas, Clock clock) {
        return new ClientCertificateAuthenticator(trustedCas, clock);
    }

    /**
     * Static bearer tokens in kube-apiserver's {@code --token-auth-file} CSV format:
     * {@code token,user,uid[,"group1,group2"]}, one per line.
     *
     * @throws IOException              if the file cannot be read
     * @throws IllegalArgumentException if a line is malformed (kube-apiserver's message)
     */
    static Authenticator tokenFile(Path file) throws IOException {
        return TokenFileAuthenticator.read(file);
    }

    /** Fixed bearer tokens, e.g. the loopback token in-process controllers use. */
    static Authenticator tokens(Map<String, UserInfo> tokens) {
        return new TokenFileAuthenticator(tokens);
    }

    /**
     * The cluster join secret (see {@link JoinTokenAuthenticator} for the users it yields).
     *
     * @param serverPassword the server token's password
     * @param agentPassword  the agent token's password; k3s uses the server password when no
     *                       {@code --agent-token} is set, pass the same value then
     * @throws IllegalArgumentException if a password is empty
     */
    static Authenticator joinToken(String serverPassword, String agentPassword) {
        return new JoinTokenAuthenticator(serverPassword, agentPassword);
    }

    /** The first authenticator that recognises the credentials wins, in order. */
    static Authenticator union(List<Authenticator> authenticators) {
        List<Authenticator> all = List.copyOf(authenticators);
        return credentials -> {
            for (Authenticator a : all) {
                Optional<UserInfo> user = a.authenticate(credentials);
                if (user.isPresent()) {
                    return user;
                }
            }
            return Optional.empty();
        };
    }

    static Authenticator union(Authenticator... authenticators) {
        return union(List.of(authenticators));
    }
}
