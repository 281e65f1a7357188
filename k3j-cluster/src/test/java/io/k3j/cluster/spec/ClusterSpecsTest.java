package io.k3j.cluster.spec;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Flags over file, defaults, and the checks that need the whole spec. */
class ClusterSpecsTest {
    private static ClusterOptions file(String yaml) {
        return ConfigFiles.parse(yaml, "f.yaml", Map.of(), Path.of("")).options();
    }

    @Test
    void defaultsWhenNothingIsSet() {
        ClusterSpec s = ClusterSpecs.merge(ClusterOptions.none(), ClusterOptions.none());
        assertThat(s).isEqualTo(new ClusterSpec("k3s-default", 1, 0, "0.0.0.0", 0, List.of(), List.of(), List.of(), List.of(),
                List.of(), null, null, true, null, true, true, true, true));
    }

    @Test
    void flagsOverrideTheFileAndListFlagsAddToIt() {
        ClusterOptions f = file(ConfigFilesTest.ISSUE_FILE);
        ClusterOptions flags = ClusterOptions.builder().name("other").servers(3).agents(null).apiPort("7443")
                .ports(List.of("9090:90@agent:0")).args(List.of("--disable=traefik@server:0")).timeout("2m")
                .waitForReady(false).switchContext(false).subnet("10.77.0.0/16").token("t").rollback(false).build();
        ClusterSpec s = ClusterSpecs.merge(f, flags);
        assertThat(s.name()).isEqualTo("other");
        assertThat(s.servers()).isEqualTo(3);
        assertThat(s.agents()).isEqualTo(2); // from the file: the flag was not given
        assertThat(s.apiHost()).isEqualTo("0.0.0.0"); // --api-port replaces the file's kubeAPI as a whole
        assertThat(s.apiPort()).isEqualTo(7443);
        assertThat(s.ports()).extracting(PortMapping::toFlag).containsExactly("8080:80", "9090:90");
        assertThat(s.args()).extracting(NodeSetting::value).containsExactly("--tls-san=my.host.domain", "--disable=traefik");
        assertThat(s.timeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(s.waitForReady()).isFalse();
        assertThat(s.switchContext()).isFalse();
        assertThat(s.updateDefaultKubeconfig()).isTrue();
        assertThat(s.subnet()).isEqualTo("10.77.0.0/16");
        assertThat(s.token()).isEqualTo("t");
        assertThat(s.rollback()).isFalse();
        // --timeout 0 clears the file's timeout, --subnet auto its subnet
        ClusterSpec cleared = ClusterSpecs.merge(file("apiVersion: k3d.io/v1alpha5\nkind: Simple\nsubnet: 10.9.0.0/16\n"
                + "options:\n  k3d:\n    timeout: 60s\n"), ClusterOptions.builder().timeout("0").subnet("auto").build());
        assertThat(cleared.timeout()).isNull();
        assertThat(cleared.subnet()).isNull();
    }

    @Test
    void settingsWithoutFilterNeedASingleNodeCluster() {
        ClusterOptions flags = ClusterOptions.builder().agents(2).env(List.of("A=1")).args(List.of("--tls-san=x"))
                .nodeLabels(List.of("k=v@agent:*")).build();
        assertThatThrownBy(() -> ClusterSpecs.merge(ClusterOptions.none(), flags))
                .hasMessage("env 'A=1' has no node filter, but the cluster has 3 nodes: add one, e.g. -e 'A=1@server:*' (or @all)\n"
                        + "k3s arg '--tls-san=x' has no node filter, but the cluster has 3 nodes: add one, e.g. --k3s-arg '--tls-san=x@server:*' (or @all)");
        ClusterSpec single = ClusterSpecs.merge(ClusterOptions.none(), ClusterOptions.builder().env(List.of("A=1")).build());
        assertThat(single.env()).hasSize(1);
    }

    @Test
    void filtersMustFitTheNodeCounts() {
        ClusterOptions flags = ClusterOptions.builder().servers(1).agents(2).ports(List.of("8080:80@agent:2"))
                .env(List.of("A=1@server:1")).build();
        assertThatThrownBy(() -> ClusterSpecs.merge(ClusterOptions.none(), flags))
                .hasMessage("port '8080:80': node filter 'agent:2' selects agent 2 but the cluster has 2 agents (agent:0-1)\n"
                        + "env 'A=1': node filter 'server:1' selects server 1 but the cluster has 1 server (server:0)");
    }

    @Test
    void portsNeedTheLoadBalancerOrOneDirectNode() {
        assertThatThrownBy(() -> ClusterSpecs.merge(ClusterOptions.none(),
                ClusterOptions.builder().loadBalancer(false).ports(List.of("8080:80")).build()))
                .hasMessage("port '8080:80' is published by the load balancer, but --no-lb is set: publish it on one node instead, "
                        + "e.g. 8080:80@server:0:direct");
        ClusterSpec direct = ClusterSpecs.merge(ClusterOptions.none(),
                ClusterOptions.builder().loadBalancer(false).ports(List.of("8080:80@server:0:direct")).build());
        assertThat(direct.ports().getFirst().direct()).isTrue();
        assertThatThrownBy(() -> ClusterSpecs.merge(ClusterOptions.none(),
                ClusterOptions.builder().agents(2).ports(List.of("8080:80@agent:*:direct")).build()))
                .hasMessageContaining("':direct' must select exactly one node, but its filters select 2");
    }

    @Test
    void hostPortClashesAreFoundBeforeAnythingStarts() {
        assertThatThrownBy(() -> ClusterSpecs.merge(ClusterOptions.none(),
                ClusterOptions.builder().apiPort("6445").ports(List.of("8080:80", "127.0.0.1:8080:81", "6445:443")).build()))
                .hasMessage("port '127.0.0.1:8080:81': host port 8080/tcp is already used by port '8080:80'\n"
                        + "port '6445:443': host port 6445/tcp is already used by the API port 6445");
        // the same port number over udp is another port
        assertThat(ClusterSpecs.merge(ClusterOptions.none(), ClusterOptions.builder().ports(List.of("53:53", "53:53/udp")).build())
                .ports()).hasSize(2);
    }

    @Test
    void builderRejectsBadFlagValuesRightAway() {
        assertThatThrownBy(() -> ClusterOptions.builder().servers(0)).hasMessage("--servers 0 is not valid: expected at least 1");
        assertThatThrownBy(() -> ClusterOptions.builder().agents(-1)).hasMessage("--agents -1 is not valid: expected 0 or more");
        assertThatThrownBy(() -> ClusterOptions.builder().name("x".repeat(33))).hasMessageContaining("at most 32 are allowed");
        assertThatThrownBy(() -> ClusterOptions.builder().volumes(List.of("/does/not/exist/k3j:/x"))).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> ClusterOptions.builder().ports(List.of("8080:80@agnt[*]")))
                .hasMessage("node filter 'agnt[*]' is not valid: expected server, agent, loadbalancer or all");
        assertThatThrownBy(() -> ClusterOptions.builder().timeout("soon")).hasMessageContaining("duration 'soon' is not valid");
    }
}
