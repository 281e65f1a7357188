package io.k3j.apiserver.auth.serviceaccount;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.auth.Authenticator;
import io.k3j.apiserver.auth.Credentials;
import io.k3j.apiserver.auth.UserInfo;
import io.k3j.apiserver.registry.Meta;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The bodies of the authentication.k8s.io endpoints that are computed, never stored: TokenRequest (the
 * {@code serviceaccounts/token} subresource), TokenReview and SelfSubjectReview. The HTTP layer decodes the request
 * body, authorizes, and sends what these return with 201 Created.
 */
public final class AuthenticationEndpoints {
    private static final String GROUP = "authentication.k8s.io";
    private static final String API_VERSION = GROUP + "/v1";

    private final ServiceAccountTokens tokens;
    private final Authenticator others;

    /**
     * @param tokens the service-account token issuer and checker
     * @param others the API server's whole authenticator, which TokenReview consults for bearer tokens that are not
     *               service-account tokens (static tokens, the join token), as kube-apiserver's TokenReview does
     */
    public AuthenticationEndpoints(ServiceAccountTokens tokens, Authenticator others) {
        this.tokens = requireNonNull(tokens, "tokens");
        this.others = requireNonNull(others, "others");
    }

    public ServiceAccountTokens tokens() {
        return tokens;
    }

    /**
     * POST {@code /api/v1/namespaces/NS/serviceaccounts/NAME/token}: a TokenRequest answered with its status.
     *
     * @throws ApiException as {@link ServiceAccountTokens#issue}; 400 for a body that isn't a TokenRequest; 422 if
     *                      the body's name or namespace differ from the URL's
     */
    public ObjectNode tokenRequest(String namespace, String name, ObjectNode body) {
        checkKind(body, "TokenRequest");
        ObjectNode meta = Json.obj(body, "metadata");
        String bodyName = Json.text(meta, "name");
        if (!bodyName.isEmpty() && !bodyName.equals(name)) {
            throw ApiException.invalid(GROUP, "TokenRequest", name, List.of(ApiException.Cause.invalid("metadata.name",
                    bodyName, "must match the service account name if specified")));
        }
        String bodyNamespace = Json.text(meta, "namespace");
        if (!bodyNamespace.isEmpty() && !bodyNamespace.equals(namespace)) {
            throw ApiException.invalid(GROUP, "TokenRequest", name, List.of(ApiException.Cause.invalid("metadata.namespace",
                    bodyNamespace, "must match the service account namespace if specified")));
        }
        JsonNode spec = body.path("spec");
        JsonNode exp = spec.get("expirationSeconds");
        long seconds = exp == null || exp.isNull() ? ServiceAccountTokens.DEFAULT_EXPIRATION_SECONDS : integer(exp, "spec.expirationSeconds");
        ServiceAccountTokens.BoundObject bound = null;
        JsonNode ref = spec.get("boundObjectRef");
        if (ref != null && ref.isObject()) {
            String apiVersion = Json.text(ref, "apiVersion");
            String kind = Json.text(ref, "kind");
            // only core/v1 kinds can be bound: anything else is "cannot bind token to object of type <group/version, Kind=...>"
            if (!apiVersion.isEmpty() && !apiVersion.equals("v1")) {
                int slash = apiVersion.indexOf('/');
                String group = slash < 0 ? "" : apiVersion.substring(0, slash);
                String version = slash < 0 ? apiVersion : apiVersion.substring(slash + 1);
                throw ApiException.badRequest("cannot bind token to object of type " + group + "/" + version + ", Kind=" + kind);
            }
            bound = new ServiceAccountTokens.BoundObject(kind, Json.text(ref, "name"), Json.text(ref, "uid"));
        }
        List<String> audiences = strings(spec.get("audiences"));
        ServiceAccountTokens.IssuedToken issued = tokens.issue(
                new ServiceAccountTokens.TokenRequest(namespace, name, audiences, seconds, bound));

        ObjectNode out = Json.object();
        out.put("kind", "TokenRequest");
        out.put("apiVersion", API_VERSION);
        ObjectNode outMeta = meta.deepCopy();
        outMeta.put("name", name);
        outMeta.put("namespace", namespace);
        outMeta.put("creationTimestamp", Meta.timestamp(issued.issuedAt()));
        out.set("metadata", outMeta);
        ObjectNode outSpec = out.putObject("spec");
        ArrayNode aud = outSpec.putArray("audiences");
        issued.audiences().forEach(aud::add);
        outSpec.put("expirationSeconds", seconds);
        if (ref != null && ref.isObject()) outSpec.set("boundObjectRef", ref.deepCopy());
        else outSpec.putNull("boundObjectRef");
        ObjectNode status = out.putObject("status");
        status.put("token", issued.token());
        status.put("expirationTimestamp", Meta.timestamp(issued.expirationTimestamp()));
        return out;
    }

