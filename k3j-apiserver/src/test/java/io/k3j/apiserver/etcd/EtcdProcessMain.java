package io.k3j.apiserver.etcd;

import io.k3j.apiserver.ServerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;

/**
 * An embedded etcd member in a JVM of its own, for tests that kill that JVM:
 * {@code EtcdProcessMain <data-dir> <client-port> <peer-port> <metrics-port> <ready-file>} starts the member with
 * {@code --cluster-init}, writes {@code <etcd pid> <member name>} into the ready file (atomically), then waits.
 */
public final class EtcdProcessMain {
    private EtcdProcessMain() {}

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        ServerConfig config = EtcdTesting.config(dataDir, "killed", new int[] {Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                Integer.parseInt(args[3])});
        EmbeddedEtcd etcd = EmbeddedEtcd.start(config.withEtcd(config.etcd().withClusterInit(true)), Clock.systemUTC());
        Path ready = Path.of(args[4]);
        Path tmp = ready.resolveSibling(ready.getFileName() + ".tmp");
        Files.writeString(tmp, etcd.pid() + " " + etcd.memberName(), StandardCharsets.US_ASCII);
        Files.move(tmp, ready, StandardCopyOption.ATOMIC_MOVE);
        Thread.currentThread().join();
    }
}
