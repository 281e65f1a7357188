package io.k3j.apiserver.robustness;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * A k3j server in a process of its own, for tests that kill it: {@code ServerProcessMain <data-dir> <ready-file>}
 * starts the control plane on 127.0.0.1 (a free port), writes the admin kubeconfig into the data dir, then
 * writes the port into {@code ready-file} (atomically) and serves until killed.
 */
public final class ServerProcessMain {
    private ServerProcessMain() {}

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        Path readyFile = Path.of(args[1]);
        ServerConfig defaults = ServerConfig.defaults(dataDir);
        ServerConfig config = new ServerConfig(dataDir, "127.0.0.1", 0, "", List.of(), dataDir.resolve("kubeconfig.yaml"), "0600",
                null, "", defaults.clusterCidr(), defaults.serviceCidr(), defaults.clusterDns(), defaults.clusterDomain(), "", List.of());
        ControlPlane server = ControlPlane.start(config);
        Path tmp = readyFile.resolveSibling(readyFile.getFileName() + ".tmp");
        Files.writeString(tmp, Integer.toString(server.port()), StandardCharsets.US_ASCII);
        Files.move(tmp, readyFile, StandardCopyOption.ATOMIC_MOVE);
        Thread.currentThread().join();
    }
}
