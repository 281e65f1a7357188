package io.k3j.apiserver.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JoinTokenTest {

    private static final String HASH = "bfc0fc1743a057067bfa5ea39a1be7ed7a8a94ab849b34e546ff9c68e6e125c8";

    @TempDir
    Path dataDir;

    @Test
    @DisplayName("parses the forms k3s accepts")
    void parse() {
        assertThat(JoinToken.parse("K10" + HASH + "::server:GmeSWrngc3dPNgC"))
                .isEqualTo(new JoinToken(Optional.of(HASH), "server", "GmeSWrngc3dPNgC"));
        // Without the K10 prefix the whole text is the password, colons included.
        assertThat(JoinToken.parse("server:secret")).isEqualTo(new JoinToken(Optional.empty(), "", "server:secret"));
        assertThat(JoinToken.parse("secret")).isEqualTo(new JoinToken(Optional.empty(), "", "secret"));
        assertThat(JoinToken.parse("K10::node:pw")).isEqualTo(new JoinToken(Optional.empty(), "node", "pw"));
        assertThat(JoinToken.parse("K10node:pw:with:colons"))
                .isEqualTo(new JoinToken(Optional.empty(), "node", "pw:with:colons"));
        assertThat(JoinToken.parse("K10" + HASH.toUpperCase() + "::server:x").caHash()).contains(HASH);
    }

    @Test
    @DisplayName("rejects malformed tokens with k3s's messages")
    void parseErrors() {
        assertThatThrownBy(() -> JoinToken.parse("")).hasMessage("token must not be empty");
        assertThatThrownBy(() -> JoinToken.parse("K10abc::server:x")).hasMessage("invalid token CA hash length");
        assertThatThrownBy(() -> JoinToken.parse("K10" + HASH + "::server:")).hasMessage("invalid token format");
        assertThatThrownBy(() -> JoinToken.parse("K10" + HASH + "::nocolon")).hasMessage("invalid token format");
    }

    @Test
    @DisplayName("the hash is the hex SHA-256 of the CA bundle bytes, checked with k3s's message")
    void hash() {
        // sha256("abc"), the FIPS 180-2 test vector.
        assertThat(JoinToken.hashCaBundle("abc".getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        JoinToken token = JoinToken.secure("abc".getBytes(StandardCharsets.US_ASCII), "server", "pw");
        assertThat(token.encoded())
                .isEqualTo("K10ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad::server:pw");
        token.verifyCaHash("abc".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> token.verifyCaHash("abd".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("token CA hash does not match the Cluster CA certificate hash: "
                        + "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad != ");
        JoinToken.parse("short").verifyCaHash(new byte[] {1});
        assertThat(token.toString()).doesNotContain("pw]").contains("<redacted>");
    }

    @Test
    @DisplayName("first start writes token (0600, K10<hash of server-ca.crt>::server:<32 hex>) and node-token -> token")
    void generated() throws Exception {
        ClusterPki pki = ClusterPki.loadOrCreate(dataDir, PkiOptions.defaults());
        ClusterToken token = ClusterToken.loadOrCreate(dataDir, null, pki.serverCaBundle());
        Path file = dataDir.resolve("token");
        String content = Files.readString(file);
        String expectedHash = JoinToken.hashCaBundle(Files.readAllBytes(dataDir.resolve("tls/server-ca.crt")));
        assertThat(content).matches("K10" + expectedHash + "::server:[0-9a-f]{32}\n");
        assertThat(token.password()).hasSize(32);
        assertThat(token.token().encoded() + "\n").isEqualTo(content);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        Path nodeToken = dataDir.resolve("node-token");
        assertThat(Files.isSymbolicLink(nodeToken)).isTrue();
        assertThat(Files.readString(nodeToken)).isEqualTo(content);

        // An agent holding the token accepts the bundle this server serves.
        JoinToken.parse(content.trim()).verifyCaHash(pki.serverCaBundle());

        ClusterToken again = ClusterToken.loadOrCreate(dataDir, null, pki.serverCaBundle());
        assertThat(again.password()).isEqualTo(token.password());
        assertThat(Files.readString(file)).isEqualTo(content);
    }

    @Test
    @DisplayName("a plain --token becomes the password; a full one must match this CA")
    void supplied(@TempDir Path otherDir) throws Exception {
        ClusterPki pki = ClusterPki.loadOrCreate(dataDir, PkiOptions.defaults());
        ClusterToken plain = ClusterToken.loadOrCreate(dataDir, "my-secret", pki.serverCaBundle());
        assertThat(plain.password()).isEqualTo("my-secret");
        assertThat(Files.readString(dataDir.resolve("token")))
                .isEqualTo("K10" + JoinToken.hashCaBundle(pki.serverCaBundle()) + "::server:my-secret\n");

        String full = plain.token().encoded();
        assertThat(ClusterToken.loadOrCreate(dataDir, full, pki.serverCaBundle()).password()).isEqualTo("my-secret");

        ClusterPki other = ClusterPki.loadOrCreate(otherDir, PkiOptions.defaults());
        assertThatThrownBy(() -> ClusterToken.loadOrCreate(otherDir, full, other.serverCaBundle()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token CA hash does not match the Cluster CA certificate hash: "
                        + JoinToken.hashCaBundle(pki.serverCaBundle()) + " != "
                        + JoinToken.hashCaBundle(other.serverCaBundle()));
        assertThatThrownBy(() -> ClusterToken.loadOrCreate(otherDir, "K10abc::x:y", other.serverCaBundle()))
                .hasMessage("invalid token CA hash length");
    }
}
