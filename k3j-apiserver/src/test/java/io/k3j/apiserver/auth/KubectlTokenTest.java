package io.k3j.apiserver.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.testing.TestServers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real kubectl minting a service-account token, using it, and asking who it is. */
class KubectlTokenTest {
    private static final String KUBECTL = "/usr/bin/kubectl";
    @TempDir static Path dir;
    private static ControlPlane cp;
    private static Path kubeconfig;

    @BeforeAll
    static void start() {
        kubeconfig = dir.resolve("kubeconfig");
        cp = ControlPlane.start(TestServers.config(dir, kubeconfig, "memory://"));
    }

    @AfterAll
    static void stop() {
        if (cp != null) cp.close();
    }

    record Run(int exit, String stdout, String stderr) {}

    private static Run kubectl(String... args) throws Exception {
        return kubectlWith(kubeconfig, args);
    }

    /** A kubeconfig that authenticates with the token alone (the admin one's client certificate would win). */
    private static Path tokenKubeconfig(String token) throws Exception {
        Path f = dir.resolve("token-kubeconfig");
        Files.writeString(f, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: k3j
                  cluster: {server: "https://127.0.0.1:%d", certificate-authority-data: %s}
                users:
                - name: robot
                  user: {token: %s}
                contexts:
                - name: robot
                  context: {cluster: k3j, user: robot}
                current-context: robot
                """.formatted(cp.port(), Base64.getEncoder().encodeToString(cp.pki().serverCaBundle()), token));
        return f;
    }

    private static Run kubectlWith(Path config, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(KUBECTL, "--kubeconfig", config.toString(),
                "--cache-dir", dir.resolve("cache").toString()));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kubectl finished").isTrue();
        return new Run(p.exitValue(), out, Files.readString(err));
    }

    private static void waitForDefaultServiceAccount() throws Exception {
        for (int i = 0; i < 50; i++) {
            if (kubectl("get", "serviceaccount", "default", "-n", "default").exit() == 0) return;
            Thread.sleep(100);
        }
    }

    @Test
    @DisplayName("kubectl create token prints a token the server accepts; kubectl auth whoami with it names the service account")
    void createTokenAndWhoami() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(KUBECTL)), KUBECTL + " is not installed");
        waitForDefaultServiceAccount();
        Run created = kubectl("create", "token", "default", "-n", "default", "--duration", "20m", "--audience", "https://kubernetes.default.svc.cluster.local");
        assertThat(created.exit()).as(created.stderr()).isZero();
        String token = created.stdout().trim();
        assertThat(token.split("\\.")).hasSize(3);
        JsonNode claims = Json.parse(Base64.getUrlDecoder().decode(token.split("\\.")[1]));
        assertThat(claims.path("sub").asText()).isEqualTo("system:serviceaccount:default:default");
        assertThat(claims.path("exp").asLong() - claims.path("iat").asLong()).isEqualTo(1200);

        Path robot = tokenKubeconfig(token);
        Run whoami = kubectlWith(robot, "auth", "whoami");
        assertThat(whoami.exit()).as(whoami.stderr()).isZero();
        assertThat(whoami.stdout()).containsPattern("Username\\s+system:serviceaccount:default:default")
                .containsPattern("Groups\\s+\\[system:serviceaccounts system:serviceaccounts:default system:authenticated\\]");

        Run forbidden = kubectlWith(robot, "get", "pods", "-n", "default");
        assertThat(forbidden.exit()).isNotZero();
        assertThat(forbidden.stderr()).contains("Error from server (Forbidden): pods is forbidden: "
                + "User \"system:serviceaccount:default:default\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"");

        Run admin = kubectl("auth", "whoami", "-o", "json");
        assertThat(admin.exit()).as(admin.stderr()).isZero();
        assertThat(Json.parse(admin.stdout().getBytes(StandardCharsets.UTF_8)).at("/status/userInfo/username").asText())
                .isEqualTo("system:admin");

        Run tooShort = kubectl("create", "token", "default", "-n", "default", "--duration", "5m");
        assertThat(tooShort.exit()).isNotZero();
        assertThat(tooShort.stderr()).contains("error: failed to create token: TokenRequest.authentication.k8s.io \"\" is invalid: "
                + "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes");

        Run missing = kubectl("create", "token", "nobody", "-n", "default");
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.stderr()).contains("serviceaccounts \"nobody\" not found");

        Run resources = kubectl("api-resources", "--api-group", "authentication.k8s.io");
        assertThat(resources.exit()).as(resources.stderr()).isZero();
        assertThat(resources.stdout()).containsPattern("selfsubjectreviews\\s+authentication.k8s.io/v1\\s+false\\s+SelfSubjectReview")
                .containsPattern("tokenreviews\\s+authentication.k8s.io/v1\\s+false\\s+TokenReview");

        Run explain = kubectl("explain", "tokenreviews.status.user");
        assertThat(explain.exit()).as(explain.stderr()).isZero();
        assertThat(explain.stdout()).contains("KIND:       TokenReview").contains("username\t<string>");
    }
}
