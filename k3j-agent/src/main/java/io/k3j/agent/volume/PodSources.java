package io.k3j.agent.volume;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;

/**
 * The API objects a pod's volumes and environment are made of. Implementations may serve them from an informer
 * cache (so a node cut off from its server keeps starting pods) or straight from the API ({@link ApiPodSources}).
 * Returned objects are only read. Errors other than "not found" are thrown as they come (an
 * {@link io.k3j.api.ApiException}, or {@link io.k3j.agent.kube.KubeClient.Unreachable}).
 */
public interface PodSources {

    /** The ConfigMap, empty when it does not exist. */
    Optional<ObjectNode> configMap(String namespace, String name);

    /** The Secret (its {@code data} base64 as in the API), empty when it does not exist. */
    Optional<ObjectNode> secret(String namespace, String name);

    /** The PersistentVolumeClaim, empty when it does not exist. */
    Optional<ObjectNode> persistentVolumeClaim(String namespace, String name);

    /** The PersistentVolume, empty when it does not exist. */
    Optional<ObjectNode> persistentVolume(String name);

    /** The Services of a namespace (for the service link env vars). */
    List<ObjectNode> services(String namespace);

    /**
     * A token for the service account bound to the pod: TokenRequest ({@code POST
     * /api/v1/namespaces/{ns}/serviceaccounts/{sa}/token}) with {@code boundObjectRef} the pod.
     *
     * @param audiences         the token's audiences; empty for the API server's default
     * @param expirationSeconds the requested lifetime
     */
    ServiceAccountToken token(String namespace, String serviceAccountName, List<String> audiences, long expirationSeconds,
            String podName, String podUid);
}
