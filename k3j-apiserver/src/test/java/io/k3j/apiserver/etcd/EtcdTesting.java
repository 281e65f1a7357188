package io.k3j.apiserver.etcd;

import io.k3j.apiserver.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Configurations for servers with embedded etcd that share one network namespace (loopback, distinct ports). */
public final class EtcdTesting {

    private EtcdTesting() {
    }

    /**
     * Free ports, found by binding port 0 (etcd's peer URL is announced to others, so it can't bind 0 itself).
     */
    public static int[] freePorts(int n) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) held.add(new ServerSocket(0));
            return held.stream().mapToInt(ServerSocket::getLocalPort).toArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing a listening socket does not fail
                }
            }
        }
    }

    /**
     * A server on 127.0.0.1 (API port 0) named {@code nodeName}, with etcd on {@code ports} (client, peer, metrics)
     * and no embedded etcd asked for yet.
     */
    public static ServerConfig config(Path dataDir, String nodeName, int[] ports) {
        ServerConfig d = ServerConfig.defaults(dataDir);
        return new ServerConfig(dataDir, "127.0.0.1", 0, "", List.of(), null, "0600", null, "",
                d.clusterCidr(), d.serviceCidr(), d.clusterDns(), d.clusterDomain(), nodeName, List.of("127.0.0.1"),
                null, null, null, EtcdOptions.defaults().withPorts(ports[0], ports[1], ports[2]));
    }
}
