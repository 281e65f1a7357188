package io.k3j.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.k3j.agent.host.Packages;
import io.k3j.agent.testing.Kubectls;
import io.k3j.agent.testing.TestNode;
import io.k3j.controllers.testing.TestCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A configMap (plain volume) and a secret (projected source) mounted by a running pod are updated through kubectl;
 * the agent's configmaps/secrets informers make the new contents visible in the container within seconds, well
 * before the 60 s periodic refresh.
 */
class VolumeSourceUpdateE2ETest {
    private static final String OBJECTS = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: app-config}
            data: {greeting: v1}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: app-secret}
            stringData: {password: one}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: reader}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: main
                image: docker.io/library/busybox:1.35
                command: [sh, -c, 'exec sleep 3600']
                volumeMounts:
                - {name: config, mountPath: /config}
                - {name: creds, mountPath: /creds}
              volumes:
              - name: config
                configMap: {name: app-config}
              - name: creds
                projected:
                  sources:
                  - secret: {name: app-secret}
            """;

    @Test
    @DisplayName("an updated configMap and secret reach the running pod's mounted files within 5 s")
    void updatesReachThePodFast() throws Exception {
        assumeTrue(Packages.isRoot(), "needs root");
        try (TestCluster cluster = TestNode.startCluster()) {
            TestNode node = TestNode.start(cluster);
            try {
                Kubectls k = new Kubectls(Kubectls.DEFAULT, cluster.kubeconfig());
                k.run(OBJECTS.getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60), "apply", "-f", "-").ok();
                k.run("wait", "--for=condition=Ready", "pod/reader", "--timeout=60s").ok();
                assertEquals("v1", k.run("exec", "reader", "--", "cat", "/config/greeting").ok());
                assertEquals("one", k.run("exec", "reader", "--", "cat", "/creds/password").ok());

                k.run("patch", "configmap", "app-config", "-p", "{\"data\":{\"greeting\":\"v2\"}}").ok();
                long ms = awaitContent(k, "/config/greeting", "v2");
                assertTrue(ms < 5000, "the configMap's new contents took " + ms + " ms");

                k.run("patch", "secret", "app-secret", "-p", "{\"stringData\":{\"password\":\"two\"}}").ok();
                ms = awaitContent(k, "/creds/password", "two");
                assertTrue(ms < 5000, "the secret's new contents took " + ms + " ms");
            } finally {
                node.close();
            }
        }
    }

    /** Milliseconds until {@code kubectl exec cat file} shows {@code expected}; fails after 15 s. */
    private static long awaitContent(Kubectls k, String file, String expected) throws InterruptedException {
        long t0 = System.nanoTime();
        String last = "";
        while (System.nanoTime() - t0 < 15_000_000_000L) {
            Kubectls.Result r = k.run("exec", "reader", "--", "cat", file);
            last = r.out();
            if (r.exit() == 0 && expected.equals(last)) return (System.nanoTime() - t0) / 1_000_000;
            Thread.sleep(200);
        }
        throw new AssertionError(file + " still reads \"" + last + "\" after 15 s, expected \"" + expected + "\"");
    }
}
