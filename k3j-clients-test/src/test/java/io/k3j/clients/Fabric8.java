package io.k3j.clients;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/** fabric8 clients configured from the admin kubeconfig k3j writes, as a user would build them. */
final class Fabric8 {
    private Fabric8() {}

    static KubernetesClient client(K3jServer server) {
        try {
            Config config = Config.fromKubeconfig(Files.readString(server.kubeconfig()));
            // fail fast when the server is away (restart tests) instead of fabric8's long default backoff
            config.setRequestRetryBackoffLimit(2);
            // watches re-connect with exponential backoff from this interval; a short one keeps restart tests short
            config.setWatchReconnectInterval(200);
            return new KubernetesClientBuilder().withConfig(config).build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
