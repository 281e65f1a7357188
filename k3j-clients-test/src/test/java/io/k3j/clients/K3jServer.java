package io.k3j.clients;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;

/**
 * A real k3j control plane in this JVM, on loopback, with its SQLite datastore under a data dir the test owns, so
 * it can be stopped and started again on the same state and port (what a server restart looks like to a client).
 */
final class K3jServer implements AutoCloseable {
    private final Path dataDir;
    private final Path kubeconfig;
    private final int port;
    private ControlPlane controlPlane;

    private K3jServer(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.kubeconfig = dataDir.resolve("kubeconfig.yaml");
        this.port = port;
    }

    /** Starts a server on a free loopback port with its state in {@code dataDir}. */
    static K3jServer start(Path dataDir) {
        return start(dataDir, freePort());
    }

    /** Starts a server on {@code port} with its state in {@code dataDir}. */
    static K3jServer start(Path dataDir, int port) {
        K3jServer server = new K3jServer(dataDir, port);
        server.startControlPlane();
        return server;
    }

    /** A free loopback port. */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free loopback port", e);
        }
    }

    private void startControlPlane() {
        ServerConfig config = ServerConfig.defaults(dataDir)
                .withPort(port)
                .withKubeconfig(kubeconfig);
        config = new ServerConfig(config.dataDir(), "127.0.0.1", config.httpsPort(), config.advertiseAddress(), config.tlsSans(),
                config.writeKubeconfig(), config.writeKubeconfigMode(), config.token(), config.datastoreEndpoint(),
                config.clusterCidr(), config.serviceCidr(), config.clusterDns(), config.clusterDomain(), config.nodeName(),
                config.nodeIps());
        controlPlane = ControlPlane.start(config);
    }

    /** Stops the control plane; the data dir stays. */
    void stop() {
        if (controlPlane != null) {
            controlPlane.close();
            controlPlane = null;
        }
    }

    /** Stops (if running) and starts a new control plane on the same data dir and port. */
    void restart() {
        stop();
        startControlPlane();
    }

    Path kubeconfig() {
        return kubeconfig;
    }

    int port() {
        return port;
    }

    ControlPlane controlPlane() {
        return controlPlane;
    }

    @Override
    public void close() {
        stop();
    }
}
