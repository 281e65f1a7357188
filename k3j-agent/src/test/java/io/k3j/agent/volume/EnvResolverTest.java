package io.k3j.agent.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.api.Quantity;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class EnvResolverTest {

    private final MemorySources sources = new MemorySources(Clock.systemUTC());
    private final NodeFacts node = new NodeFacts("node-1", List.of("10.0.0.5", "fd00::5"),
            Map.of("cpu", Quantity.parse("4"), "memory", Quantity.parse("8Gi")));
    private final EnvResolver resolver = new EnvResolver(sources, node);

    private static ObjectNode yaml(String text) {
        return (ObjectNode) Json.parseYamlOrJson(text.getBytes(StandardCharsets.UTF_8));
    }

    private static ObjectNode pod(String containerYaml) {
        ObjectNode pod = yaml("""
                metadata: {name: web-0, namespace: shop, uid: u-1, labels: {app: web, tier: front}, annotations: {note: "a \\"b\\""}}
                spec: {nodeName: node-1, serviceAccountName: builder, enableServiceLinks: false}
                """);
        pod.with("spec").putArray("containers").add(yaml(containerYaml));
        return pod;
    }

    private Map<String, String> env(ObjectNode pod) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : resolver.resolve(pod, (ObjectNode) pod.path("spec").path("containers").get(0),
                List.of("10.42.0.7", "fd42::7"), null)) {
            assertThat(out).doesNotContainKey(e.getKey());
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    @Test
    @DisplayName("expansion follows Kubernetes: earlier vars expand, $(UNDEFINED) stays, $$ escapes, unterminated $( stays")
    void expansion() {
        assertThat(Expansion.expand("$(A)-$(B)", Map.of("A", "1")::get)).isEqualTo("1-$(B)");
        assertThat(Expansion.expand("$$(A)", Map.of("A", "1")::get)).isEqualTo("$(A)");
        assertThat(Expansion.expand("$$$(A)", Map.of("A", "1")::get)).isEqualTo("$1");
        assertThat(Expansion.expand("$(A", Map.of("A", "1")::get)).isEqualTo("$(A");
        assertThat(Expansion.expand("a$b$", Map.<String, String>of()::get)).isEqualTo("a$b$");
        assertThat(Expansion.expand("$()", Map.of("", "E")::get)).isEqualTo("E");
        assertThat(Expansion.expand("$(A)$(A)x", Map.of("A", "1")::get)).isEqualTo("11x");

        Map<String, String> env = env(pod("""
                name: c
                env:
                - {name: A, value: one}
                - {name: B, value: "$(A)-two"}
                - {name: C, value: "$(D) $(UNDEFINED) $$(A)"}
                - {name: D, value: four}
                - {name: A, value: "again-$(A)"}
                """));
        assertThat(EnvResolver.expandCommand(List.of("echo", "$(A) $(B)", "$$(A)", "$(NOPE)"), List.copyOf(env.entrySet())))
                .containsExactly("echo", "again-one one-two", "$(A)", "$(NOPE)");
        assertThat(env).containsExactly(Map.entry("A", "again-one"), Map.entry("B", "one-two"),
                Map.entry("C", "$(D) $(UNDEFINED) $(A)"), Map.entry("D", "four"));
    }

    @Test
    @DisplayName("fieldRef and resourceFieldRef give the pod's fields, the addresses and resources with divisors and node defaults")
    void fieldsAndResources() {
        Map<String, String> env = env(pod("""
                name: c
                resources: {limits: {memory: 256Mi}, requests: {cpu: 250m, memory: 100Mi}}
                env:
                - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
                - {name: UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
                - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
                - {name: NOTE, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['note']"}}}
                - {name: LABELS, valueFrom: {fieldRef: {fieldPath: metadata.labels}}}
                - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
                - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
                - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
                - {name: HOST_IPS, valueFrom: {fieldRef: {fieldPath: status.hostIPs}}}
                - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                - {name: POD_IPS, valueFrom: {fieldRef: {fieldPath: status.podIPs}}}
                - {name: CPU_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}
                - {name: CPU_REQ_M, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
                - {name: CPU_REQ, valueFrom: {resourceFieldRef: {resource: requests.cpu}}}
                - {name: MEM_LIMIT_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
                - {name: MEM_REQ, valueFrom: {resourceFieldRef: {resource: requests.memory}}}
                - {name: NOT_EXPANDED, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                """));
        assertThat(env).containsEntry("NAME", "web-0").containsEntry("NS", "shop").containsEntry("UID", "u-1")
                .containsEntry("APP", "web").containsEntry("NOTE", "a \"b\"")
                .containsEntry("LABELS", "app=\"web\"\ntier=\"front\"")
                .containsEntry("NODE", "node-1").containsEntry("SA", "builder")
                .containsEntry("HOST_IP", "10.0.0.5").containsEntry("HOST_IPS", "10.0.0.5,fd00::5")
                .containsEntry("POD_IP", "10.42.0.7").containsEntry("POD_IPS", "10.42.0.7,fd42::7")
                .containsEntry("CPU_LIMIT", "4") // no limit: the node's allocatable, as kubelet
                .containsEntry("CPU_REQ_M", "250").containsEntry("CPU_REQ", "1") // rounded up
                .containsEntry("MEM_LIMIT_MI", "256").containsEntry("MEM_REQ", String.valueOf(100L * 1024 * 1024));
        assertThatThrownBy(() -> env(pod("""
                name: c
                env: [{name: X, valueFrom: {fieldRef: {fieldPath: spec.restartPolicy}}}]
                """))).isInstanceOf(PodConfigException.class).hasMessage("unsupported fieldPath: spec.restartPolicy");
    }

    @Test
    @DisplayName("configMapKeyRef and secretKeyRef: values, optional misses skipped, kubelet's errors otherwise")
    void keyRefs() {
        sources.configMap("shop", "cfg", Map.of("mode", "fast"));
        sources.secret("shop", "creds", Map.of("password", "s3cr€t"));
        Map<String, String> env = env(pod("""
                name: c
                env:
                - {name: MODE, valueFrom: {configMapKeyRef: {name: cfg, key: mode}}}
                - {name: PW, valueFrom: {secretKeyRef: {name: creds, key: password}}}
                - {name: OPT1, valueFrom: {configMapKeyRef: {name: cfg, key: nope, optional: true}}}
                - {name: OPT2, valueFrom: {secretKeyRef: {name: absent, key: x, optional: true}}}
                - {name: EMPTY}
                """));
        assertThat(env).containsExactly(Map.entry("MODE", "fast"), Map.entry("PW", "s3cr€t"), Map.entry("EMPTY", ""));

        PodConfigException e = (PodConfigException) catchThrowable(() -> env(pod("""
                name: c
                env: [{name: X, valueFrom: {configMapKeyRef: {name: cfg, key: speed}}}]
                """)));
        assertThat(e.getMessage()).isEqualTo("couldn't find key speed in ConfigMap shop/cfg");
        assertThat(e.reason()).isEqualTo("CreateContainerConfigError");
        assertThatThrownBy(() -> env(pod("""
                name: c
                env: [{name: X, valueFrom: {secretKeyRef: {name: creds, key: user}}}]
                """))).hasMessage("couldn't find key user in Secret shop/creds");
        assertThatThrownBy(() -> env(pod("""
                name: c
                env: [{name: X, valueFrom: {configMapKeyRef: {name: other, key: k}}}]
                """))).hasMessage("configmap \"other\" not found");
        assertThatThrownBy(() -> env(pod("""
                name: c
                envFrom: [{secretRef: {name: other}}]
                """))).hasMessage("secret \"other\" not found");
    }

    private static Throwable catchThrowable(Runnable r) {
        try {
            r.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    @Test
    @DisplayName("envFrom with prefix comes first, invalid names are skipped with kubelet's warning, env overrides it")
    void envFrom() {
        sources.configMap("shop", "cfg", Map.of("A", "1", "B", "2", "1bad", "x", "with space", "y"));
        sources.secret("shop", "creds", Map.of("TOKEN", "t"));
        List<String> warnings = new ArrayList<>();
        ObjectNode pod = pod("""
                name: c
                envFrom:
                - {configMapRef: {name: cfg}}
                - {prefix: S_, secretRef: {name: creds}}
                - {configMapRef: {name: missing, optional: true}}
                env:
                - {name: B, value: "override-$(A)-$(S_TOKEN)"}
                """);
        Map<String, String> env = new LinkedHashMap<>();
        resolver.resolve(pod, (ObjectNode) pod.path("spec").path("containers").get(0), List.of(), warnings::add)
                .forEach(e -> env.put(e.getKey(), e.getValue()));
        assertThat(env).containsEntry("A", "1").containsEntry("S_TOKEN", "t").containsEntry("B", "override-1-t")
                .doesNotContainKeys("1bad", "with space");
        assertThat(warnings).containsExactly("Keys [1bad, with space] from the EnvFrom configMap shop/cfg were skipped since "
                + "they are considered invalid environment variable names.");
    }

    @Test
    @DisplayName("service links: KUBERNETES_* always, the namespace's services when enabled, headless skipped, env wins")
    void serviceLinks() {
        sources.put("services/default/kubernetes", """
                metadata: {name: kubernetes, namespace: default}
                spec: {clusterIP: 10.43.0.1, ports: [{name: https, port: 443, protocol: TCP}]}
                """);
        sources.put("services/shop/redis-main", """
                metadata: {name: redis-main, namespace: shop}
                spec: {clusterIP: 10.43.5.6, ports: [{port: 6379}, {name: metrics, port: 9121, protocol: UDP}]}
                """);
        sources.put("services/shop/headless", """
                metadata: {name: headless, namespace: shop}
                spec: {clusterIP: None, ports: [{port: 80}]}
                """);
        Map<String, String> off = env(pod("name: c"));
        assertThat(off).containsOnly(
                Map.entry("KUBERNETES_SERVICE_HOST", "10.43.0.1"), Map.entry("KUBERNETES_SERVICE_PORT", "443"),
                Map.entry("KUBERNETES_SERVICE_PORT_HTTPS", "443"), Map.entry("KUBERNETES_PORT", "tcp://10.43.0.1:443"),
                Map.entry("KUBERNETES_PORT_443_TCP", "tcp://10.43.0.1:443"), Map.entry("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
                Map.entry("KUBERNETES_PORT_443_TCP_PORT", "443"), Map.entry("KUBERNETES_PORT_443_TCP_ADDR", "10.43.0.1"));

        ObjectNode pod = pod("""
                name: c
                env:
                - {name: REDIS_MAIN_SERVICE_HOST, value: mine}
                - {name: URL, value: "redis://$(REDIS_MAIN_SERVICE_HOST):$(REDIS_MAIN_SERVICE_PORT)"}
                """);
        pod.with("spec").remove("enableServiceLinks");
        Map<String, String> on = env(pod);
        assertThat(on).containsEntry("REDIS_MAIN_SERVICE_HOST", "mine").containsEntry("URL", "redis://mine:6379")
                .containsEntry("REDIS_MAIN_SERVICE_PORT", "6379").containsEntry("REDIS_MAIN_SERVICE_PORT_METRICS", "9121")
                .containsEntry("REDIS_MAIN_PORT", "tcp://10.43.5.6:6379")
                .containsEntry("REDIS_MAIN_PORT_9121_UDP", "udp://10.43.5.6:9121")
                .containsEntry("REDIS_MAIN_PORT_9121_UDP_PROTO", "udp")
                .containsEntry("KUBERNETES_SERVICE_HOST", "10.43.0.1");
        assertThat(on.keySet()).noneMatch(k -> k.startsWith("HEADLESS"));
    }
}
