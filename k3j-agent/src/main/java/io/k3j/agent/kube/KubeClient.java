package io.k3j.agent.kube;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The agent's view of the API server: plain REST on paths as kubectl sends them
 * ({@code /api/v1/namespaces/ns/pods/name}, {@code /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases}).
 * Objects are JSON trees. A 4xx/5xx answer is thrown as the server's {@link ApiException} (code, reason, message);
 * a server that cannot be reached throws {@link Unreachable}, so callers can tell "refused" from "offline".
 */
public interface KubeClient extends AutoCloseable {

    /** The object at {@code path}; {@link ApiException} 404 when it does not exist. */
    ObjectNode get(String path);

    /** The object at {@code path}, or empty on 404. */
    default Optional<ObjectNode> find(String path) {
        try {
            return Optional.of(get(path));
        } catch (ApiException e) {
            if (e.code() == 404) return Optional.empty();
            throw e;
        }
    }

    /** A list ({@code kind: XList} with {@code items} and {@code metadata.resourceVersion}); query e.g. fieldSelector. */
    ObjectNode list(String collectionPath, Map<String, String> query);

    /** POST to a collection (or a subresource such as {@code .../serviceaccounts/x/token}). */
    ObjectNode create(String collectionPath, ObjectNode obj);

    /** PUT (the object's resourceVersion guards it: 409 on conflict). */
    ObjectNode update(String path, ObjectNode obj);

    /** PATCH with the given content type: {@code application/merge-patch+json}, {@code application/strategic-merge-patch+json}, {@code application/json-patch+json}. */
    ObjectNode patch(String path, String contentType, String body);

    /** DELETE with optional {@code DeleteOptions} (null for none). */
    void delete(String path, ObjectNode options);

    /**
     * Watches a collection from {@code query.resourceVersion}, handing each event to {@code events} on the watch's own
     * thread until closed or until the server ends the stream ({@code onClose} then runs with the cause, or null).
     */
    Watch watch(String collectionPath, Map<String, String> query, Consumer<WatchEvent> events, Consumer<Throwable> onClose);

    @Override
    void close();

    /** One watch event: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (object is then a Status). */
    record WatchEvent(String type, ObjectNode object) { }

    /** A running watch. */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    /** The server could not be reached (connection refused, timeout, TLS failure before any answer). */
    final class Unreachable extends RuntimeException {
        public Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
