package io.k3j.agent.volume;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The volumes of one pod, set up on the node by {@link VolumeManager#prepare}.
 *
 * @param podUid  the pod's uid
 * @param volumes by volume name
 */
public record PreparedVolumes(String podUid, Map<String, Volume> volumes) {

    public PreparedVolumes {
        Objects.requireNonNull(podUid, "podUid");
        volumes = Map.copyOf(volumes);
    }

    /** The volume named {@code name}, if the pod has it. */
    public Optional<Volume> volume(String name) {
        return Optional.ofNullable(volumes.get(name));
    }

    /**
     * One set-up volume.
     *
     * @param name     the volume's name in the pod spec
     * @param plugin   kubelet's plugin directory name: {@code kubernetes.io~empty-dir}, {@code kubernetes.io~configmap},
     *                 {@code kubernetes.io~secret}, {@code kubernetes.io~downward-api}, {@code kubernetes.io~projected},
     *                 {@code kubernetes.io~host-path}, {@code kubernetes.io~local-volume}
     * @param hostPath the directory (or, for a hostPath volume, the file) containers bind
     * @param readOnly whether every mount of it is read-only
     */
    public record Volume(String name, String plugin, Path hostPath, boolean readOnly) {

        public Volume {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(plugin, "plugin");
            Objects.requireNonNull(hostPath, "hostPath");
        }
    }
}
