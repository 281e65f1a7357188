package io.k3j.apiserver.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubeconfigWriterTest {

    @TempDir
    static Path dataDir;

    @TempDir
    Path out;

    private static ClusterPki pki;

    @BeforeAll
    static void pki() throws Exception {
        pki = ClusterPki.loadOrCreate(dataDir, PkiOptions.defaults());
    }

    private static String decode(JsonNode node) {
        return new String(Base64.getDecoder().decode(node.asText()), StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("the kubeconfig has k3s.yaml's shape: everything named default, credentials inline")
    void structure() throws Exception {
        Path file = out.resolve("etc/rancher/k3j/k3j.yaml");
        KubeconfigWriter.write(file, 0600, "https://127.0.0.1:6443", pki.serverCaPem(), pki.adminCredentials());
        JsonNode cfg = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());

        assertThat(cfg.get("apiVersion").asText()).isEqualTo("v1");
        assertThat(cfg.get("kind").asText()).isEqualTo("Config");
        assertThat(cfg.get("current-context").asText()).isEqualTo("default");
        assertThat(cfg.get("preferences").isObject()).isTrue();
        assertThat(cfg.get("clusters")).hasSize(1);
        JsonNode cluster = cfg.get("clusters").get(0);
        assertThat(cluster.get("name").asText()).isEqualTo("default");
        assertThat(cluster.at("/cluster/server").asText()).isEqualTo("https://127.0.0.1:6443");
        assertThat(decode(cluster.at("/cluster/certificate-authority-data"))).isEqualTo(pki.serverCaPem());
        JsonNode context = cfg.get("contexts").get(0);
        assertThat(context.get("name").asText()).isEqualTo("default");
        assertThat(context.at("/context/cluster").asText()).isEqualTo("default");
        assertThat(context.at("/context/user").asText()).isEqualTo("default");
        JsonNode user = cfg.get("users").get(0);
        assertThat(user.get("name").asText()).isEqualTo("default");

        List<X509Certificate> certs = Pem.parseCertificates(decode(user.at("/user/client-certificate-data")));
        assertThat(certs.get(0).getSubjectX500Principal().getName()).isEqualTo("CN=system:admin,O=system:masters");
        String key = decode(user.at("/user/client-key-data"));
        assertThat(key).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertThat(Certificates.pairs(certs.get(0).getPublicKey(), Pem.parsePrivateKey(key))).isTrue();

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    @DisplayName("the text is byte for byte what k3s writes, keys in client-go's order")
    void golden() {
        CertAndKey user = new CertAndKey("CERT\n", "KEY\n");
        assertThat(KubeconfigWriter.render("https://127.0.0.1:6443", "CA\n", user)).isEqualTo("""
                apiVersion: v1
                clusters:
                - cluster:
                    certificate-authority-data: Q0EK
                    server: https://127.0.0.1:6443
                  name: default
                contexts:
                - context:
                    cluster: default
                    user: default
                  name: default
                current-context: default
                kind: Config
                preferences: {}
                users:
                - name: default
                  user:
                    client-certificate-data: Q0VSVAo=
                    client-key-data: S0VZCg==
                """);
    }

    @Test
    @DisplayName("--write-kubeconfig-mode strings parse as octal, with or without the leading 0, and are applied")
    void modes() throws Exception {
        assertThat(KubeconfigWriter.parseMode("644")).isEqualTo(0644);
        assertThat(KubeconfigWriter.parseMode("0644")).isEqualTo(0644);
        assertThat(KubeconfigWriter.parseMode("600")).isEqualTo(0600);
        assertThat(KubeconfigWriter.parseMode("0")).isZero();
        for (String bad : List.of("", "888", "0x644", "rw-r--r--", "-644", "1777")) {
            assertThatThrownBy(() -> KubeconfigWriter.parseMode(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--write-kubeconfig-mode : \"" + bad + "\"");
        }
        Path file = out.resolve("k.yaml");
        KubeconfigWriter.write(file, KubeconfigWriter.parseMode("644"), "https://127.0.0.1:6443", pki.serverCaPem(),
                pki.adminCredentials());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r--r--");
        // Rewriting narrows the mode again.
        KubeconfigWriter.write(file, 0600, "https://127.0.0.1:6443", pki.serverCaPem(), pki.adminCredentials());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    @Test
    @DisplayName("kubectl config view --raw accepts the file and reads back the same data")
    void kubectlAccepts() throws Exception {
        Path kubectl = Path.of("/usr/bin/kubectl");
        assumeTrue(Files.isExecutable(kubectl), "kubectl not installed");
        Path file = out.resolve("k3j.yaml");
        KubeconfigWriter.write(file, 0600, "https://127.0.0.1:6443", pki.serverCaPem(), pki.adminCredentials());
        ProcessBuilder pb = new ProcessBuilder(kubectl.toString(), "--kubeconfig", file.toString(),
                "config", "view", "--raw", "-o", "jsonpath={.users[0].user.client-key-data}|{.clusters[0].cluster.server}|{.current-context}");
        pb.environment().put("HOME", out.toString());
        Process p = pb.redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(stdout).isZero();
        String keyData = Base64.getEncoder().encodeToString(
                pki.adminCredentials().privateKeyPem().getBytes(StandardCharsets.UTF_8));
        assertThat(stdout).isEqualTo(keyData + "|https://127.0.0.1:6443|default");
    }
}
