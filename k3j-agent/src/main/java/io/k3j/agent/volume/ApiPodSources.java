package io.k3j.agent.volume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.Json;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * {@link PodSources} read straight from the API server through {@link KubeClient}: every call is a request. The
 * agent may put an informer-backed implementation in front of it for ConfigMaps, Secrets and Services; tokens always
 * come from TokenRequest.
 */
public final class ApiPodSources implements PodSources {

    private final KubeClient client;
    private final Clock clock;

    public ApiPodSources(KubeClient client, Clock clock) {
        this.client = Objects.requireNonNull(client, "client");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Optional<ObjectNode> configMap(String namespace, String name) {
        return client.find("/api/v1/namespaces/" + namespace + "/configmaps/" + name);
    }

    @Override
    public Optional<ObjectNode> secret(String namespace, String name) {
        return client.find("/api/v1/namespaces/" + namespace + "/secrets/" + name);
    }

    @Override
    public Optional<ObjectNode> persistentVolumeClaim(String namespace, String name) {
        return client.find("/api/v1/namespaces/" + namespace + "/persistentvolumeclaims/" + name);
    }

    @Override
    public Optional<ObjectNode> persistentVolume(String name) {
        return client.find("/api/v1/persistentvolumes/" + name);
    }

    @Override
    public List<ObjectNode> services(String namespace) {
        ObjectNode list = client.list("/api/v1/namespaces/" + namespace + "/services", Map.of());
        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode item : list.path("items")) if (item instanceof ObjectNode o) out.add(o);
        return out;
    }

    /** TokenRequest bound to the pod (so the token dies with it), as kubelet's token manager sends it. */
    @Override
    public ServiceAccountToken token(String namespace, String serviceAccountName, List<String> audiences,
            long expirationSeconds, String podName, String podUid) {
        ObjectNode request = Json.object();
        request.put("apiVersion", "authentication.k8s.io/v1");
        request.put("kind", "TokenRequest");
        ObjectNode spec = request.putObject("spec");
        ArrayNode aud = spec.putArray("audiences");
        audiences.forEach(aud::add);
        spec.put("expirationSeconds", expirationSeconds);
        ObjectNode ref = spec.putObject("boundObjectRef");
        ref.put("apiVersion", "v1");
        ref.put("kind", "Pod");
        ref.put("name", podName);
        ref.put("uid", podUid);
        Instant issued = clock.instant();
        ObjectNode answer = client.create("/api/v1/namespaces/" + namespace + "/serviceaccounts/" + serviceAccountName + "/token", request);
        String token = answer.path("status").path("token").asText("");
        String expires = answer.path("status").path("expirationTimestamp").asText("");
        if (token.isEmpty()) throw new IllegalStateException("TokenRequest for " + namespace + "/" + serviceAccountName + " returned no token");
        Instant expiresAt = expires.isEmpty() ? issued.plusSeconds(expirationSeconds) : Instant.parse(expires);
        return new ServiceAccountToken(token, issued, expiresAt);
    }
}
