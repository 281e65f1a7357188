package io.k3j.agent.volume;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.controllers.testing.Kubectl;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A KubeClient good enough for this package's tests: GET and POST through the real kubectl's {@code --raw} against a
 * real server, until the agent's HTTP client (io.k3j.agent.kube, another branch) is merged.
 */
final class KubectlClient implements KubeClient {

    private final Path kubeconfig;

    KubectlClient(Path kubeconfig) {
        this.kubeconfig = kubeconfig;
    }

    @Override
    public ObjectNode get(String path) {
        return answer(Kubectl.run(kubeconfig, "get", "--raw", path));
    }

    @Override
    public ObjectNode list(String collectionPath, Map<String, String> query) {
        if (!query.isEmpty()) throw new UnsupportedOperationException("query");
        return get(collectionPath);
    }

    @Override
    public ObjectNode create(String collectionPath, ObjectNode obj) {
        try {
            Path body = Files.createTempFile("k3j-volume-body", ".json");
            try {
                Files.write(body, Json.bytes(obj));
                return answer(Kubectl.run(kubeconfig, "create", "--raw", collectionPath, "-f", body.toString()));
            } finally {
                Files.delete(body);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode answer(Kubectl.Result r) {
        if (r.exit() != 0) {
            if (r.out().contains("(NotFound)")) throw ApiException.notFoundPath(r.out().trim());
            throw ApiException.internal("kubectl failed: " + r.out().trim());
        }
        return Json.parseObject(r.out().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public ObjectNode update(String path, ObjectNode obj) {
        throw new UnsupportedOperationException();
    }

    @Override
    public ObjectNode patch(String path, String contentType, String body) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void delete(String path, ObjectNode options) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Watch watch(String collectionPath, Map<String, String> query, Consumer<WatchEvent> events, Consumer<Throwable> onClose) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() { }
}
