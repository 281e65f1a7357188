package io.k3j.apiserver.auth;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;

/**
 * Authenticates nodes joining with the cluster token. k3s checks joiners against its passwd file: the
 * {@code server} user with the server password, the {@code node} user with the agent password (the server
 * password unless {@code --agent-token} is set), both over HTTP basic auth. k3j accepts those, and also the bare
 * password as a bearer token, which is what a short token amounts to.
 *
 * <p>Every such request authenticates as {@link #JOINER_USER}, in {@link #AGENTS_GROUP}, and additionally in
 * {@link #SERVERS_GROUP} when the server password was used (it may join servers, and agents too, as in k3s), plus
 * {@code system:authenticated}. The authorizer is meant to give these groups the join endpoints only.
 */
public final class JoinTokenAuthenticator implements Authenticator {

    /** The user a join-token holder becomes. */
    public static final String JOINER_USER = "system:k3j:joiner";
    /** Holders of the server or agent password: may register agents. */
    public static final String AGENTS_GROUP = "system:k3j:agents";
    /** Holders of the server password: may join servers (bootstrap data, CA keys). */
    public static final String SERVERS_GROUP = "system:k3j:servers";

    private static final String SERVER_USER = "server";
    private static final String NODE_USER = "node";

    private final byte[] serverPassword;
    private final byte[] agentPassword;

    JoinTokenAuthenticator(String serverPassword, String agentPassword) {
        requireNonNull(serverPassword, "serverPassword");
        requireNonNull(agentPassword, "agentPassword");
        if (serverPassword.isEmpty() || agentPassword.isEmpty()) {
            throw new IllegalArgumentException("join passwords must not be empty");
        }
        this.serverPassword = serverPassword.getBytes(StandardCharsets.UTF_8);
        this.agentPassword = agentPassword.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Optional<UserInfo> authenticate(Credentials credentials) {
        if (credentials.basicUser() != null && credentials.basicPassword() != null) {
            byte[] given = credentials.basicPassword().getBytes(StandardCharsets.UTF_8);
            if (credentials.basicUser().equals(SERVER_USER) && MessageDigest.isEqual(given, serverPassword)) {
                return Optional.of(joiner(true));
            }
            if (credentials.basicUser().equals(NODE_USER) && MessageDigest.isEqual(given, agentPassword)) {
                return Optional.of(joiner(false));
            }
            return Optional.empty();
        }
        if (credentials.bearerToken() != null) {
            byte[] given = credentials.bearerToken().getBytes(StandardCharsets.UTF_8);
            if (MessageDigest.isEqual(given, serverPassword)) {
                return Optional.of(joiner(true));
            }
            if (MessageDigest.isEqual(given, agentPassword)) {
                return Optional.of(joiner(false));
            }
        }
        return Optional.empty();
    }

    private static UserInfo joiner(boolean server) {
        List<String> groups = server
                ? List.of(AGENTS_GROUP, SERVERS_GROUP, UserInfo.ALL_AUTHENTICATED)
                : List.of(AGENTS_GROUP, UserInfo.ALL_AUTHENTICATED);
        return new UserInfo(JOINER_USER, "", groups);
    }
}
