package io.k3j.apiserver.join;

import static java.util.Objects.requireNonNull;

import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.auth.AuthorizationResult;
import io.k3j.apiserver.auth.Authenticator;
import io.k3j.apiserver.auth.Authorizer;
import io.k3j.apiserver.auth.Credentials;
import io.k3j.apiserver.auth.RequestAttributes;
import io.k3j.apiserver.auth.UserInfo;
import io.k3j.apiserver.http.ApiRequest;
import io.k3j.apiserver.http.HttpExchange;
import io.k3j.apiserver.http.HttpHandler;
import io.k3j.apiserver.pki.CertAndKey;
import io.k3j.apiserver.pki.ClusterPki;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.resource.ResourceRegistry;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The k3s supervisor endpoints an agent uses to join, served in front of the API ({@link #wrap} passes every other
 * request on):
 *
 * <pre>
 * GET  /cacerts                        the server CA bundle, byte for byte what the K10 token hashes (no credentials:
 *                                      the joiner checks the hash before it trusts anything, as in k3s)
 * GET  /ping                           "pong"
 * GET  /v1-k3s/client-kubelet.crt      k3s's form: a fresh key made by the server; body = certificate chain + key
 * POST /v1-k3s/client-kubelet.crt      k3j's form: body = a PEM CERTIFICATE REQUEST (or PUBLIC KEY); the agent keeps
 *                                      its key, the answer is the certificate chain only
 * GET|POST /v1-k3s/serving-kubelet.crt the kubelet's serving certificate, the same two forms
 * GET  /v1-k3s/client-ca.crt           the client CA: a kubelet verifies callers of its API (the API server's
 *                                      {@link ClusterPki#kubeletClientCredentials()}) against it
 * </pre>
 *
 * <p>Certificate requests carry k3s's headers {@code k3s-Node-Name}, {@code k3s-Node-Password} and (serving)
 * {@code k3s-Node-IP} (comma separated). They are authenticated like any request (the join token as basic auth
 * {@code node:<password>} or bearer) and authorized by RBAC on the non-resource path, which
 * {@code system:k3j:agent-join} grants to token holders. The client certificate is {@code CN=system:node:<name>,
 * O=system:nodes}; the serving one names the node, its IPs, {@code localhost} and {@code 127.0.0.1}.
 *
 * <p>Node names are protected by the node password ({@link NodePasswords}): the first agent to claim a name sets
 * it, another agent claiming the name with a different password is refused 403.
 */
public final class JoinEndpoints implements HttpHandler {
    private static final System.Logger LOG = System.getLogger(JoinEndpoints.class.getName());
    /** k3s's node certificates last as long as its other leaves. */
    public static final Duration NODE_CERT_VALIDITY = ClusterPki.LEAF_VALIDITY;
    private static final Pattern NODE_NAME =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final String PEM = "application/x-pem-file";

    private final ClusterPki pki;
    private final Authenticator authenticator;
    private final Authorizer authorizer;
    private final NodePasswords passwords;
    private final HttpHandler next;

    private JoinEndpoints(ClusterPki pki, Authenticator authenticator, Authorizer authorizer, NodePasswords passwords,
                          HttpHandler next) {
        this.pki = pki;
        this.authenticator = authenticator;
        this.authorizer = authorizer;
        this.passwords = passwords;
        this.next = next;
    }

    /**
     * The join endpoints in front of {@code next}.
     *
     * @param authenticator the API server's (so a join token and node certificates authenticate alike)
     * @param authorizer    the API server's chain
     */
    public static HttpHandler wrap(ClusterPki pki, ObjectStore objects, ResourceRegistry registry,
                                   Authenticator authenticator, Authorizer authorizer, HttpHandler next) {
        return new JoinEndpoints(requireNonNull(pki, "pki"), requireNonNull(authenticator, "authenticator"),
                requireNonNull(authorizer, "authorizer"), new NodePasswords(objects, registry), requireNonNull(next, "next"));
    }

    @Override
    public void handle(ApiRequest req, HttpExchange ex) throws Exception {
        String path = req.path();
        boolean client = path.equals("/v1-k3s/client-kubelet.crt");
        boolean serving = path.equals("/v1-k3s/serving-kubelet.crt");
        boolean clientCa = path.equals("/v1-k3s/client-ca.crt");
        if (!path.equals("/cacerts") && !path.equals("/ping") && !client && !serving && !clientCa) {
            next.handle(req, ex);
            return;
        }
        try {
            if (client || serving) {
                requireMethod(req, "GET", "POST");
                authorize(req);
                ex.send(200, PEM, client ? clientCert(req) : servingCert(req), Map.of());
            } else if (clientCa) {
                requireMethod(req, "GET", "HEAD");
                authorize(req);
                ex.send(200, PEM, pki.clientCaPem().getBytes(StandardCharsets.US_ASCII), Map.of());
            } else if (path.equals("/cacerts")) {
                requireMethod(req, "GET", "HEAD");
                ex.send(200, PEM, pki.serverCaBundle(), Map.of());
            } else {
                requireMethod(req, "GET", "HEAD");
                ex.send(200, "text/plain; charset=utf-8", "pong".getBytes(StandardCharsets.UTF_8), Map.of());
            }
        } catch (ApiException e) {
            if (!ex.responded()) ex.send(e.code(), "application/json", Json.bytes(e.toStatus()), Map.of());
        }
    }

    private void authorize(ApiRequest req) {
        UserInfo user = authenticator.authenticate(Credentials.fromAuthorizationHeader(req.header("Authorization"),
                req.peerCertificates())).orElseThrow(ApiException::unauthorized);
        String verb = req.method().equals("POST") ? "post" : "get";
        AuthorizationResult d = authorizer.authorize(user, RequestAttributes.nonResource(verb, req.path()));
        if (!d.allowed()) {
            throw ApiException.forbidden("forbidden: User \"" + user.name() + "\" cannot " + verb + " path \""
                    + req.path() + "\"");
        }
    }

    private byte[] clientCert(ApiRequest req) {
        String node = nodeName(req);
        passwords.verifyOrSet(node, nodePassword(req));
        String cn = "system:node:" + node;
        List<String> orgs = List.of("system:nodes");
        if (req.method().equals("POST")) {
            PublicKey key = CertificateRequests.publicKey(req.body());
            LOG.log(System.Logger.Level.INFO, "issuing kubelet client certificate for node " + node);
            return pki.signClientCert(cn, orgs, key, NODE_CERT_VALIDITY).getBytes(StandardCharsets.US_ASCII);
        }
        CertAndKey issued = pki.issueClientCert(cn, orgs, NODE_CERT_VALIDITY);
        return (issued.certificatePem() + issued.privateKeyPem()).getBytes(StandardCharsets.US_ASCII);
    }

    private byte[] servingCert(ApiRequest req) {
        String node = nodeName(req);
        passwords.verifyOrSet(node, nodePassword(req));
        LinkedHashSet<String> sans = new LinkedHashSet<>();
        sans.add(node);
        sans.add("localhost");
        sans.add("127.0.0.1");
        String ips = req.header("k3s-Node-IP");
        if (ips != null) {
            for (String ip : ips.split(",")) {
                String t = ip.strip();
                if (!t.isEmpty()) sans.add(t);
            }
        }
        List<String> names = new ArrayList<>(sans);
        try {
            if (req.method().equals("POST")) {
                PublicKey key = CertificateRequests.publicKey(req.body());
                return pki.signServingCert(node, names, key, NODE_CERT_VALIDITY).getBytes(StandardCharsets.US_ASCII);
            }
            CertAndKey issued = pki.issueServingCert(node, names, NODE_CERT_VALIDITY);
            return (issued.certificatePem() + issued.privateKeyPem()).getBytes(StandardCharsets.US_ASCII);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid k3s-Node-IP header \"" + ips + "\": " + e.getMessage());
        }
    }

    private static String nodeName(ApiRequest req) {
        String node = req.header("k3s-Node-Name");
        if (node == null || node.isEmpty()) throw ApiException.badRequest("header k3s-Node-Name is required");
        if (node.length() > 253 || !NODE_NAME.matcher(node).matches()) {
            throw ApiException.badRequest("invalid node name \"" + node
                    + "\": must be a lowercase RFC 1123 subdomain (e.g. 'node-1' or 'rack1.site')");
        }
        return node;
    }

    private static String nodePassword(ApiRequest req) {
        String p = req.header("k3s-Node-Password");
        if (p == null || p.isEmpty()) throw ApiException.badRequest("header k3s-Node-Password is required");
        return p;
    }

    private static void requireMethod(ApiRequest req, String... allowed) {
        for (String m : allowed) {
            if (m.equals(req.method())) return;
        }
        throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
    }
}
