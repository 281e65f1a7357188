package io.k3j.cluster.spec;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Single flag values: --port, --volume, --env, --k3s-arg, --k3s-node-label, names, --api-port, --subnet, --timeout. */
class FlagValuesTest {
    private Path dir;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("k3j-spec");
    }

    @AfterEach
    void tearDown() throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "80                        | 0.0.0.0   | 0    | 80   | tcp | 0",
        "8080:80                   | 0.0.0.0   | 8080 | 80   | tcp | 0",
        "8080:80@loadbalancer      | 0.0.0.0   | 8080 | 80   | tcp | 0",
        "8080:80@all               | 0.0.0.0   | 8080 | 80   | tcp | 0",
        "127.0.0.1:6550:6443       | 127.0.0.1 | 6550 | 6443 | tcp | 0",
        "127.0.0.1::80             | 127.0.0.1 | 0    | 80   | tcp | 0",
        "5353:53/udp               | 0.0.0.0   | 5353 | 53   | udp | 0",
        "[::1]:8443:443/TCP        | ::1       | 8443 | 443  | tcp | 0",
        "9000:9000@agent:0         | 0.0.0.0   | 9000 | 9000 | tcp | 1",
        "9000:9000@agent:0;agent:1 | 0.0.0.0   | 9000 | 9000 | tcp | 2",
        "30080:80@server:0:direct  | 0.0.0.0   | 30080| 80   | tcp | 1",
    })
    void ports(String flag, String host, int hostPort, int nodePort, String proto, int filters) {
        PortMapping p = PortMapping.parse(flag);
        assertThat(p.hostIp()).isEqualTo(host);
        assertThat(p.hostPort()).isEqualTo(hostPort);
        assertThat(p.nodePort()).isEqualTo(nodePort);
        assertThat(p.protocol()).isEqualTo(proto);
        assertThat(p.filters()).hasSize(filters);
        assertThat(p.direct()).isEqualTo(flag.endsWith(":direct"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "8080:80/sctp              | protocol 'sctp' is not tcp or udp",
        "8080:http                 | node port 'http' is not a number",
        "70000:80                  | host port 70000 is out of range (expected 1-65535)",
        "8080-8090:80-90           | port ranges ('8080-8090') are not supported",
        "myhost:8080:80            | host 'myhost' is not an IPv4 address",
        "1:2:3:4                   | expected [HOST:][HOSTPORT:]NODEPORT",
        "8080:80@agnt[*]           | node filter 'agnt[*]' is not valid: expected server, agent, loadbalancer or all",
        "8080:80@loadbalancer:direct | ':direct' needs one server or agent",
        "8080:80@                  | ends in '@' but names no node filter",
        "8080:80@agent:0@agent:1   | more than one '@'",
    })
    void badPorts(String flag, String why) {
        assertThatThrownBy(() -> PortMapping.parse(flag)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(why);
    }

    @Test
    void volumes() throws IOException {
        Path code = Files.createDirectory(dir.resolve("code"));
        VolumeMount v = VolumeMount.parse(code + ":/code@agent[*]");
        assertThat(v.source()).isEqualTo(code);
        assertThat(v.destination()).isEqualTo(Path.of("/code"));
        assertThat(v.readOnly()).isFalse();
        assertThat(v.filters()).extracting(NodeFilter::text).containsExactly("agent[*]");

        VolumeMount ro = VolumeMount.parse("code:/srv/code:ro@server:0;agent:1", dir);
        assertThat(ro.source()).isEqualTo(code);
        assertThat(ro.readOnly()).isTrue();
        assertThat(ro.filters()).hasSize(2);
        assertThat(VolumeMount.parse(code + ":/code:rw").filters()).isEmpty();
    }

    @Test
    void volumeErrorsNameTheProblem() throws IOException {
        Path code = Files.createDirectory(dir.resolve("code"));
        assertThatThrownBy(() -> VolumeMount.parse(dir.resolve("missing") + ":/code"))
                .hasMessage("volume '" + dir.resolve("missing") + ":/code' is not valid: source " + dir.resolve("missing")
                        + " does not exist (create it first; k3j mounts host paths, not named volumes)");
        assertThatThrownBy(() -> VolumeMount.parse(code + ":code")).hasMessageContaining("destination 'code' is not an absolute path");
        assertThatThrownBy(() -> VolumeMount.parse(code + ":/code:z")).hasMessageContaining("mode 'z' is not ro or rw");
        assertThatThrownBy(() -> VolumeMount.parse(code.toString())).hasMessageContaining("expected SRC:DEST[:ro|rw][@NODEFILTER]");
        assertThatThrownBy(() -> VolumeMount.parse(code + ":/code@loadbalancer")).hasMessageContaining("the load balancer is not a k3j node");
        assertThatThrownBy(() -> VolumeMount.parse(code + ":/code@agent:0:direct")).hasMessageContaining("only ports take");
    }

    @Test
    void envArgsAndLabels() {
        NodeSetting e = NodeSetting.parseEnv("HTTP_PROXY=http://proxy:3128@agent:*");
        assertThat(e.value()).isEqualTo("HTTP_PROXY=http://proxy:3128");
        assertThat(e.key()).isEqualTo("HTTP_PROXY");
        assertThat(e.filters()).extracting(NodeFilter::text).containsExactly("agent:*");
        // k3s args keep every '=' and take a literal '@' as '\@'
        NodeSetting a = NodeSetting.parseArg("--node-taint=key=value:NoSchedule@server:0");
        assertThat(a.value()).isEqualTo("--node-taint=key=value:NoSchedule");
        assertThat(NodeSetting.parseArg("--tls-san=my.host.domain").filters()).isEmpty();
        assertThat(NodeSetting.parseArg("--kubelet-arg=x=me\\@home@agent:0").value()).isEqualTo("--kubelet-arg=x=me@home");
        NodeSetting l = NodeSetting.parseLabel("example.com/tier=frontend@agent:0,1");
        assertThat(l.key()).isEqualTo("example.com/tier");
        assertThat(l.filters().getFirst().text()).isEqualTo("agent:0,1");
        assertThat(NodeSetting.parseLabel("flag@agent:0").value()).isEqualTo("flag=");
    }

    @Test
    void badEnvArgsAndLabels() {
        assertThatThrownBy(() -> NodeSetting.parseEnv("NOVALUE@all")).hasMessageContaining("expected KEY=VALUE[@NODEFILTER]");
        assertThatThrownBy(() -> NodeSetting.parseEnv("1X=y")).hasMessageContaining("'1X' is not a variable name");
        assertThatThrownBy(() -> NodeSetting.parseArg("@server:0")).hasMessageContaining("k3s arg '@server:0' is empty");
        assertThatThrownBy(() -> NodeSetting.parseArg("--a@b@server:0")).hasMessageContaining("more than one '@'");
        assertThatThrownBy(() -> NodeSetting.parseLabel("bad key=x")).hasMessageContaining("key 'bad key' is not a label key");
        assertThatThrownBy(() -> NodeSetting.parseLabel("k=-x-")).hasMessageContaining("value '-x-' is not a label value");
        assertThatThrownBy(() -> NodeSetting.parseEnv("A=b@agent[x]")).hasMessageContaining("node filter 'agent[x]' is not valid");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "mycluster",
        "a",
        "dev-1",
        "abcdefghijklmnopqrstuvwxyz012345",
    })
    void goodNames(String name) {
        assertThat(ClusterSpecs.validateName(name)).isEqualTo(name);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "abcdefghijklmnopqrstuvwxyz0123456 | is 33 characters long: at most 32 are allowed",
        "My_Cluster                        | is not valid: use lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. my-cluster)",
        "-dev                              | is not valid",
        "dev.local                         | is not valid",
    })
    void badNames(String name, String why) {
        assertThatThrownBy(() -> ClusterSpecs.validateName(name)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("cluster name '" + name + "' " + why);
    }

    @Test
    void apiPort() {
        assertThat(ClusterSpecs.parseApiPort("6445")).isEqualTo(new ClusterSpecs.HostPort("0.0.0.0", 6445));
        assertThat(ClusterSpecs.parseApiPort("127.0.0.1:6445")).isEqualTo(new ClusterSpecs.HostPort("127.0.0.1", 6445));
        assertThat(ClusterSpecs.parseApiPort("localhost:6550")).isEqualTo(new ClusterSpecs.HostPort("localhost", 6550));
        assertThat(ClusterSpecs.parseApiPort("0.0.0.0:random")).isEqualTo(new ClusterSpecs.HostPort("0.0.0.0", 0));
        assertThatThrownBy(() -> ClusterSpecs.parseApiPort("127.0.0.1:http")).hasMessageContaining("port 'http' is not a number");
        assertThatThrownBy(() -> ClusterSpecs.parseApiPort("99999")).hasMessageContaining("port 99999 is out of range");
        assertThatThrownBy(() -> ClusterSpecs.parseApiPort("bad_host:6443")).hasMessageContaining("'bad_host' is not an IP address or host name");
    }

    @Test
    void subnet() {
        assertThat(ClusterSpecs.parseSubnet("172.28.0.0/16")).isEqualTo("172.28.0.0/16");
        assertThat(ClusterSpecs.parseSubnet("auto")).isEqualTo("auto");
        assertThatThrownBy(() -> ClusterSpecs.parseSubnet("172.28.0.1/16")).hasMessage("subnet '172.28.0.1/16' has host bits set: did you mean 172.28.0.0/16?");
        assertThatThrownBy(() -> ClusterSpecs.parseSubnet("172.28.0.0")).hasMessageContaining("expected an IPv4 CIDR such as 172.28.0.0/16");
        assertThatThrownBy(() -> ClusterSpecs.parseSubnet("10.0.0.0/30")).hasMessageContaining("prefix /30 is outside /8../28");
        assertThatThrownBy(() -> ClusterSpecs.parseSubnet("300.0.0.0/16")).hasMessageContaining("expected an IPv4 CIDR");
    }

    @Test
    void goDurations() {
        assertThat(ClusterSpecs.parseDuration("60s")).isEqualTo(Duration.ofSeconds(60));
        assertThat(ClusterSpecs.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(ClusterSpecs.parseDuration("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(ClusterSpecs.parseDuration("1.5h")).isEqualTo(Duration.ofMinutes(90));
        assertThat(ClusterSpecs.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(ClusterSpecs.parseDuration("1h2m3s4ms5us6ns")).isEqualTo(Duration.ofHours(1).plusMinutes(2).plusSeconds(3).plusMillis(4).plusNanos(5006));
        assertThat(ClusterSpecs.parseDuration("0")).isZero();
        for (String bad : List.of("60", "1x", "s", "", "1m30", ".s", "1 m")) {
            assertThatThrownBy(() -> ClusterSpecs.parseDuration(bad)).as(bad).hasMessageContaining("expected a number with a unit");
        }
        assertThatThrownBy(() -> ClusterSpecs.parseDuration("-5s")).hasMessage("duration '-5s' is negative");
    }
}
