package io.k3j.apiserver.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.auth.serviceaccount.ServiceAccountTokens;
import io.k3j.apiserver.testing.TestServers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Service-account tokens on a real in-process server: TokenRequest, TokenReview, SelfSubjectReview and bearer
 * authentication, with kube-apiserver's claims and messages (pkg/registry/core/serviceaccount/storage/token.go,
 * pkg/serviceaccount/claims.go).
 */
class ServiceAccountTokenTest {
    private static final String ISSUER = "https://kubernetes.default.svc.cluster.local";
    @TempDir static Path dir;
    private static ControlPlane cp;
    private static HttpClient admin;
    private static HttpClient anonymous;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        cp = TestServers.start(dir);
        base = "https://127.0.0.1:" + cp.port();
        admin = HttpClient.newBuilder().sslContext(TestServers.tls(cp, cp.pki().adminCredentials())).build();
        anonymous = HttpClient.newBuilder().sslContext(TestServers.tls(cp, null)).build();
    }

    @AfterAll
    static void stop() {
        if (cp != null) cp.close();
    }

    record Answer(int code, String text) {
        JsonNode json() {
            return Json.parse(text.getBytes(StandardCharsets.UTF_8));
        }

        String message() {
            return json().path("message").asText();
        }
    }

    private static Answer call(HttpClient client, String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Accept", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        }
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body());
    }

    private static Answer bearer(String token, String method, String path, String body) throws Exception {
        return call(anonymous, method, path, body, "Authorization", "Bearer " + token);
    }

    private static Answer requestToken(String ns, String sa, String spec) throws Exception {
        return call(admin, "POST", "/api/v1/namespaces/" + ns + "/serviceaccounts/" + sa + "/token",
                "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\",\"spec\":" + spec + "}");
    }

    private static String token(String ns, String sa, String spec) throws Exception {
        Answer a = requestToken(ns, sa, spec);
        assertThat(a.code()).as(a.text()).isEqualTo(201);
        return a.json().at("/status/token").asText();
    }

    private static JsonNode review(String token, String... audiences) throws Exception {
        StringBuilder aud = new StringBuilder();
        for (String a : audiences) aud.append(aud.isEmpty() ? "" : ",").append('"').append(a).append('"');
        Answer a = call(admin, "POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\",\"spec\":{\"token\":\"" + token + "\""
                        + (audiences.length == 0 ? "" : ",\"audiences\":[" + aud + "]") + "}}");
        assertThat(a.code()).as(a.text()).isEqualTo(201);
        return a.json().get("status");
    }

    private static JsonNode part(String jwt, int i) {
        return Json.parse(Base64.getUrlDecoder().decode(jwt.split("\\.")[i]));
    }

    private static void createNamespace(String ns) throws Exception {
        assertThat(call(admin, "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + ns + "\"}}").code()).isEqualTo(201);
    }

    private static String createServiceAccount(String ns, String name) throws Exception {
        Answer a = call(admin, "POST", "/api/v1/namespaces/" + ns + "/serviceaccounts", "{\"metadata\":{\"name\":\"" + name + "\"}}");
        assertThat(a.code()).as(a.text()).isEqualTo(201);
        return a.json().at("/metadata/uid").asText();
    }

    private static String createPod(String ns, String name, String serviceAccount) throws Exception {
        Answer a = call(admin, "POST", "/api/v1/namespaces/" + ns + "/pods", """
                {"metadata":{"name":"%s"},"spec":{"serviceAccountName":"%s","containers":[{"name":"c","image":"busybox"}]}}
                """.formatted(name, serviceAccount));
        assertThat(a.code()).as(a.text()).isEqualTo(201);
        return a.json().at("/metadata/uid").asText();
    }

    @Test
    @DisplayName("a TokenRequest returns an ES256 JWT (a new service.key is P-256) with kube-apiserver's claims, signed by service.key and named by its key id")
    void tokenRequestRoundTrip() throws Exception {
        createNamespace("tr");
        String uid = createServiceAccount("tr", "robot");
        Instant before = Instant.now().minusSeconds(1);
        Answer a = requestToken("tr", "robot", "{}");
        assertThat(a.code()).as(a.text()).isEqualTo(201);
        JsonNode out = a.json();
        assertThat(out.path("kind").asText()).isEqualTo("TokenRequest");
        assertThat(out.at("/metadata/name").asText()).isEqualTo("robot");
        assertThat(out.at("/metadata/namespace").asText()).isEqualTo("tr");
        assertThat(out.at("/spec/audiences/0").asText()).isEqualTo(ISSUER);
        assertThat(out.at("/spec/expirationSeconds").asLong()).isEqualTo(3600);
        Instant expires = Instant.parse(out.at("/status/expirationTimestamp").asText());
        assertThat(expires).isBetween(before.plusSeconds(3600), Instant.now().plusSeconds(3601));

        String jwt = out.at("/status/token").asText();
        JsonNode header = part(jwt, 0);
        JsonNode claims = part(jwt, 1);
        byte[] der = cp.pki().serviceAccountKeyPair().getPublic().getEncoded();
        assertThat(header.path("alg").asText()).isEqualTo("ES256");
        assertThat(header.path("kid").asText()).isEqualTo(
                Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256").digest(der)));
        assertThat(claims.path("iss").asText()).isEqualTo(ISSUER);
        assertThat(claims.path("sub").asText()).isEqualTo("system:serviceaccount:tr:robot");
        assertThat(claims.path("aud").get(0).asText()).isEqualTo(ISSUER);
        assertThat(claims.path("exp").asLong() - claims.path("iat").asLong()).isEqualTo(3600);
        assertThat(claims.path("nbf").asLong()).isEqualTo(claims.path("iat").asLong());
        assertThat(claims.path("exp").asLong()).isEqualTo(expires.getEpochSecond());
        assertThat(claims.path("jti").asText()).hasSize(36);
        assertThat(claims.path("kubernetes.io").path("namespace").asText()).isEqualTo("tr");
        assertThat(claims.path("kubernetes.io").path("serviceaccount").path("name").asText()).isEqualTo("robot");
        assertThat(claims.path("kubernetes.io").path("serviceaccount").path("uid").asText()).isEqualTo(uid);
        assertThat(claims.path("kubernetes.io").has("pod")).isFalse();

        // the signature verifies with the public key alone
        int dot = jwt.lastIndexOf('.');
        // JWS carries ES256 signatures as r || s, 32 bytes each (RFC 7518 §3.4), not DER
        assertThat(Base64.getUrlDecoder().decode(jwt.substring(dot + 1))).hasSize(64);
        Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
        s.initVerify(cp.pki().serviceAccountKeyPair().getPublic());
        s.update(jwt.substring(0, dot).getBytes(StandardCharsets.US_ASCII));
        assertThat(s.verify(Base64.getUrlDecoder().decode(jwt.substring(dot + 1)))).isTrue();

        JsonNode status = review(jwt);
        assertThat(status.path("authenticated").asBoolean()).as(status.toString()).isTrue();
        assertThat(status.at("/user/username").asText()).isEqualTo("system:serviceaccount:tr:robot");
        assertThat(status.at("/user/uid").asText()).isEqualTo(uid);
        assertThat(Json.MAPPER.convertValue(status.at("/user/groups"), List.class))
                .containsExactly("system:serviceaccounts", "system:serviceaccounts:tr", "system:authenticated");
        assertThat(status.at("/user/extra/authentication.kubernetes.io~1credential-id/0").asText())
                .isEqualTo("JTI=" + claims.path("jti").asText());
        assertThat(status.at("/audiences/0").asText()).isEqualTo(ISSUER);
        assertThat(status.has("error")).isFalse();
    }

    @Test
    @DisplayName("an RSA service.key (a data dir from before keys were P-256) signs RS256 tokens that review as before")
    void rsaKeySignsRs256() throws Exception {
        createNamespace("rsa");
        String uid = createServiceAccount("rsa", "robot");
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        ServiceAccountTokens rsa = ServiceAccountTokens.create(g.generateKeyPair(), ISSUER, List.of(ISSUER), cp.objects(),
                cp.registry(), Clock.systemUTC());
        String jwt = rsa.issue(new ServiceAccountTokens.TokenRequest("rsa", "robot", List.of(), 600, null)).token();
        assertThat(part(jwt, 0).path("alg").asText()).isEqualTo("RS256");
        ServiceAccountTokens.Review r = rsa.review(jwt, List.of());
        assertThat(r.authenticated()).as(String.valueOf(r.error())).isTrue();
        assertThat(r.user().name()).isEqualTo("system:serviceaccount:rsa:robot");
        assertThat(r.user().uid()).isEqualTo(uid);
        // the server's own (P-256) key does not accept it: the algorithm follows the key, never the token
        assertThat(review(jwt).path("authenticated").asBoolean()).isFalse();
    }

    @Test
    @DisplayName("durations under 10 minutes or over 2^32 seconds are 422 Invalid; a missing service account is 404")
    void requestErrors() throws Exception {
        createNamespace("errs");
        createServiceAccount("errs", "robot");
        Answer shortOne = requestToken("errs", "robot", "{\"expirationSeconds\":300}");
        assertThat(shortOne.code()).isEqualTo(422);
        assertThat(shortOne.message()).isEqualTo("TokenRequest.authentication.k8s.io \"\" is invalid: "
                + "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes");
        Answer longOne = requestToken("errs", "robot", "{\"expirationSeconds\":4294967297}");
        assertThat(longOne.code()).isEqualTo(422);
        assertThat(longOne.message()).endsWith("may not specify a duration larger than 2^32 seconds");

        Answer ten = requestToken("errs", "robot", "{\"expirationSeconds\":600}");
        assertThat(ten.code()).isEqualTo(201);
        JsonNode claims = part(ten.json().at("/status/token").asText(), 1);
        assertThat(claims.path("exp").asLong() - claims.path("iat").asLong()).isEqualTo(600);

        Answer missing = requestToken("errs", "nobody", "{}");
        assertThat(missing.code()).isEqualTo(404);
        assertThat(missing.message()).isEqualTo("serviceaccounts \"nobody\" not found");

        Answer get = call(admin, "GET", "/api/v1/namespaces/errs/serviceaccounts/robot/token", null);
        assertThat(get.code()).isEqualTo(405);

        Answer otherKind = requestToken("errs", "robot",
                "{\"boundObjectRef\":{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\"}}");
        assertThat(otherKind.code()).isEqualTo(400);
        assertThat(otherKind.message()).isEqualTo("cannot bind token to object of type apps/v1, Kind=Deployment");
    }

    @Test
    @DisplayName("a pod-bound token names its pod, is refused for another service account's pod or a stale UID, and dies with the pod")
    void podBoundToken() throws Exception {
        createNamespace("bound");
        createServiceAccount("bound", "robot");
        String podUid = createPod("bound", "web", "robot");
        createPod("bound", "other", "default");

        Answer wrongSa = requestToken("bound", "robot", "{\"boundObjectRef\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"name\":\"other\"}}");
        assertThat(wrongSa.code()).isEqualTo(400);
        assertThat(wrongSa.message()).isEqualTo(
                "cannot bind token for serviceaccount \"robot\" to pod running with different serviceaccount name.");
        Answer staleUid = requestToken("bound", "robot",
                "{\"boundObjectRef\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"name\":\"web\",\"uid\":\"not-the-uid\"}}");
        assertThat(staleUid.code()).isEqualTo(409);
        Answer noPod = requestToken("bound", "robot", "{\"boundObjectRef\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"name\":\"gone\"}}");
        assertThat(noPod.code()).isEqualTo(404);
        assertThat(noPod.message()).isEqualTo("pods \"gone\" not found");

        String jwt = token("bound", "robot",
                "{\"audiences\":[\"vault\"],\"boundObjectRef\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"name\":\"web\",\"uid\":\"" + podUid + "\"}}");
        JsonNode k8s = part(jwt, 1).path("kubernetes.io");
        assertThat(k8s.path("pod").path("name").asText()).isEqualTo("web");
        assertThat(k8s.path("pod").path("uid").asText()).isEqualTo(podUid);

        JsonNode ok = review(jwt, "vault");
        assertThat(ok.path("authenticated").asBoolean()).as(ok.toString()).isTrue();
        assertThat(ok.at("/user/extra/authentication.kubernetes.io~1pod-name/0").asText()).isEqualTo("web");
        assertThat(ok.at("/user/extra/authentication.kubernetes.io~1pod-uid/0").asText()).isEqualTo(podUid);
        assertThat(ok.at("/audiences/0").asText()).isEqualTo("vault");

        assertThat(call(admin, "DELETE", "/api/v1/namespaces/bound/pods/web?gracePeriodSeconds=0", null).code()).isEqualTo(200);
        JsonNode gone = review(jwt, "vault");
        assertThat(gone.path("authenticated").asBoolean()).isFalse();
        assertThat(gone.path("error").asText()).isEqualTo("[invalid bearer token, pods \"web\" not found]");

        // a new pod of the same name is another pod
        createPod("bound", "web", "robot");
        JsonNode recreated = review(jwt, "vault");
        assertThat(recreated.path("authenticated").asBoolean()).isFalse();
        assertThat(recreated.path("error").asText()).startsWith("[invalid bearer token, pod UID (")
                .endsWith(") does not match service account pod ref claim (" + podUid + ")]");
    }

    @Test
    @DisplayName("TokenReview rejects expired, wrong-audience, forged and foreign tokens, and those of a re-created service account")
    void reviewRejections() throws Exception {
        createNamespace("rev");
        createServiceAccount("rev", "robot");
        ServiceAccountTokens.TokenRequest req = new ServiceAccountTokens.TokenRequest("rev", "robot", List.of(), 600, null);

        // issued 11 minutes ago for 10: expired beyond the minute of leeway
        Clock past = Clock.fixed(Instant.now().minus(Duration.ofMinutes(11)), ZoneOffset.UTC);
        String expired = ServiceAccountTokens.create(cp.pki().serviceAccountKeyPair(), ISSUER, List.of(ISSUER), cp.objects(),
                cp.registry(), past).issue(req).token();
        JsonNode e = review(expired);
        assertThat(e.path("authenticated").asBoolean()).isFalse();
        assertThat(e.path("error").asText()).isEqualTo("[invalid bearer token, service account token has expired]");
        assertThat(bearer(expired, "GET", "/api/v1/namespaces/rev/pods", null).code()).isEqualTo(401);

        // expired 30 seconds ago: within the leeway
        Clock recent = Clock.fixed(Instant.now().minusSeconds(630), ZoneOffset.UTC);
        String justExpired = ServiceAccountTokens.create(cp.pki().serviceAccountKeyPair(), ISSUER, List.of(ISSUER), cp.objects(),
                cp.registry(), recent).issue(req).token();
        assertThat(review(justExpired).path("authenticated").asBoolean()).isTrue();

        String vault = token("rev", "robot", "{\"audiences\":[\"vault\"]}");
        JsonNode wrongAud = review(vault);
        assertThat(wrongAud.path("authenticated").asBoolean()).isFalse();
        assertThat(wrongAud.path("error").asText()).isEqualTo("[invalid bearer token, token audiences [\"vault\"] is invalid "
                + "for the target audiences [\"" + ISSUER + "\"]]");
        assertThat(review(vault, "other", "vault").path("audiences").toString()).isEqualTo("[\"vault\"]");
        assertThat(bearer(vault, "GET", "/version", null).code()).as("not for the API server's audience").isEqualTo(401);

        String good = token("rev", "robot", "{}");
        String[] parts = good.split("\\.");
        JsonNode claims = part(good, 1);
        ((com.fasterxml.jackson.databind.node.ObjectNode) claims).put("sub", "system:serviceaccount:kube-system:admin");
        String forged = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(Json.bytes(claims)) + "." + parts[2];
        JsonNode f = review(forged);
        assertThat(f.path("authenticated").asBoolean()).isFalse();
        assertThat(f.path("error").asText()).isEqualTo("[invalid bearer token, go-jose/go-jose: error in cryptographic primitive]");

        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        String foreign = ServiceAccountTokens.create(g.generateKeyPair(), ISSUER, List.of(ISSUER), cp.objects(), cp.registry(),
                Clock.systemUTC()).issue(req).token();
        assertThat(review(foreign).path("authenticated").asBoolean()).isFalse();
        assertThat(bearer(foreign, "GET", "/version", null).code()).isEqualTo(401);

        JsonNode garbage = review("not-a-jwt");
        assertThat(garbage.path("authenticated").asBoolean()).isFalse();
        assertThat(garbage.path("error").asText()).isEqualTo("invalid bearer token");

        assertThat(call(admin, "DELETE", "/api/v1/namespaces/rev/serviceaccounts/robot", null).code()).isEqualTo(200);
        JsonNode deleted = review(good);
        assertThat(deleted.path("error").asText()).isEqualTo("[invalid bearer token, serviceaccounts \"robot\" not found]");
        String newUid = createServiceAccount("rev", "robot");
        JsonNode recreated = review(good);
        assertThat(recreated.path("authenticated").asBoolean()).isFalse();
        assertThat(recreated.path("error").asText()).startsWith("[invalid bearer token, service account UID (" + newUid + ") does not match claim (");

        Answer empty = call(admin, "POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\",\"spec\":{}}");
        assertThat(empty.code()).isEqualTo(400);
        assertThat(empty.message()).isEqualTo("token is required for TokenReview in authentication");
    }

    @Test
    @DisplayName("a bearer service-account token is the service account: 403 without bindings, 200 once a RoleBinding grants it")
    void bearerThenRbac() throws Exception {
        createNamespace("team");
        createServiceAccount("team", "robot");
        String jwt = token("team", "robot", "{}");

        Answer who = bearer(jwt, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}");
        assertThat(who.code()).as(who.text()).isEqualTo(201);
        assertThat(who.json().at("/status/userInfo/username").asText()).isEqualTo("system:serviceaccount:team:robot");
        assertThat(who.json().at("/status/userInfo/groups").toString())
                .isEqualTo("[\"system:serviceaccounts\",\"system:serviceaccounts:team\",\"system:authenticated\"]");

        Answer denied = bearer(jwt, "GET", "/api/v1/namespaces/team/pods", null);
        assertThat(denied.code()).isEqualTo(403);
        assertThat(denied.message()).isEqualTo("pods is forbidden: User \"system:serviceaccount:team:robot\" cannot list "
                + "resource \"pods\" in API group \"\" in the namespace \"team\"");
        // a service account may not review tokens unless granted (system:auth-delegator)
        assertThat(bearer(jwt, "POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{\"token\":\"x\"}}").code()).isEqualTo(403);

        Answer rb = call(admin, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings", """
                {"metadata":{"name":"robot-view"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
                 "subjects":[{"kind":"ServiceAccount","name":"robot","namespace":"team"}]}
                """);
        assertThat(rb.code()).as(rb.text()).isEqualTo(201);
        int code = 0;
        for (int i = 0; i < 50 && code != 200; i++) {
            code = bearer(jwt, "GET", "/api/v1/namespaces/team/pods", null).code();
            if (code != 200) Thread.sleep(100);
        }
        assertThat(code).isEqualTo(200);
        assertThat(bearer(jwt, "GET", "/api/v1/namespaces/default/pods", null).code()).as("other namespaces").isEqualTo(403);
    }

    @Test
    @DisplayName("TokenRequest can be minted in process through ControlPlane.serviceAccountTokens(), bound to a pod")
    void inProcessIssue() throws Exception {
        createNamespace("inproc");
        String podUid = createPod("inproc", "app", "default");
        // the namespace controller creates the default service account shortly after the namespace
        for (int i = 0; i < 50 && call(admin, "GET", "/api/v1/namespaces/inproc/serviceaccounts/default", null).code() != 200; i++) {
            Thread.sleep(100);
        }
        ServiceAccountTokens.IssuedToken t = cp.serviceAccountTokens().issue(ServiceAccountTokens.TokenRequest.forPod(
                "inproc", "default", "app", podUid, List.of(), ServiceAccountTokens.WARN_ONLY_EXPIRATION_SECONDS));
        JsonNode claims = part(t.token(), 1);
        // the kubelet's 3607 s is extended to a year with a warnafter at the asked expiry
        assertThat(claims.path("exp").asLong() - claims.path("iat").asLong()).isEqualTo(365L * 24 * 3600);
        assertThat(claims.path("kubernetes.io").path("warnafter").asLong()).isEqualTo(claims.path("iat").asLong() + 3607);
        assertThat(t.expirationTimestamp().getEpochSecond()).isEqualTo(claims.path("iat").asLong() + 3607);
        JsonNode who = bearer(t.token(), "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}").json();
        assertThat(who.at("/status/userInfo/extra/authentication.kubernetes.io~1pod-name/0").asText()).isEqualTo("app");
    }
}
