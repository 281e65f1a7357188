package io.k3j.agent.volume;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** PodSources held in maps, for file-system tests; tokens are numbered so a rotation is visible. */
final class MemorySources implements PodSources {

    final Map<String, ObjectNode> objects = new ConcurrentHashMap<>();
    final AtomicInteger tokensIssued = new AtomicInteger();
    final List<String> tokenRequests = new ArrayList<>();
    private final Clock clock;

    MemorySources(Clock clock) {
        this.clock = clock;
    }

    MemorySources configMap(String ns, String name, Map<String, String> data) {
        ObjectNode cm = Json.object();
        cm.putObject("metadata").put("namespace", ns).put("name", name);
        ObjectNode d = cm.putObject("data");
        data.forEach(d::put);
        objects.put("configmaps/" + ns + "/" + name, cm);
        return this;
    }

    MemorySources secret(String ns, String name, Map<String, String> plain) {
        ObjectNode s = Json.object();
        s.putObject("metadata").put("namespace", ns).put("name", name);
        ObjectNode d = s.putObject("data");
        plain.forEach((k, v) -> d.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        objects.put("secrets/" + ns + "/" + name, s);
        return this;
    }

    MemorySources put(String key, String yaml) {
        objects.put(key, (ObjectNode) Json.parseYamlOrJson(yaml.getBytes(StandardCharsets.UTF_8)));
        return this;
    }

    @Override
    public Optional<ObjectNode> configMap(String namespace, String name) {
        return Optional.ofNullable(objects.get("configmaps/" + namespace + "/" + name));
    }

    @Override
    public Optional<ObjectNode> secret(String namespace, String name) {
        return Optional.ofNullable(objects.get("secrets/" + namespace + "/" + name));
    }

    @Override
    public Optional<ObjectNode> persistentVolumeClaim(String namespace, String name) {
        return Optional.ofNullable(objects.get("persistentvolumeclaims/" + namespace + "/" + name));
    }

    @Override
    public Optional<ObjectNode> persistentVolume(String name) {
        return Optional.ofNullable(objects.get("persistentvolumes/" + name));
    }

    @Override
    public List<ObjectNode> services(String namespace) {
        List<ObjectNode> out = new ArrayList<>();
        objects.forEach((k, v) -> {
            if (k.startsWith("services/" + namespace + "/")) out.add(v);
        });
        out.sort((a, b) -> a.path("metadata").path("name").asText().compareTo(b.path("metadata").path("name").asText()));
        return out;
    }

    @Override
    public synchronized ServiceAccountToken token(String namespace, String serviceAccountName, List<String> audiences,
            long expirationSeconds, String podName, String podUid) {
        int n = tokensIssued.incrementAndGet();
        tokenRequests.add(namespace + "/" + serviceAccountName + " aud=" + audiences + " exp=" + expirationSeconds
                + " pod=" + podName + "/" + podUid);
        Instant now = clock.instant();
        return new ServiceAccountToken("token-" + n, now, now.plusSeconds(expirationSeconds));
    }
}