    /**
     * POST {@code /apis/authentication.k8s.io/v1/tokenreviews}: the review with its status filled in.
     *
     * @throws ApiException 400 when {@code spec.token} is empty or the body isn't a TokenReview
     */
    public ObjectNode tokenReview(ObjectNode body) {
        checkKind(body, "TokenReview");
        JsonNode spec = body.path("spec");
        String token = Json.text(spec, "token");
        if (token.isEmpty()) throw ApiException.badRequest("token is required for TokenReview in authentication");
        List<String> requested = strings(spec.get("audiences"));
        ServiceAccountTokens.Review review = tokens.review(token, requested);
        UserInfo user = review.user();
        List<String> audiences = review.audiences();
        String error = review.error() == null ? null : "[invalid bearer token, " + review.error() + "]";
        if (!review.recognized()) {
            // another kind of bearer token: those are valid for the API server's own audiences only
            List<String> wanted = requested.isEmpty() ? tokens.apiAudiences() : requested;
            List<String> accepted = tokens.apiAudiences().stream().filter(wanted::contains).toList();
            Optional<UserInfo> other = accepted.isEmpty() ? Optional.empty() : others.authenticate(Credentials.bearer(token));
            user = other.orElse(null);
            audiences = user == null ? List.of() : accepted;
            error = user == null ? "invalid bearer token" : null;
        }
        ObjectNode out = body.deepCopy();
        out.put("kind", "TokenReview");
        out.put("apiVersion", API_VERSION);
        Json.obj(out, "metadata").putNull("creationTimestamp");
        ObjectNode status = out.putObject("status");
        status.put("authenticated", user != null);
        if (user != null) {
            status.set("user", userInfo(user));
            ArrayNode aud = status.putArray("audiences");
            audiences.forEach(aud::add);
        } else {
            status.putObject("user");
        }
        if (error != null) status.put("error", error);
        return out;
    }

    /**
     * POST {@code /apis/authentication.k8s.io/v1/selfsubjectreviews} ({@code kubectl auth whoami}): who the caller
     * is, after impersonation.
     */
    public static ObjectNode selfSubjectReview(ObjectNode body, UserInfo user, Instant now) {
        checkKind(body, "SelfSubjectReview");
        ObjectNode out = Json.object();
        out.put("kind", "SelfSubjectReview");
        out.put("apiVersion", API_VERSION);
        ObjectNode meta = Json.obj(body, "metadata").deepCopy();
        meta.put("creationTimestamp", Meta.timestamp(now));
        out.set("metadata", meta);
        out.putObject("status").set("userInfo", userInfo(user));
        return out;
    }

    /** authentication.k8s.io/v1 UserInfo: empty fields are left out, as Go's omitempty does. */
    static ObjectNode userInfo(UserInfo user) {
        ObjectNode u = Json.object();
        u.put("username", user.name());
        if (!user.uid().isEmpty()) u.put("uid", user.uid());
        if (!user.groups().isEmpty()) {
            ArrayNode groups = u.putArray("groups");
            user.groups().forEach(groups::add);
        }
        if (!user.extra().isEmpty()) {
            ObjectNode extra = u.putObject("extra");
            for (Map.Entry<String, List<String>> e : user.extra().entrySet()) {
                ArrayNode values = extra.putArray(e.getKey());
                e.getValue().forEach(values::add);
            }
        }
        return u;
    }

    /** The body's kind, when given, must be the expected one (kube's decoder refuses other kinds). */
    private static void checkKind(ObjectNode body, String kind) {
        String k = Json.text(body, "kind");
        String v = Json.text(body, "apiVersion");
        if (!k.isEmpty() && !k.equals(kind)) {
            throw ApiException.badRequest("the body of the request was in an unknown format - kind " + k + " is not " + kind);
        }
        if (!v.isEmpty() && !v.startsWith(GROUP + "/")) {
            throw ApiException.badRequest("the API version in the data (" + v + ") does not match the expected API version ("
                    + API_VERSION + ")");
        }
    }

    private static long integer(JsonNode n, String field) {
        if (!n.canConvertToLong() || !n.isIntegralNumber()) {
            throw ApiException.badRequest("TokenRequest in version \"v1\" cannot be handled as a TokenRequest: " + field
                    + " must be an integer");
        }
        return n.asLong();
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n != null && n.isArray()) n.forEach(e -> out.add(e.asText()));
        return out;
    }
}
