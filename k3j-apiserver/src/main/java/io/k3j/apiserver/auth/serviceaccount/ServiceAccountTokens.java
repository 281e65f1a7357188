package io.k3j.apiserver.auth.serviceaccount;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.auth.Authenticator;
import io.k3j.apiserver.auth.UserInfo;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Bound service-account tokens (KEP-1205): JWTs signed with the cluster's service-account key, carrying
 * kube-apiserver's claims, and checked the way kube-apiserver checks them: signature, issuer, time, audience, and
 * that the service account and the pod, secret or node the token is bound to still exist with the same UID.
 *
 * <p>This is what serves {@code serviceaccounts/token} (TokenRequest) and TokenReview, and what authenticates
 * {@code Authorization: Bearer} requests made with such a token ({@link #authenticator()}). In-process callers
 * mint tokens with {@link #issue(TokenRequest)}; components that run as API clients (the node agent) post a
 * TokenRequest to {@code /api/v1/namespaces/NS/serviceaccounts/NAME/token} instead.
 *
 * <p>Thread-safe; does no I/O beyond reading objects from the watch cache.
 */
public final class ServiceAccountTokens {
    private static final System.Logger LOG = System.getLogger(ServiceAccountTokens.class.getName());

    /** kube-apiserver's default TokenRequest duration. */
    public static final long DEFAULT_EXPIRATION_SECONDS = 3600;
    /** The shortest duration a TokenRequest may ask for. */
    public static final long MIN_EXPIRATION_SECONDS = 600;
    /** The longest duration a TokenRequest may ask for (kube's validation bound). */
    public static final long MAX_EXPIRATION_SECONDS = 1L << 32;
    /**
     * The duration kubelets ask for projected tokens. A pod-bound token asked for this long is issued for a year with
     * a {@code warnafter} claim at the asked expiry, so that clients that never re-read the token file keep working
     * (kube-apiserver's {@code --service-account-extend-token-expiration}, on by default).
     */
    public static final long WARN_ONLY_EXPIRATION_SECONDS = 3607;
    static final long EXTENDED_EXPIRATION_SECONDS = 365L * 24 * 3600;
    /** Clock skew tolerated on exp/nbf/iat and on deletions, as go-jose's DefaultLeeway. */
    static final Duration LEEWAY = Duration.ofMinutes(1);

    /** Every service account is in this group, and in {@value #GROUP_PREFIX}NAMESPACE. */
    public static final String ALL_SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts";
    static final String GROUP_PREFIX = "system:serviceaccounts:";
    static final String USER_PREFIX = "system:serviceaccount:";
    public static final String POD_NAME_KEY = "authentication.kubernetes.io/pod-name";
    public static final String POD_UID_KEY = "authentication.kubernetes.io/pod-uid";
    public static final String NODE_NAME_KEY = "authentication.kubernetes.io/node-name";
    public static final String NODE_UID_KEY = "authentication.kubernetes.io/node-uid";
    public static final String CREDENTIAL_ID_KEY = "authentication.kubernetes.io/credential-id";

    private final KeyPair keys;
    private final String alg;
    private final String kid;
    private final String issuer;
    private final List<String> apiAudiences;
    private final ObjectStore objects;
    private final Clock clock;
    private final ResourceType serviceAccounts;
    private final ResourceType pods;
    private final ResourceType secrets;
    private final ResourceType nodes;

    private ServiceAccountTokens(KeyPair keys, String issuer, List<String> apiAudiences, ObjectStore objects,
                                 ResourceRegistry registry, Clock clock) {
        this.keys = keys;
        this.alg = Jwt.algorithm(keys.getPublic());
        this.kid = Jwt.keyId(keys.getPublic());
        this.issuer = issuer;
        this.apiAudiences = List.copyOf(apiAudiences);
        this.objects = objects;
        this.clock = clock;
        this.serviceAccounts = registry.find("", "v1", "serviceaccounts").orElseThrow();
        this.pods = registry.find("", "v1", "pods").orElseThrow();
        this.secrets = registry.find("", "v1", "secrets").orElseThrow();
        this.nodes = registry.find("", "v1", "nodes").orElseThrow();
    }

    /**
     * @param keys         the signing key pair ({@code ClusterPki.serviceAccountKeyPair()}): RSA (RS256) or EC P-256
     *                     (ES256)
     * @param issuer       the {@code iss} of issued tokens, and the only one accepted, e.g.
     *                     {@link #issuerFor(String) issuerFor("cluster.local")}
     * @param apiAudiences the API server's own audiences: the default audience of a TokenRequest and the audience a
     *                     bearer token must have to be accepted by the API server
     * @throws IllegalArgumentException if the key is neither RSA nor P-256, or {@code apiAudiences} is empty
     */
    public static ServiceAccountTokens create(KeyPair keys, String issuer, List<String> apiAudiences, ObjectStore objects,
                                              ResourceRegistry registry, Clock clock) {
        requireNonNull(keys, "keys");
        requireNonNull(issuer, "issuer");
        requireNonNull(apiAudiences, "apiAudiences");
        requireNonNull(objects, "objects");
        requireNonNull(registry, "registry");
        requireNonNull(clock, "clock");
        if (issuer.isEmpty()) throw new IllegalArgumentException("issuer : \"\" (expected: a URL)");
        if (apiAudiences.isEmpty()) throw new IllegalArgumentException("apiAudiences : [] (expected: at least one)");
        return new ServiceAccountTokens(keys, issuer, apiAudiences, objects, registry, clock);
    }

    /** k3s's default issuer (and so audience): {@code https://kubernetes.default.svc.<cluster domain>}. */
    public static String issuerFor(String clusterDomain) {
        return "https://kubernetes.default.svc." + requireNonNull(clusterDomain, "clusterDomain");
    }

    public String issuer() {
        return issuer;
    }

    public List<String> apiAudiences() {
        return apiAudiences;
    }

    /** The {@code kid} header of issued tokens. */
    public String keyId() {
        return kid;
    }

    // ---------------------------------------------------------------------------------------------- issuing

    /**
     * The object a token is bound to: the token is valid only while that object exists with that UID.
     *
     * @param kind Pod, Secret or Node (core/v1)
     * @param uid  expected UID, or empty to take the current one
     */
    public record BoundObject(String kind, String name, String uid) {
        public BoundObject {
            requireNonNull(kind, "kind");
            requireNonNull(name, "name");
            uid = uid == null ? "" : uid;
        }

        public static BoundObject pod(String name, String uid) {
            return new BoundObject("Pod", name, uid);
        }
    }

    /**
     * What a TokenRequest asks for.
     *
     * @param audiences         empty for {@link #apiAudiences()}
     * @param expirationSeconds 600 .. 2^32
     * @param boundObject       null for a token bound to the service account only
     */
    public record TokenRequest(String namespace, String serviceAccount, List<String> audiences, long expirationSeconds,
                               BoundObject boundObject) {
        public TokenRequest {
            requireNonNull(namespace, "namespace");
            requireNonNull(serviceAccount, "serviceAccount");
            audiences = audiences == null ? List.of() : List.copyOf(audiences);
        }

        /** A token for a pod's projected volume, as the kubelet asks for it. */
        public static TokenRequest forPod(String namespace, String serviceAccount, String podName, String podUid,
                                          List<String> audiences, long expirationSeconds) {
            return new TokenRequest(namespace, serviceAccount, audiences, expirationSeconds, BoundObject.pod(podName, podUid));
        }
    }

    /**
     * An issued token.
     *
     * @param expirationTimestamp when the requested duration ends (what TokenRequest's status reports; the token's
     *                            own {@code exp} is later for an extended kubelet token)
     * @param audiences           the audiences it was issued for
     */
    public record IssuedToken(String token, Instant expirationTimestamp, Instant issuedAt, List<String> audiences, String jti) {
    }

    /**
     * Mints a token as kube-apiserver's TokenRequest does.
     *
     * @throws ApiException 422 if the duration is out of range; 404 if the service account or the bound object does
     *                      not exist; 400 if a pod runs as another service account or the bound kind is not Pod,
     *                      Secret or Node; 409 if the bound object's UID differs from the one given
     */
    public IssuedToken issue(TokenRequest request) {
        requireNonNull(request, "request");
        ObjectNode sa = objects.find(serviceAccounts, request.namespace(), request.serviceAccount())
                .orElseThrow(() -> ApiException.notFound("", "serviceaccounts", request.serviceAccount()));
        long seconds = request.expirationSeconds();
        List<ApiException.Cause> causes = new ArrayList<>();
        if (seconds < MIN_EXPIRATION_SECONDS) {
            causes.add(ApiException.Cause.invalid("spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes"));
        }
        if (seconds > MAX_EXPIRATION_SECONDS) {
            causes.add(ApiException.Cause.invalid("spec.expirationSeconds", seconds, "may not specify a duration larger than 2^32 seconds"));
        }
        if (!causes.isEmpty()) throw ApiException.invalid("authentication.k8s.io", "TokenRequest", "", causes);
        List<String> audiences = request.audiences().isEmpty() ? apiAudiences : request.audiences();

        ObjectNode pod = null;
        ObjectNode secret = null;
        ObjectNode node = null;
        BoundObject bound = request.boundObject();
        if (bound != null) {
            ObjectNode target;
            switch (bound.kind()) {
                case "Pod" -> {
                    pod = objects.find(pods, request.namespace(), bound.name())
                            .orElseThrow(() -> ApiException.notFound("", "pods", bound.name()));
                    if (!request.serviceAccount().equals(serviceAccountOf(pod))) {
                        throw ApiException.badRequest("cannot bind token for serviceaccount \"" + request.serviceAccount()
                                + "\" to pod running with different serviceaccount name.");
                    }
                    String nodeName = Json.text(pod.path("spec"), "nodeName");
                    if (!nodeName.isEmpty()) node = objects.find(nodes, null, nodeName).orElse(null);
                    target = pod;
                }
                case "Secret" -> {
                    secret = objects.find(secrets, request.namespace(), bound.name())
                            .orElseThrow(() -> ApiException.notFound("", "secrets", bound.name()));
                    target = secret;
                }
                case "Node" -> {
                    node = objects.find(nodes, null, bound.name())
                            .orElseThrow(() -> ApiException.notFound("", "nodes", bound.name()));
                    target = node;
                }
                default -> throw ApiException.badRequest("cannot bind token to object of type " + bound.kind());
            }
            if (!bound.uid().isEmpty() && !bound.uid().equals(Meta.uid(target))) {
                throw ApiException.conflict("", bound.kind(), bound.name(), "the UID in the bound object reference ("
                        + bound.uid() + ") does not match the UID in record. The object might have been deleted and then recreated");
            }
        }

        Instant now = clock.instant();
        long exp = seconds;
        long warnAfter = 0;
        if (pod != null && seconds == WARN_ONLY_EXPIRATION_SECONDS && apiAudiences.containsAll(audiences)) {
            warnAfter = seconds;
            exp = EXTENDED_EXPIRATION_SECONDS;
        }
        String jti = UUID.randomUUID().toString();
        long iat = now.getEpochSecond();
        ObjectNode claims = Json.object();
        ArrayNode aud = claims.putArray("aud");
        audiences.forEach(aud::add);
        claims.put("exp", iat + exp);
        claims.put("iat", iat);
        claims.put("iss", issuer);
        claims.put("jti", jti);
        ObjectNode k8s = claims.putObject("kubernetes.io");
        k8s.put("namespace", request.namespace());
        ref(k8s, "serviceaccount", sa);
        if (pod != null) ref(k8s, "pod", pod);
        if (secret != null) ref(k8s, "secret", secret);
        if (node != null) ref(k8s, "node", node);
        if (warnAfter > 0) k8s.put("warnafter", iat + warnAfter);
        claims.put("nbf", iat);
        claims.put("sub", USER_PREFIX + request.namespace() + ":" + request.serviceAccount());
        ObjectNode header = Json.object().put("alg", alg).put("kid", kid);
        String token = Jwt.sign(header, claims, keys.getPrivate(), alg);
        return new IssuedToken(token, now.plusSeconds(seconds), now, audiences, jti);
    }

    private static String serviceAccountOf(ObjectNode pod) {
        String name = Json.text(pod.path("spec"), "serviceAccountName");
        return name.isEmpty() ? "default" : name;
    }

    private static void ref(ObjectNode k8s, String field, ObjectNode obj) {
        k8s.putObject(field).put("name", Meta.name(obj)).put("uid", Meta.uid(obj));
    }

    // ---------------------------------------------------------------------------------------------- checking

    /**
     * The outcome of checking a token.
     *
     * @param recognized whether the token is a JWT from this issuer at all (when not, other authenticators may know it)
     * @param user       the service account's identity when authenticated, else null
     * @param audiences  the audiences the token was accepted for
     * @param error      why a recognized token was rejected, in kube-apiserver's words; else null
     */
    public record Review(boolean recognized, UserInfo user, List<String> audiences, String error) {
        public boolean authenticated() {
            return user != null;
        }

        static Review notMine() {
            return new Review(false, null, List.of(), null);
        }

        static Review rejected(String error) {
            return new Review(true, null, List.of(), error);
        }
    }

    /**
     * Checks a token as TokenReview does, reading the bound objects consistently.
     *
     * @param audiences the audiences the caller identifies as; empty for {@link #apiAudiences()}
     */
    public Review review(String token, List<String> audiences) {
        return check(token, audiences, objects::find);
    }

    /** Authenticates bearer tokens issued here for the API server's audiences, as the service account. */
    public Authenticator authenticator() {
        return credentials -> {
            if (credentials.bearerToken() == null) return Optional.empty();
            // the watch cache as it is, without a consistent read per request (kube reads informers here too)
            Review r = check(credentials.bearerToken(), apiAudiences, this::cached);
            if (r.recognized() && !r.authenticated()) {
                LOG.log(System.Logger.Level.DEBUG, "service-account token rejected: {0}", r.error());
            }
            return Optional.ofNullable(r.user());
        };
    }

    @FunctionalInterface
    private interface Lookup {
        Optional<ObjectNode> find(ResourceType type, String namespace, String name);
    }

    private Optional<ObjectNode> cached(ResourceType type, String namespace, String name) {
        var o = objects.cache().cache(type.storagePrefix()).get(type.key(namespace, name));
        return o == null ? Optional.empty() : Optional.of(o.object());
    }

    private Review check(String token, List<String> requested, Lookup lookup) {
        Jwt.Parsed jwt = Jwt.parse(token);
        // kube-apiserver looks at the issuer before anything else: another issuer's JWT is someone else's to judge
        if (jwt == null || !issuer.equals(Json.text(jwt.claims(), "iss"))) return Review.notMine();
        if (!Jwt.verify(jwt, keys.getPublic())) return Review.rejected("go-jose/go-jose: error in cryptographic primitive");
        ObjectNode claims = jwt.claims();

        List<String> tokenAudiences = strings(claims.get("aud"));
        if (tokenAudiences.isEmpty()) tokenAudiences = apiAudiences;
        List<String> wanted = requested == null || requested.isEmpty() ? apiAudiences : requested;
        List<String> accepted = tokenAudiences.stream().filter(wanted::contains).distinct().toList();
        if (accepted.isEmpty()) {
            return Review.rejected("token audiences " + goQuoted(tokenAudiences) + " is invalid for the target audiences "
                    + goQuoted(wanted));
        }

        Instant now = clock.instant();
        long leeway = LEEWAY.toSeconds();
        JsonNode exp = claims.get("exp");
        JsonNode nbf = claims.get("nbf");
        JsonNode iat = claims.get("iat");
        if (exp != null && !exp.canConvertToLong() || nbf != null && !nbf.canConvertToLong() || iat != null && !iat.canConvertToLong()) {
            return Review.rejected("service account token could not be validated");
        }
        if (exp != null && now.getEpochSecond() - leeway >= exp.asLong()) return Review.rejected("service account token has expired");
        if (nbf != null && now.getEpochSecond() + leeway < nbf.asLong()) return Review.rejected("service account token is not valid yet");
        if (iat != null && now.getEpochSecond() + leeway < iat.asLong()) return Review.rejected("service account token is not valid yet");

        JsonNode k8s = claims.path("kubernetes.io");
        String namespace = Json.text(k8s, "namespace");
        String saName = Json.text(k8s.path("serviceaccount"), "name");
        String saUid = Json.text(k8s.path("serviceaccount"), "uid");
        if (namespace.isEmpty() || saName.isEmpty()) return Review.rejected("service account token could not be validated");
        Instant deletedBefore = now.minus(LEEWAY);

        Optional<ObjectNode> sa = lookup.find(serviceAccounts, namespace, saName);
        if (sa.isEmpty()) return Review.rejected("serviceaccounts \"" + saName + "\" not found");
        if (deletedBefore(sa.get(), deletedBefore)) return Review.rejected("service account " + namespace + "/" + saName + " has been deleted");
        if (!Meta.uid(sa.get()).equals(saUid)) {
            return Review.rejected("service account UID (" + Meta.uid(sa.get()) + ") does not match claim (" + saUid + ")");
        }
        JsonNode secretRef = k8s.get("secret");
        if (secretRef != null && secretRef.isObject()) {
            String error = checkBound(lookup, secrets, "secret", namespace, secretRef, deletedBefore);
            if (error != null) return Review.rejected(error);
        }
        Map<String, List<String>> extra = new LinkedHashMap<>();
        JsonNode podRef = k8s.get("pod");
        if (podRef != null && podRef.isObject()) {
            String error = checkBound(lookup, pods, "pod", namespace, podRef, deletedBefore);
            if (error != null) return Review.rejected(error);
            extra.put(POD_NAME_KEY, List.of(Json.text(podRef, "name")));
            extra.put(POD_UID_KEY, List.of(Json.text(podRef, "uid")));
        }
        JsonNode nodeRef = k8s.get("node");
        if (nodeRef != null && nodeRef.isObject()) {
            // a pod-bound token only reports its pod's node; a node-bound one stands or falls with the node
            if (podRef == null || !podRef.isObject()) {
                String error = checkBound(lookup, nodes, "node", null, nodeRef, deletedBefore);
                if (error != null) return Review.rejected(error);
            }
            extra.put(NODE_NAME_KEY, List.of(Json.text(nodeRef, "name")));
            extra.put(NODE_UID_KEY, List.of(Json.text(nodeRef, "uid")));
        }
        String jti = Json.text(claims, "jti");
        if (!jti.isEmpty()) extra.put(CREDENTIAL_ID_KEY, List.of("JTI=" + jti));
        UserInfo user = new UserInfo(USER_PREFIX + namespace + ":" + saName, saUid,
                List.of(ALL_SERVICE_ACCOUNTS_GROUP, GROUP_PREFIX + namespace, UserInfo.ALL_AUTHENTICATED), extra);
        return new Review(true, user, accepted, null);
    }

    /** kube-apiserver's messages for a bound object that is gone, going or replaced; null when it is fine. */
    private static String checkBound(Lookup lookup, ResourceType type, String what, String namespace, JsonNode ref,
                                     Instant deletedBefore) {
        String name = Json.text(ref, "name");
        String uid = Json.text(ref, "uid");
        Optional<ObjectNode> obj = lookup.find(type, namespace, name);
        if (obj.isEmpty()) return type.plural() + " \"" + name + "\" not found";
        if (deletedBefore(obj.get(), deletedBefore)) {
            return what + " " + (namespace == null ? "" : namespace + "/") + name + " has been deleted";
        }
        String actual = Meta.uid(obj.get());
        if (!actual.equals(uid)) {
            return what + " UID (" + actual + ") does not match " + (what.equals("node") ? "service account node ref claim"
                    : "service account " + what + " ref claim") + " (" + uid + ")";
        }
        return null;
    }

    private static boolean deletedBefore(ObjectNode obj, Instant limit) {
        String ts = Json.text(obj.path("metadata"), "deletionTimestamp");
        if (ts.isEmpty()) return false;
        try {
            return Instant.parse(ts).isBefore(limit);
        } catch (java.time.format.DateTimeParseException e) {
            return true;
        }
    }

    /** {@code aud} is a string or an array of strings (RFC 7519 §4.1.3). */
    private static List<String> strings(JsonNode n) {
        if (n == null || n.isNull()) return List.of();
        if (n.isTextual()) return List.of(n.asText());
        List<String> out = new ArrayList<>();
        if (n.isArray()) n.forEach(e -> { if (e.isTextual()) out.add(e.asText()); });
        return out;
    }

    /** Go's {@code %q} of a string slice: {@code ["a" "b"]}. */
    static String goQuoted(List<String> values) {
        StringBuilder sb = new StringBuilder("[");
        for (String v : values) {
            if (sb.length() > 1) sb.append(' ');
            sb.append('"').append(v.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return sb.append(']').toString();
    }
}
