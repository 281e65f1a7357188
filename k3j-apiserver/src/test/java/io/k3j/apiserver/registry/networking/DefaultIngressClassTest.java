package io.k3j.apiserver.registry.networking;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.testing.TestServers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kube-apiserver's DefaultIngressClass admission, seen through the real kubectl. */
class DefaultIngressClassTest {
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

    @Test
    @DisplayName("an Ingress without a class gets the default IngressClass (the newest of several); an explicit class or the legacy annotation is kept")
    void defaultClass() throws Exception {
        kubectl(null, "create", "ingress", "before", "--rule=a.example/=svc:80");
        assertThat(kubectl(null, "get", "ingress", "before", "-o", "jsonpath={.spec.ingressClassName}")).isEmpty();
        kubectl("""
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata:
                  name: k3j
                  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
                spec: {controller: k3j.io/ingress-controller}
                ---
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata: {name: other}
                spec: {controller: example.com/other}
                """, "apply", "-f", "-");
        kubectl(null, "create", "ingress", "plain", "--rule=b.example/=svc:80");
        kubectl(null, "create", "ingress", "explicit", "--class=other", "--rule=c.example/=svc:80");
        kubectl("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: legacy
                  annotations: {kubernetes.io/ingress.class: other}
                spec:
                  defaultBackend: {service: {name: svc, port: {number: 80}}}
                """, "apply", "-f", "-");
        assertThat(kubectl(null, "get", "ingress", "plain", "-o", "jsonpath={.spec.ingressClassName}")).isEqualTo("k3j");
        assertThat(kubectl(null, "get", "ingress", "explicit", "-o", "jsonpath={.spec.ingressClassName}")).isEqualTo("other");
        assertThat(kubectl(null, "get", "ingress", "legacy", "-o", "jsonpath={.spec.ingressClassName}")).isEmpty();
        // admission applies on create only: the Ingress made before the default existed keeps no class
        assertThat(kubectl(null, "get", "ingress", "before", "-o", "jsonpath={.spec.ingressClassName}")).isEmpty();
        assertThat(kubectl(null, "get", "ingress", "plain")).contains("k3j");
    }

    private static String kubectl(String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/kubectl", "--kubeconfig", kubeconfig.toString(), "--cache-dir",
                dir.resolve("cache").toString()));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        if (stdin != null) p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kubectl finished").isTrue();
        assertThat(p.exitValue()).as("kubectl " + String.join(" ", args) + ": " + Files.readString(err)).isZero();
        return out;
    }
}
