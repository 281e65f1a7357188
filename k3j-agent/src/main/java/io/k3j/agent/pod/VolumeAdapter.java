package io.k3j.agent.pod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.volume.EnvResolver;
import io.k3j.agent.volume.MountSpec;
import io.k3j.agent.volume.PodConfigException;
import io.k3j.agent.volume.PreparedVolumes;
import io.k3j.agent.volume.VolumeManager;
import java.io.IOException;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** {@link PodVolumes} over the volume package. */
final class VolumeAdapter implements PodVolumes {
    private final VolumeManager volumes;
    private final EnvResolver env;
    private final long refreshNanos;
    private final Map<String, Prepared> prepared = new ConcurrentHashMap<>();

    /** {@code stale}: a mounted configMap/secret changed since {@code at}. */
    private record Prepared(PreparedVolumes volumes, long at, boolean stale) {}

    VolumeAdapter(VolumeManager volumes, EnvResolver env, Duration refreshPeriod) {
        this.volumes = volumes;
        this.env = env;
        this.refreshNanos = refreshPeriod.toNanos();
    }

    @Override
    public void prepare(ObjectNode pod) {
        String uid = pod.path("metadata").path("uid").asText();
        Prepared p = prepared.get(uid);
        try {
            if (p == null) {
                prepared.put(uid, new Prepared(volumes.prepare(pod), System.nanoTime(), false));
            } else if (p.stale || System.nanoTime() - p.at > refreshNanos) {
                prepared.put(uid, new Prepared(p.volumes, System.nanoTime(), false));
                volumes.refresh(pod);
            }
        } catch (PodConfigException e) {
            throw new Failure(e.reason(), e.getMessage());
        }
    }

    @Override
    public List<Mount> mounts(ObjectNode pod, JsonNode container, List<Env> env) {
        Prepared p = prepared.get(pod.path("metadata").path("uid").asText());
        if (p == null) {
            prepare(pod);
            p = prepared.get(pod.path("metadata").path("uid").asText());
        }
        List<Map.Entry<String, String>> entries = new ArrayList<>();
        for (Env e : env) entries.add(new AbstractMap.SimpleImmutableEntry<>(e.name(), e.value()));
        try {
            List<Mount> out = new ArrayList<>();
            for (MountSpec m : volumes.mounts(pod, (ObjectNode) container, p.volumes, entries)) {
                String propagation = switch (m.propagation()) {
                    case HOST_TO_CONTAINER -> "HostToContainer";
                    case BIDIRECTIONAL -> "Bidirectional";
                    default -> "None";
                };
                out.add(new Mount(m.containerPath(), m.hostPath().toString(), m.readOnly(), propagation));
            }
            return out;
        } catch (PodConfigException e) {
            throw new Failure(e.reason(), e.getMessage());
        }
    }

    @Override
    public List<Env> env(ObjectNode pod, JsonNode container, String podIP, List<String> hostIPs) {
        try {
            List<Env> out = new ArrayList<>();
            for (Map.Entry<String, String> e : env.resolve(pod, (ObjectNode) container, podIP == null || podIP.isEmpty() ? List.of() : List.of(podIP), null)) {
                out.add(new Env(e.getKey(), e.getValue()));
            }
            return out;
        } catch (PodConfigException e) {
            throw new Failure(e.reason(), e.getMessage());
        }
    }

    @Override
    public void invalidate(String podUid) {
        prepared.computeIfPresent(podUid, (k, p) -> new Prepared(p.volumes, p.at, true));
    }

    @Override
    public void cleanup(String podUid) {
        prepared.remove(podUid);
        try {
            volumes.cleanup(podUid);
        } catch (IOException e) {
            throw new Failure("FailedUnmount", e.getMessage());
        }
    }
}
