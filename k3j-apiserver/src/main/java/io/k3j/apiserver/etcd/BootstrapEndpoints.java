package io.k3j.apiserver.etcd;

import static java.util.Objects.requireNonNull;

import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.auth.Authenticator;
import io.k3j.apiserver.auth.Credentials;
import io.k3j.apiserver.auth.JoinTokenAuthenticator;
import io.k3j.apiserver.auth.UserInfo;
import io.k3j.apiserver.http.ApiRequest;
import io.k3j.apiserver.http.HttpExchange;
import io.k3j.apiserver.http.HttpHandler;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The endpoint a joining server fetches the cluster's shared secrets from, served in front of the API
 * ({@link #wrap} passes every other request on):
 *
 * <pre>
 * GET /v1-k3s/server-bootstrap   {@link BootstrapData} as JSON: cluster CAs and keys, service-account key, etcd CAs,
 *                                and the etcd members' client URLs
 * </pre>
 *
 * <p>Only a holder of the <em>server</em> token gets it (HTTP basic {@code server:<password>}, as k3s's joiners
 * send, or the bare password as bearer): these are the keys of the whole cluster, so the agent token, node
 * certificates and even cluster admins are refused with 403. The group check is made here rather than left to RBAC,
 * so no role binding can ever widen it.
 */
public final class BootstrapEndpoints implements HttpHandler {
    private static final System.Logger LOG = System.getLogger(BootstrapEndpoints.class.getName());
    /** The path, as in k3s. */
    public static final String PATH = "/v1-k3s/server-bootstrap";

    private final Path serverDir;
    private final Authenticator authenticator;
    private final Supplier<List<String>> etcdClientUrls;
    private final HttpHandler next;

    private BootstrapEndpoints(Path serverDir, Authenticator authenticator, Supplier<List<String>> etcdClientUrls, HttpHandler next) {
        this.serverDir = serverDir;
        this.authenticator = authenticator;
        this.etcdClientUrls = etcdClientUrls;
        this.next = next;
    }

    /**
     * @param serverDir      {@code <data-dir>/server}, where the shared files are read from at each request
     * @param etcdClientUrls the etcd members' client URLs (empty without embedded etcd)
     */
    public static HttpHandler wrap(Path serverDir, Authenticator authenticator, Supplier<List<String>> etcdClientUrls, HttpHandler next) {
        return new BootstrapEndpoints(requireNonNull(serverDir, "serverDir"), requireNonNull(authenticator, "authenticator"),
                requireNonNull(etcdClientUrls, "etcdClientUrls"), requireNonNull(next, "next"));
    }

    @Override
    public void handle(ApiRequest req, HttpExchange ex) throws Exception {
        if (!req.path().equals(PATH)) {
            next.handle(req, ex);
            return;
        }
        try {
            if (!req.method().equals("GET")) {
                throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
            }
            UserInfo user = authenticator.authenticate(Credentials.fromAuthorizationHeader(req.header("Authorization"),
                    req.peerCertificates())).orElseThrow(ApiException::unauthorized);
            if (!user.groups().contains(JoinTokenAuthenticator.SERVERS_GROUP)) {
                throw ApiException.forbidden("forbidden: User \"" + user.name() + "\" cannot get path \"" + PATH
                        + "\": the server bootstrap data is only given to holders of the server token");
            }
            LOG.log(System.Logger.Level.INFO, "handing bootstrap data to a joining server at " + req.remoteAddress());
            ex.send(200, "application/json", BootstrapData.read(serverDir, etcdClientUrls.get()).toJson(), Map.of());
        } catch (ApiException e) {
            if (!ex.responded()) ex.send(e.code(), "application/json", Json.bytes(e.toStatus()), Map.of());
        }
    }
}
