package io.k3j.cluster.spec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NodeFilterTest {
    /** The nodes of a 3-server, 3-agent cluster plus its load balancer, as "server:0"... that the filter selects. */
    private static List<String> selected(NodeFilter f) {
        List<String> out = new ArrayList<>();
        for (NodeRole r : NodeRole.values()) {
            int n = r == NodeRole.LOADBALANCER ? 1 : 3;
            for (int i = 0; i < n; i++) {
                if (f.matches(new NodeRef(r, i))) out.add(r == NodeRole.LOADBALANCER ? "loadbalancer" : r.word() + ":" + i);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} selects {1}")
    @CsvSource(delimiter = '|', value = {
        "server:0      | server:0",
        "server:*      | server:0 server:1 server:2",
        "server        | server:0 server:1 server:2",
        "servers:*     | server:0 server:1 server:2",
        "agent:0,1     | agent:0 agent:1",
        "agent:0,      | agent:0",
        "agent:2,0,2   | agent:0 agent:2",
        "server:1-2    | server:1 server:2",
        "server:1-     | server:1 server:2",
        "agent:-1      | agent:0 agent:1",
        "agent:-       | agent:0 agent:1 agent:2",
        "loadbalancer  | loadbalancer",
        "all           | server:0 server:1 server:2 agent:0 agent:1 agent:2 loadbalancer",
        "all:*         | server:0 server:1 server:2 agent:0 agent:1 agent:2 loadbalancer",
        "agent[*]      | agent:0 agent:1 agent:2",
        "server[0]     | server:0",
        "agent[0,1]    | agent:0 agent:1",
        "server[1:2]   | server:1 server:2",
        "server[:1]    | server:0 server:1",
        "AGENT:1       | agent:1",
    })
    void selects(String filter, String expected) {
        NodeFilter f = NodeFilter.parse(filter);
        assertThat(String.join(" ", selected(f))).isEqualTo(expected);
        assertThat(f.suffix()).isNull();
        assertThat(f.text()).isEqualTo(filter);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "server:0:direct     | direct | server:0",
        "agent:*:proxy       | proxy  | agent:0 agent:1 agent:2",
        "loadbalancer:proxy  | proxy  | loadbalancer",
        "agent[1]:direct     | direct | agent:1",
        "agents:0-1:PROXY    | proxy  | agent:0 agent:1",
    })
    void portSuffix(String filter, String suffix, String expected) {
        NodeFilter f = NodeFilter.parse(filter);
        assertThat(f.suffix()).isEqualTo(suffix);
        assertThat(String.join(" ", selected(f))).isEqualTo(expected);
    }

    @Test
    void severalJoinedWithSemicolon() {
        List<NodeFilter> fs = NodeFilter.parseAll("server:0;agent:*");
        assertThat(fs).extracting(NodeFilter::text).containsExactly("server:0", "agent:*");
        assertThat(selected(fs.get(1))).containsExactly("agent:0", "agent:1", "agent:2");
        assertThatThrownBy(() -> NodeFilter.parseAll("server:0;"))
                .hasMessageContaining("has an empty part");
        assertThatThrownBy(() -> NodeFilter.parse("server:0;agent:0"))
                .hasMessageContaining("holds several filters");
    }

    @Test
    void unknownRoleNamesTheFix() {
        assertThatThrownBy(() -> NodeFilter.parse("agnt[*]"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("node filter 'agnt[*]' is not valid: expected server, agent, loadbalancer or all");
        assertThatThrownBy(() -> NodeFilter.parse("worker:0"))
                .hasMessage("node filter 'worker:0' is not valid: expected server, agent, loadbalancer or all");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "server:1x      | expected server, server:0, server:0,1, server:0-2 or server:*",
        "agent[0        | expected agent, agent:0",
        "server:2-1     | range end 1 is before its start 2",
        "server[2:1]    | range end 1 is before its start 2",
        "agent:0:sideways | unknown suffix ':sideways' (expected :proxy or :direct)",
        "loadbalancer:0 | 'loadbalancer' takes no index",
        "all:1          | 'all' takes no index",
        "server:99999999999 | index '99999999999' is too large",
    })
    void invalidFiltersSayWhy(String filter, String why) {
        assertThatThrownBy(() -> NodeFilter.parse(filter))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("node filter '" + filter + "' is not valid: ")
                .hasMessageContaining(why);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  "})
    void emptyFilter(String filter) {
        assertThatThrownBy(() -> NodeFilter.parse(filter)).hasMessageContaining("node filter is empty");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "agent[*]        | agent:*",
        "server[0]       | server:0",
        "agent[0,1]      | agent:0,1",
        "server[1:2]     | server:1-2",
        "server[1:]      | server:1-",
        "loadbalancer    | loadbalancer",
        "all             | all",
        "agent:0:direct  | agent:0:direct",
    })
    void writesV5(String filter, String v5) {
        assertThat(NodeFilter.parse(filter).toV5()).isEqualTo(v5);
        assertThat(selected(NodeFilter.parse(v5))).isEqualTo(selected(NodeFilter.parse(filter)));
    }

    @Test
    void indicesBeyondTheClusterAreReported() {
        assertThat(NodeFilter.parse("agent:0,2").outOfRange(1, 2)).isEqualTo("node filter 'agent:0,2' selects agent 2 but the cluster has 2 agents (agent:0-1)");
        assertThat(NodeFilter.parse("agent:0").outOfRange(1, 0)).isEqualTo("node filter 'agent:0' selects agent 0 but the cluster has no agents");
        assertThat(NodeFilter.parse("server:1-").outOfRange(1, 0)).contains("selects server 1 but the cluster has 1 server (server:0)");
        assertThat(NodeFilter.parse("agent:*").outOfRange(1, 0)).isNull();
        assertThat(NodeFilter.parse("server:0-2").outOfRange(3, 0)).isNull();
    }
}
