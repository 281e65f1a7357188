package io.k3j.apiserver.endpoints;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.testing.TestServers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Real kubectl binaries applying a manifest with a typo against an in-process server, as a user would see it. */
class KubectlFieldValidationTest {
    @TempDir static Path dir;
    private static ControlPlane cp;
    private static Path kubeconfig;

    static Stream<String> kubectls() {
        List<String> all = new ArrayList<>();
        all.add("/usr/bin/kubectl");
        for (String v : new String[] {"1.27", "1.30", "1.33"}) all.add("/usr/lib/google-cloud-sdk/bin/kubectl." + v);
        return all.stream().filter(p -> Files.isExecutable(Path.of(p)));
    }

    @BeforeAll
    static void start() {
        kubeconfig = dir.resolve("kubeconfig");
        cp = ControlPlane.start(TestServers.config(dir, kubeconfig, "memory://"));
    }

    @AfterAll
    static void stop() {
        if (cp != null) cp.close();
    }

    record Run(int exit, String output) {}

    private static Run kubectl(String binary, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(binary, "--kubeconfig", kubeconfig.toString(),
                "--cache-dir", dir.resolve("cache-" + Path.of(binary).getFileName()).toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kubectl finished").isTrue();
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private static Path manifest(String name) throws Exception {
        Path f = dir.resolve(name + ".yaml");
        Files.writeString(f, """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: %s
                spec:
                  replicas: 1
                  selector:
                    matchLabels: {app: %s}
                  template:
                    metadata:
                      labels: {app: %s}
                    spec:
                      containers:
                      - name: web
                        image: nginx
                        imagePullPolice: Always
                """.formatted(name, name, name));
        return f;
    }

    @ParameterizedTest
    @MethodSource("kubectls")
    @DisplayName("kubectl apply of a typo: --validate=strict prints the server's error, --validate=warn a warning and creates")
    void applyTypo(String kubectl) throws Exception {
        String name = "typo-" + Path.of(kubectl).getFileName().toString().replace("kubectl", "k").replace(".", "-");
        Path f = manifest(name);
        Run strict = kubectl(kubectl, "apply", "--validate=strict", "-f", f.toString());
        assertThat(strict.exit()).as(strict.output()).isNotZero();
        assertThat(strict.output()).contains("Error from server (BadRequest): error when creating \"" + f
                + "\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: "
                + "unknown field \"spec.template.spec.containers[0].imagePullPolice\"");

        Run warn = kubectl(kubectl, "apply", "--validate=warn", "-f", f.toString());
        assertThat(warn.exit()).as(warn.output()).isZero();
        assertThat(warn.output()).contains("Warning: unknown field \"spec.template.spec.containers[0].imagePullPolice\"")
                .contains("deployment.apps/" + name + " created");

        // the object now exists: kubectl apply patches it (strategic merge), and the patched result is checked
        Run patch = kubectl(kubectl, "apply", "--validate=strict", "-f", f.toString());
        assertThat(patch.exit()).as(patch.output()).isNotZero();
        assertThat(patch.output()).contains("The request is invalid: patch: Invalid value: \"map[spec:map[template:map[spec:map["
                + "$setElementOrder/containers:[map[name:web]] containers:[map[imagePullPolice:Always name:web]]]]]]\": "
                + "strict decoding error: unknown field \"spec.template.spec.containers[0].imagePullPolice\"");
    }
}
