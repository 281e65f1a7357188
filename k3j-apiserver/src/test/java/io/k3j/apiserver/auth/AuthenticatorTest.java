package io.k3j.apiserver.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.apiserver.pki.CertAndKey;
import io.k3j.apiserver.pki.ClusterPki;
import io.k3j.apiserver.pki.PkiOptions;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthenticatorTest {

    private static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    @TempDir
    static Path dataDir;
    @TempDir
    static Path otherDir;

    private static ClusterPki pki;
    private static ClusterPki foreign;

    @BeforeAll
    static void pki() throws Exception {
        pki = ClusterPki.loadOrCreate(dataDir, PkiOptions.defaults().withClock(CLOCK));
        foreign = ClusterPki.loadOrCreate(otherDir, PkiOptions.defaults().withClock(CLOCK));
    }

    private static X509Certificate[] chain(CertAndKey c) throws Exception {
        return CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(c.certificatePem().getBytes(StandardCharsets.US_ASCII)))
                .stream().map(X509Certificate.class::cast).toArray(X509Certificate[]::new);
    }

    @Nested
    class ClientCertificates {

        private final Authenticator authn =
                Authenticator.clientCertificates(List.of(pki.clientCaCertificate()), CLOCK);

        @Test
        @DisplayName("user is the CN, groups the O values plus system:authenticated")
        void admin() throws Exception {
            assertThat(authn.authenticate(Credentials.certificates(chain(pki.adminCredentials()))))
                    .contains(new UserInfo("system:admin", "", List.of("system:masters", "system:authenticated")));
        }

        @Test
        @DisplayName("a leaf sent without its CA verifies too; several O values keep their order")
        void leafOnly() throws Exception {
            X509Certificate[] full = chain(pki.issueClientCert("jane", List.of("dev", "ops"), Duration.ofDays(1)));
            assertThat(authn.authenticate(Credentials.certificates(full[0])))
                    .contains(new UserInfo("jane", "", List.of("dev", "ops", "system:authenticated")));
        }

        @Test
        @DisplayName("certificates of another CA, expired ones and server-only ones authenticate nobody")
        void rejected() throws Exception {
            assertThat(authn.authenticate(Credentials.certificates(chain(foreign.adminCredentials())))).isEmpty();

            X509Certificate[] shortLived = chain(pki.issueClientCert("temp", List.of(), Duration.ofHours(1)));
            Authenticator later = Authenticator.clientCertificates(List.of(pki.clientCaCertificate()),
                    Clock.offset(CLOCK, Duration.ofHours(2)));
            assertThat(authn.authenticate(Credentials.certificates(shortLived))).isPresent();
            assertThat(later.authenticate(Credentials.certificates(shortLived))).isEmpty();

            // A serving certificate verifies against the server CA but lacks the clientAuth usage.
            Authenticator serverCaTrust = Authenticator.clientCertificates(List.of(pki.serverCaCertificate()), CLOCK);
            X509Certificate[] serving = chain(pki.issueServingCert("node-1", List.of("node-1"), Duration.ofDays(1)));
            assertThat(serverCaTrust.authenticate(Credentials.certificates(serving))).isEmpty();

            assertThat(authn.authenticate(Credentials.none())).isEmpty();
            assertThat(authn.authenticate(Credentials.certificates())).isEmpty();
        }
    }

    @Nested
    class TokenFile {

        @TempDir
        Path dir;

        @Test
        @DisplayName("reads kube-apiserver's --token-auth-file CSV")
        void csv() throws Exception {
            Path file = dir.resolve("tokens.csv");
            Files.writeString(file, "t1,alice,uid-1,\"dev,ops\"\r\n"
                    + "\n"
                    + "t2,bob,uid-2\n"
                    + ",nobody,uid-0\n"
                    + "t3,\"carol \"\"c\"\"\",uid-3,admins\n"
                    + "t2,bobby,uid-22,\"a,b,c\"\n");
            Authenticator authn = Authenticator.tokenFile(file);
            assertThat(authn.authenticate(Credentials.bearer("t1")))
                    .contains(new UserInfo("alice", "uid-1", List.of("dev", "ops", "system:authenticated")));
            assertThat(authn.authenticate(Credentials.bearer("t3")))
                    .contains(new UserInfo("carol \"c\"", "uid-3", List.of("admins", "system:authenticated")));
            // A later duplicate wins, as in kube-apiserver.
            assertThat(authn.authenticate(Credentials.bearer("t2")).map(UserInfo::name)).contains("bobby");
            assertThat(authn.authenticate(Credentials.bearer(""))).isEmpty();
            assertThat(authn.authenticate(Credentials.bearer("t4"))).isEmpty();
            assertThat(authn.authenticate(Credentials.basic("alice", "t1"))).isEmpty();
        }

        @Test
        @DisplayName("a record with fewer than 3 columns is kube-apiserver's error")
        void tooFewColumns() throws Exception {
            Path file = dir.resolve("tokens.csv");
            Files.writeString(file, "t1,alice,uid\nt2,bob\n");
            assertThatThrownBy(() -> Authenticator.tokenFile(file))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("token file '" + file + "' must have at least 3 columns (token, user name, user uid),"
                            + " found 2");
        }

        @Test
        @DisplayName("a stray quote is a parse error, as with Go's csv reader")
        void bareQuote() throws Exception {
            Path file = dir.resolve("tokens.csv");
            Files.writeString(file, "t1,al\"ice,uid\n");
            assertThatThrownBy(() -> Authenticator.tokenFile(file))
                    .hasMessageContaining("parse error on line 1: bare \" in non-quoted-field");
        }

        @Test
        @DisplayName("fixed tokens, e.g. a loopback token, get system:authenticated once")
        void fixed() {
            Authenticator authn = Authenticator.tokens(Map.of("loop",
                    new UserInfo("system:apiserver", "u", List.of("system:masters", "system:authenticated"))));
            assertThat(authn.authenticate(Credentials.bearer("loop")).orElseThrow().groups())
                    .containsExactly("system:masters", "system:authenticated");
        }
    }

    @Nested
    class JoinToken {

        private final Authenticator same = Authenticator.joinToken("s3cret", "s3cret");
        private final Authenticator split = Authenticator.joinToken("server-pw", "agent-pw");

        @Test
        @DisplayName("basic server:<password> and bearer <password> join as a server-capable joiner")
        void server() {
            UserInfo expected = new UserInfo(JoinTokenAuthenticator.JOINER_USER, "",
                    List.of("system:k3j:agents", "system:k3j:servers", "system:authenticated"));
            assertThat(same.authenticate(Credentials.basic("server", "s3cret"))).contains(expected);
            assertThat(same.authenticate(Credentials.bearer("s3cret"))).contains(expected);
            assertThat(split.authenticate(Credentials.bearer("server-pw"))).contains(expected);
        }

        @Test
        @DisplayName("basic node:<agent password> joins as an agent only")
        void agent() {
            UserInfo expected = new UserInfo("system:k3j:joiner", "",
                    List.of("system:k3j:agents", "system:authenticated"));
            assertThat(same.authenticate(Credentials.basic("node", "s3cret"))).contains(expected);
            assertThat(split.authenticate(Credentials.basic("node", "agent-pw"))).contains(expected);
            assertThat(split.authenticate(Credentials.bearer("agent-pw"))).contains(expected);
        }

        @Test
        @DisplayName("wrong passwords, users or crossing the two passwords authenticate nobody")
        void wrong() {
            assertThat(same.authenticate(Credentials.basic("server", "nope"))).isEmpty();
            assertThat(same.authenticate(Credentials.basic("admin", "s3cret"))).isEmpty();
            assertThat(split.authenticate(Credentials.basic("server", "agent-pw"))).isEmpty();
            assertThat(split.authenticate(Credentials.basic("node", "server-pw"))).isEmpty();
            assertThat(same.authenticate(Credentials.bearer("s3cret2"))).isEmpty();
            assertThat(same.authenticate(Credentials.none())).isEmpty();
        }
    }

    @Test
    @DisplayName("Authorization headers are read as kube-apiserver reads them")
    void headers() {
        assertThat(Credentials.fromAuthorizationHeader("Bearer abc", null).bearerToken()).isEqualTo("abc");
        assertThat(Credentials.fromAuthorizationHeader("  bearer abc  ", null).bearerToken()).isEqualTo("abc");
        assertThat(Credentials.fromAuthorizationHeader("Bearer", null).bearerToken()).isNull();
        assertThat(Credentials.fromAuthorizationHeader("Bearer  abc", null).bearerToken()).isNull();
        assertThat(Credentials.fromAuthorizationHeader("Token abc", null).bearerToken()).isNull();
        String basic = Base64.getEncoder().encodeToString("server:p:w".getBytes(StandardCharsets.UTF_8));
        Credentials b = Credentials.fromAuthorizationHeader("Basic " + basic, null);
        assertThat(b.basicUser()).isEqualTo("server");
        assertThat(b.basicPassword()).isEqualTo("p:w");
        assertThat(Credentials.fromAuthorizationHeader("Basic !!!", null).basicUser()).isNull();
        assertThat(Credentials.bearer("secret-token").toString()).doesNotContain("secret-token");
    }

    @Test
    @DisplayName("the union asks in order and the first that recognises the credentials wins")
    void union() throws Exception {
        Authenticator authn = Authenticator.union(
                Authenticator.clientCertificates(List.of(pki.clientCaCertificate()), CLOCK),
                Authenticator.tokens(Map.of("tok", new UserInfo("bob", "", List.of()))),
                Authenticator.joinToken("tok", "tok"));
        assertThat(authn.authenticate(Credentials.bearer("tok")).map(UserInfo::name)).contains("bob");
        Credentials both = new Credentials(chain(pki.adminCredentials()), "tok", null, null);
        assertThat(authn.authenticate(both).map(UserInfo::name)).contains("system:admin");
        assertThat(authn.authenticate(Credentials.bearer("other"))).isEqualTo(Optional.empty());
    }
}
