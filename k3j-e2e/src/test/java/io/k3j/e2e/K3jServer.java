package io.k3j.e2e;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A real k3j control plane in this JVM: embedded SQLite under a fresh temporary data dir, HTTPS on a free
 * loopback port, and the admin kubeconfig k3s would write. One per test class; {@link #close()} stops it and
 * removes the data dir.
 */
final class K3jServer implements AutoCloseable {
    private final Path dir;
    private final ControlPlane controlPlane;
    private final Path kubeconfig;

    private K3jServer(Path dir, ControlPlane controlPlane, Path kubeconfig) {
        this.dir = dir;
        this.controlPlane = controlPlane;
        this.kubeconfig = kubeconfig;
    }

    /**
     * @throws ControlPlane.StartupException when a startup step fails
     * @throws UncheckedIOException when the temporary directory cannot be created
     */
    static K3jServer start() {
        try {
            Path dir = Files.createTempDirectory("k3j-e2e-");
            Path kubeconfig = dir.resolve("kubeconfig.yaml");
            ServerConfig config = ServerConfig.defaults(dir.resolve("data"))
                    .withPort(0)
                    .withKubeconfig(kubeconfig);
            config = new ServerConfig(config.dataDir(), "127.0.0.1", config.httpsPort(), config.advertiseAddress(), config.tlsSans(),
                    config.writeKubeconfig(), config.writeKubeconfigMode(), config.token(), config.datastoreEndpoint(),
                    config.clusterCidr(), config.serviceCidr(), config.clusterDns(), config.clusterDomain(), config.nodeName(),
                    config.nodeIps());
            return new K3jServer(dir, ControlPlane.start(config), kubeconfig);
        } catch (IOException e) {
            throw new UncheckedIOException("creating the server's temporary directory", e);
        }
    }

    Path kubeconfig() {
        return kubeconfig;
    }

    /** A directory that lives as long as the server, for manifests, kubectl's cache and editor scripts. */
    Path workDir() {
        return dir;
    }

    int port() {
        return controlPlane.port();
    }

    @Override
    public void close() {
        controlPlane.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temp dir is not worth failing a test run for
        }
    }
}
