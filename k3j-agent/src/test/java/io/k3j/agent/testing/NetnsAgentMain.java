package io.k3j.agent.testing;

import io.k3j.agent.Agent;
import io.k3j.agent.AgentConfig;
import io.k3j.agent.eviction.Thresholds;
import io.k3j.agent.network.PodNetwork;
import io.k3j.apiserver.endpoints.VersionInfo;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent of a {@link NetnsNodes} node, in a JVM of its own that runs inside the node's network namespace.
 * Arguments are {@code key=value}: server, token, data, run, node, ip, bridge, backend, ready (a file written with the
 * kubelet port once {@link Agent#start} returned). A line {@code killall} on stdin, or stdin's end (the test JVM
 * died), removes every pod and the pod network ({@link Agent#killAll()}, {@link PodNetwork#remove}) and exits 0.
 */
public final class NetnsAgentMain {
    private NetnsAgentMain() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        AgentConfig config = new AgentConfig(URI.create(a.get("server")), a.get("token"), Path.of(a.get("data")), Path.of(a.get("run")),
                a.get("node"), List.of(a.get("ip")), Map.of(), List.of(), false, "10.43.0.10", "cluster.local", 0,
                AgentConfig.DEFAULT_PAUSE_IMAGE, false, VersionInfo.KUBERNETES_VERSION, a.get("bridge"), AgentConfig.DEFAULT_PRIVATE_REGISTRY,
                Thresholds.DEFAULTS).withNetwork(a.get("backend"), null, null)
                .withServices(TestNode.testServices(Path.of(a.get("data")).getParent()));
        Agent agent = Agent.start(config);
        Path ready = Path.of(a.get("ready"));
        Path tmp = ready.resolveSibling(ready.getFileName() + ".tmp");
        Files.writeString(tmp, Integer.toString(agent.kubeletPort()));
        Files.move(tmp, ready, StandardCopyOption.ATOMIC_MOVE);
        System.err.println("AGENT READY kubelet port " + agent.kubeletPort());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        do {
            line = in.readLine();
        } while (line != null && !line.strip().equals("killall"));
        System.err.println(line == null ? "stdin closed: killing all" : "killing all");
        int exit = 0;
        try {
            agent.killAll();
        } catch (RuntimeException e) {
            e.printStackTrace();
            exit = 1;
        }
        try {
            PodNetwork.remove(config.networkTable(), config.cniBridge(), config.vxlanDevice());
        } catch (RuntimeException e) {
            e.printStackTrace();
            exit = 1;
        }
        System.err.println("KILLED");
        System.exit(exit);
    }
}
