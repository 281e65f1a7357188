package io.k3j.agent.edge;

import io.k3j.agent.Agent;
import io.k3j.agent.AgentConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A node agent in a process of its own, so that tests can kill it with SIGKILL. Arguments are {@code key=value}:
 * server, token, data, run, node, bridge, ready (a file written with the kubelet port once {@link Agent#start} returned).
 */
public final class AgentProcess {
    private AgentProcess() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        AgentConfig config = new AgentConfig(URI.create(a.get("server")), a.get("token"), Path.of(a.get("data")), Path.of(a.get("run")),
                a.get("node"), List.of("127.0.0.1"), Map.of(), List.of(), false, "10.43.0.10", "cluster.local", 0,
                AgentConfig.DEFAULT_PAUSE_IMAGE, false, "v1.32.0", a.get("bridge"))
                .withServices(io.k3j.agent.testing.TestNode.testServices(Path.of(a.get("data")).getParent()));
        Agent agent = Agent.start(config);
        Path ready = Path.of(a.get("ready"));
        Path tmp = ready.resolveSibling(ready.getFileName() + ".tmp");
        Files.writeString(tmp, Integer.toString(agent.kubeletPort()));
        Files.move(tmp, ready, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        System.err.println("AGENT READY kubelet port " + agent.kubeletPort());
        // runs until killed: SIGKILL in the tests (a shutdown hook would be the graceful path, not tested here)
        Thread.sleep(Long.MAX_VALUE);
    }
}
