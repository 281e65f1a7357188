package io.k3j.cluster.spec;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigFilesTest {
    /** The file from issue 6, verbatim. */
    static final String ISSUE_FILE = """
            apiVersion: k3d.io/v1alpha2
            kind: Simple
            name: mycluster
            servers: 1
            agents: 2
            kubeAPI:
              hostIP: "127.0.0.1"
              hostPort: "6445"
            ports:
              - port: 8080:80
                nodeFilters:
                  - loadbalancer
            options:
              k3d:
                wait: true
                timeout: "60s"
              k3s:
                extraServerArgs:
                  - --tls-san=my.host.domain
                extraAgentArgs: []
              kubeconfig:
                updateDefaultKubeconfig: true
                switchCurrentContext: true
            """;

    private Path dir;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("k3j-config");
        Files.createDirectory(dir.resolve("code"));
    }

    @AfterEach
    void tearDown() throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private ConfigFile parse(String yaml) {
        return parse(yaml, Map.of());
    }

    private ConfigFile parse(String yaml, Map<String, String> env) {
        return ConfigFiles.parse(yaml, "test.yaml", env, dir);
    }

    private static ClusterSpec spec(ConfigFile f) {
        return ClusterSpecs.merge(f.options(), ClusterOptions.none());
    }

    @Test
    @DisplayName("the issue's v1alpha2 file loads verbatim into 1 server, 2 agents, API 127.0.0.1:6445, 8080:80 on the LB")
    void issueFileVerbatim() throws IOException {
        Path file = dir.resolve("k3d.yaml");
        Files.writeString(file, ISSUE_FILE);
        ConfigFile f = ConfigFiles.load(file, Map.of());
        assertThat(f.apiVersion()).isEqualTo("k3d.io/v1alpha2");
        assertThat(f.warnings()).isEmpty();
        ClusterSpec s = spec(f);
        assertThat(s.name()).isEqualTo("mycluster");
        assertThat(s.servers()).isEqualTo(1);
        assertThat(s.agents()).isEqualTo(2);
        assertThat(s.apiHost()).isEqualTo("127.0.0.1");
        assertThat(s.apiPort()).isEqualTo(6445);
        assertThat(s.ports()).containsExactly(new PortMapping("0.0.0.0", 8080, 80, "tcp", List.of()));
        assertThat(s.args()).hasSize(1);
        NodeSetting tlsSan = s.args().getFirst();
        assertThat(tlsSan.value()).isEqualTo("--tls-san=my.host.domain");
        assertThat(tlsSan.filters()).extracting(NodeFilter::text).containsExactly("server:*");
        assertThat(tlsSan.filters().getFirst().matches(new NodeRef(NodeRole.SERVER, 0))).isTrue();
        assertThat(tlsSan.filters().getFirst().matches(new NodeRef(NodeRole.AGENT, 0))).isFalse();
        assertThat(s.waitForReady()).isTrue();
        assertThat(s.timeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.updateDefaultKubeconfig()).isTrue();
        assertThat(s.switchContext()).isTrue();
        assertThat(s.loadBalancer()).isTrue();
        assertThat(s.rollback()).isTrue();
        assertThat(s.volumes()).isEmpty();
        assertThat(s.env()).isEmpty();
    }

    @Test
    void v1alpha2WithEveryField() {
        ClusterSpec s = spec(parse("""
                apiVersion: k3d.io/v1alpha2
                kind: Simple
                name: full
                servers: 3
                agents: 2
                kubeAPI:
                  host: localhost
                  hostPort: "6550"
                image: rancher/k3s:latest
                subnet: 172.28.0.0/16
                token: secret
                volumes:
                  - volume: code:/code
                    nodeFilters:
                      - agent[*]
                ports:
                  - port: 0.0.0.0:443:443
                    nodeFilters:
                      - loadbalancer
                  - port: 9000:9000
                    nodeFilters:
                      - agent[0,1]
                env:
                  - envVar: FOO=bar=baz
                    nodeFilters:
                      - server[1:2]
                labels:
                  - label: runtime=only
                    nodeFilters:
                      - server[0]
                options:
                  k3d:
                    wait: false
                    timeout: 2m
                    disableLoadbalancer: false
                    disableRollback: true
                    disableHostIPInjection: true
                  k3s:
                    extraServerArgs: [--disable=traefik]
                    extraAgentArgs: [--node-taint=a=b:NoSchedule]
                  kubeconfig:
                    updateDefaultKubeconfig: false
                    switchCurrentContext: false
                """));
        assertThat(s.name()).isEqualTo("full");
        assertThat(s.apiHost()).isEqualTo("localhost");
        assertThat(s.apiPort()).isEqualTo(6550);
        assertThat(s.subnet()).isEqualTo("172.28.0.0/16");
        assertThat(s.token()).isEqualTo("secret");
        assertThat(s.volumes()).containsExactly(new VolumeMount(dir.resolve("code"), Path.of("/code"), false, List.of(NodeFilter.parse("agent:*"))));
        assertThat(s.ports()).extracting(PortMapping::toFlag).containsExactly("443:443", "9000:9000");
        assertThat(s.ports().get(1).filters()).extracting(NodeFilter::text).containsExactly("agent:0,1");
        assertThat(s.env().getFirst().value()).isEqualTo("FOO=bar=baz");
        assertThat(s.env().getFirst().filters()).extracting(NodeFilter::text).containsExactly("server:1-2");
        assertThat(s.args()).extracting(NodeSetting::value).containsExactly("--disable=traefik", "--node-taint=a=b:NoSchedule");
        assertThat(s.args().get(1).filters()).extracting(NodeFilter::text).containsExactly("agent:*");
        assertThat(s.waitForReady()).isFalse();
        assertThat(s.timeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(s.rollback()).isFalse();
        assertThat(s.updateDefaultKubeconfig()).isFalse();
        assertThat(s.switchContext()).isFalse();
    }

    static final String V1ALPHA3 = """
            apiVersion: k3d.io/v1alpha3
            kind: Simple
            name: three
            servers: 1
            agents: 1
            kubeAPI:
              hostIP: 127.0.0.1
              hostPort: "6446"
            ports:
              - port: 8081:80
                nodeFilters: [loadbalancer]
            options:
              k3d:
                timeout: 90s
                loadbalancer:
                  configOverrides: []
              k3s:
                extraArgs:
                  - arg: --tls-san=three.local
                    nodeFilters: [server:*]
                nodeLabels:
                  - label: tier=web
                    nodeFilters: [agent:0]
              runtime:
                labels: []
            registries:
              use: []
            """;

    @Test
    void v1alpha3() {
        ConfigFile f = parse(V1ALPHA3);
        assertThat(f.warnings()).isEmpty();
        ClusterSpec s = spec(f);
        assertThat(s.name()).isEqualTo("three");
        assertThat(s.apiPort()).isEqualTo(6446);
        assertThat(s.timeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(s.args()).extracting(NodeSetting::value).containsExactly("--tls-san=three.local");
        assertThat(s.nodeLabels()).extracting(NodeSetting::value).containsExactly("tier=web");
    }

    @Test
    void v1alpha4And5AndK3j() {
        for (String version : List.of("k3d.io/v1alpha4", "k3d.io/v1alpha5", "k3j.io/v1alpha1")) {
            ConfigFile f = parse("""
                    apiVersion: %s
                    kind: Simple
                    metadata:
                      name: four
                    servers: 1
                    agents: 3
                    kubeAPI:
                      hostPort: "6447"
                    volumes:
                      - volume: %s:/code:ro
                        nodeFilters:
                          - agent:0-2
                    env:
                      - envVar: A=1
                        nodeFilters: [all]
                    options:
                      k3d:
                        disableLoadbalancer: true
                      k3s:
                        extraArgs:
                          - arg: --disable=traefik
                            nodeFilters: [server:0]
                    """.formatted(version, dir.resolve("code")));
            assertThat(f.apiVersion()).isEqualTo(version);
            ClusterSpec s = spec(f);
            assertThat(s.name()).as(version).isEqualTo("four");
            assertThat(s.agents()).isEqualTo(3);
            assertThat(s.apiHost()).isEqualTo("0.0.0.0");
            assertThat(s.apiPort()).isEqualTo(6447);
            assertThat(s.volumes().getFirst().readOnly()).isTrue();
            assertThat(s.loadBalancer()).isFalse();
            assertThat(s.env().getFirst().filters().getFirst().matches(new NodeRef(NodeRole.AGENT, 2))).isTrue();
        }
    }

    @Test
    @DisplayName("a v1alpha5 file as k3d's own config migrate writes it (integer timeout, clusterToken, HostPidMode) loads")
    void k3dMigrateOutputLoads() {
        ClusterSpec s = spec(parse("""
                agents: 0
                apiVersion: k3d.io/v1alpha5
                clusterToken: tok
                kind: Simple
                kubeAPI: {}
                metadata:
                  name: test
                options:
                  k3d:
                    disableImageVolume: false
                    disableLoadbalancer: false
                    disableRollback: false
                    loadbalancer: {}
                    timeout: 360000000000
                    wait: true
                  k3s: {}
                  kubeconfig: {}
                  runtime:
                    HostPidMode: false
                registries: {}
                servers: 1
                """));
        assertThat(s.timeout()).isEqualTo(Duration.ofSeconds(360));
        assertThat(s.token()).isEqualTo("tok");
        assertThat(s.updateDefaultKubeconfig()).isTrue();
    }

    @Test
    void dockerOnlySettingsAreAcceptedWithAWarning() {
        ConfigFile f = parse("""
                apiVersion: k3d.io/v1alpha5
                kind: Simple
                image: rancher/k3s:v1.30.0-k3s1
                options:
                  runtime:
                    serversMemory: 1g
                """);
        assertThat(f.warnings()).containsExactly(
                "image at line 3 is ignored (k3j nodes are processes, not containers)",
                "options.runtime at line 6 is ignored (k3j nodes are processes, not containers)");
    }

    @Test
    void environmentVariablesAreExpanded() {
        ClusterSpec s = spec(parse("""
                apiVersion: k3d.io/v1alpha5
                kind: Simple
                metadata:
                  name: ${NAME}
                agents: $AGENTS
                kubeAPI:
                  hostPort: "${PORT}"
                token: "pa$$word$UNSET"
                volumes:
                  - volume: $HOME_CODE:/code
                    nodeFilters: [all]
                """, Map.of("NAME", "envcluster", "AGENTS", "2", "PORT", "7443", "HOME_CODE", dir.resolve("code").toString())));
        assertThat(s.name()).isEqualTo("envcluster");
        assertThat(s.agents()).isEqualTo(2);
        assertThat(s.apiPort()).isEqualTo(7443);
        assertThat(s.token()).isEqualTo("pa$word");
        assertThat(s.volumes().getFirst().source()).isEqualTo(dir.resolve("code"));
        assertThat(ConfigFiles.expandEnv("a $ b ${ c} $1 ${X}y", Map.of("X", "x"))).isEqualTo("a $ b ${ c} $1 xy");
    }

    @Test
    void unknownFieldIsReportedWithItsLineAndTheLikelyName() {
        assertThatThrownBy(() -> parse("""
                apiVersion: k3d.io/v1alpha5
                kind: Simple
                metadata:
                  name: x
                agnets: 2
                """))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml is not valid: unknown field 'agnets' at line 5 (did you mean 'agents'?)");
        assertThatThrownBy(() -> parse("""
                apiVersion: k3d.io/v1alpha2
                kind: Simple
                options:
                  k3d:
                    wiat: true
                  kubeconfig:
                    switchContext: true
                zzzzzzzz: 1
                """))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "unknown field 'options.k3d.wiat' at line 5 (did you mean 'wait'?)",
                        "unknown field 'options.kubeconfig.switchContext' at line 7 (did you mean 'switchCurrentContext'?)",
                        "unknown field 'zzzzzzzz' at line 8 (expected one of: apiVersion, kind, name, servers, agents, kubeAPI, image, "
                                + "network, subnet, token, clusterToken, volumes, ports, labels, options, env, registries)"));
        // a v1alpha5 field is unknown in v1alpha2 and the other way round
        assertThatThrownBy(() -> parse("apiVersion: k3d.io/v1alpha2\nkind: Simple\nmetadata:\n  name: x\n"))
                .hasMessageContaining("unknown field 'metadata' at line 3");
        assertThatThrownBy(() -> parse("apiVersion: k3d.io/v1alpha5\nkind: Simple\nname: x\n"))
                .hasMessageContaining("unknown field 'name' at line 3");
    }

    @Test
    void badValuesAreReportedWithFieldAndLine() {
        assertThatThrownBy(() -> parse("""
                apiVersion: k3d.io/v1alpha5
                kind: Simple
                servers: "three"
                agents: -1
                options:
                  k3d:
                    wait: yes please
                    timeout: [1]
                ports: 8080
                """))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "servers at line 3: expected a whole number, got \"three\"",
                        "agents at line 4: -1 is out of range (expected 0 to 99)",
                        "options.k3d.wait at line 7: expected true or false, got \"yes please\"",
                        "options.k3d.timeout at line 8: expected a duration like 60s or 2m, got a list",
                        "ports at line 9: expected a list, got 8080"));
        assertThatThrownBy(() -> parse("""
                apiVersion: k3d.io/v1alpha5
                kind: Simple
                metadata:
                  name: Bad_Name
                ports:
                  - port: 8080:80
                    nodeFilters:
                      - loadbalancer
                      - agnt[*]
                  - port: 8080:http
                options:
                  k3d:
                    timeout: 60x
                """))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "metadata.name at line 4: cluster name 'Bad_Name' is not valid: use lower-case letters, digits and '-', "
                                + "starting and ending with a letter or digit (e.g. bad-name)",
                        "ports[0].nodeFilters[1] at line 9: node filter 'agnt[*]' is not valid: expected server, agent, loadbalancer or all",
                        "ports[1].port at line 10: port '8080:http' is not valid: node port 'http' is not a number",
                        "options.k3d.timeout at line 13: duration '60x' is not valid: expected a number with a unit (ns, us, ms, s, m, h), e.g. 60s, 2m or 1m30s"));
    }

    @Test
    void missingVolumeSourceIsReportedWithItsLine() {
        assertThatThrownBy(() -> parse("""
                apiVersion: k3d.io/v1alpha5
                kind: Simple
                volumes:
                  - volume: nothere:/data
                """))
                .hasMessage("test.yaml is not valid: volumes[0].volume at line 4: volume 'nothere:/data' is not valid: source "
                        + dir.resolve("nothere") + " does not exist (create it first; k3j mounts host paths, not named volumes)");
    }

    @Test
    void versionKindSyntaxAndDuplicates() {
        assertThatThrownBy(() -> parse("apiVersion: k3d.io/v1alpha9\nkind: Simple\n"))
                .hasMessageContaining("apiVersion at line 1: 'k3d.io/v1alpha9' is not supported");
        assertThatThrownBy(() -> parse("apiVersion: k3d.io/v1alpha5\nkind: Cluster\n"))
                .hasMessageContaining("kind at line 2: 'Cluster' is not supported (expected Simple)");
        assertThatThrownBy(() -> parse("kind: Simple\n")).hasMessageContaining("missing field 'apiVersion'");
        assertThatThrownBy(() -> parse("apiVersion: k3d.io/v1alpha5\n")).hasMessageContaining("missing field 'kind'");
        assertThatThrownBy(() -> parse("apiVersion: k3d.io/v1alpha5\nkind: Simple\nservers: 1\nservers: 2\n"))
                .hasMessageContaining("line 4: duplicate field 'servers' (first at line 3)");
        assertThatThrownBy(() -> parse("apiVersion: k3d.io/v1alpha5\nkind: Simple\nports: [\n")).hasMessageContaining("not valid YAML");
    }

    @Test
    @DisplayName("config migrate: v1alpha2 → v1alpha5 text that loads to the same ClusterSpec")
    void migrateRoundTrip() {
        String migrated = ConfigFiles.migrate(ISSUE_FILE, "k3d.yaml");
        assertThat(migrated).startsWith("apiVersion: k3d.io/v1alpha5\nkind: Simple\nmetadata:\n  name: mycluster\n");
        assertThat(migrated).contains("hostIP: 127.0.0.1\n  hostPort: \"6445\"\n", "timeout: 60s", "extraArgs:", "arg: --tls-san=my.host.domain", "server:*")
                .doesNotContain("extraServerArgs", "extraAgentArgs");
        ConfigFile again = parse(migrated);
        assertThat(again.apiVersion()).isEqualTo("k3d.io/v1alpha5");
        assertThat(spec(again)).isEqualTo(spec(parse(ISSUE_FILE)));
        // idempotent
        assertThat(ConfigFiles.migrate(migrated, "again.yaml")).isEqualTo(migrated);
    }

    @Test
    void migrateRewritesV4FiltersLabelsAndRegistry() {
        String v2 = """
                apiVersion: k3d.io/v1alpha2
                kind: Simple
                name: old
                servers: 3
                agents: 2
                env:
                  - envVar: A=$KEEP
                    nodeFilters:
                      - server[1:2]
                labels:
                  - label: foo=bar
                    nodeFilters:
                      - server[0]
                      - loadbalancer
                registries:
                  create: true
                """;
        String out = ConfigFiles.migrate(v2, "old.yaml");
        assertThat(out).contains("- server:1-2", "envVar: A=$KEEP", "runtime:", "- label: foo=bar", "- server:0", "- loadbalancer",
                "name: k3d-old-registry", "hostPort: random").doesNotContain("server[");
        ConfigFile f = parse(out, Map.of("KEEP", "kept"));
        assertThat(spec(f).env().getFirst().value()).isEqualTo("A=kept");
        assertThat(f.warnings()).hasSize(2); // runtime labels and the registry mean nothing to k3j
        assertThat(spec(f)).isEqualTo(spec(parse(v2, Map.of("KEEP", "kept"))));
        String v3 = ConfigFiles.migrate(V1ALPHA3, "three.yaml");
        assertThat(v3).startsWith("apiVersion: k3d.io/v1alpha5\nkind: Simple\nmetadata:\n  name: three\n");
        assertThat(spec(parse(v3))).isEqualTo(spec(parse(V1ALPHA3)));
        assertThatThrownBy(() -> ConfigFiles.migrate("apiVersion: k3d.io/v1alpha2\nkind: Simple\nagnets: 1\n", "bad.yaml"))
                .hasMessageContaining("unknown field 'agnets' at line 3");
    }

    @Test
    void initTemplateLoadsWithDefaults() {
        String init = ConfigFiles.initTemplate();
        assertThat(init).contains("apiVersion: k3j.io/v1alpha1", "# ");
        ConfigFile f = parse(init);
        assertThat(f.apiVersion()).isEqualTo("k3j.io/v1alpha1");
        assertThat(f.warnings()).isEmpty();
        ClusterSpec s = spec(f);
        assertThat(s).isEqualTo(new ClusterSpec("mycluster", 1, 0, "0.0.0.0", 0, List.of(), List.of(), List.of(), List.of(), List.of(),
                null, null, true, null, true, true, true, true));
        // every commented example is valid too once uncommented
        String uncommented = init.substring(init.indexOf("apiVersion:")).replace("# token:", "token:")
                .replaceAll(": \\[]\n( *)#", ":\n$1 ").replaceAll("\n( *)#( +)", "\n$1 $2")
                .replace("/home/me/code", dir.resolve("code").toString()).replace("agents: 0", "agents: 1");
        ClusterSpec full = spec(parse(uncommented));
        assertThat(full.ports()).hasSize(1);
        assertThat(full.volumes()).hasSize(1);
        assertThat(full.env()).hasSize(1);
        assertThat(full.args()).hasSize(1);
        assertThat(full.nodeLabels()).hasSize(1);
        assertThat(full.token()).isEqualTo("my-cluster-token");
    }
}
