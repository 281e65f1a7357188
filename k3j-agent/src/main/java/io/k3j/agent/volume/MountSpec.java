package io.k3j.agent.volume;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One bind mount of a container, what CRI's {@code Mount} carries.
 *
 * @param hostPath       the file or directory on the node (for a subPath, resolved with symlinks followed and checked
 *                       to stay inside its volume)
 * @param containerPath  where it appears in the container ({@code volumeMounts[].mountPath})
 * @param readOnly       the mount's readOnly, or a volume that is always read-only (configMap, secret, downwardAPI,
 *                       projected, a read-only claim)
 * @param propagation    {@code mountPropagation}
 * @param selinuxRelabel always false: k3j does not label volumes
 */
public record MountSpec(Path hostPath, String containerPath, boolean readOnly, Propagation propagation, boolean selinuxRelabel) {

    public MountSpec {
        Objects.requireNonNull(hostPath, "hostPath");
        Objects.requireNonNull(containerPath, "containerPath");
        Objects.requireNonNull(propagation, "propagation");
    }

    /** Mount propagation, named as CRI's MountPropagation values. */
    public enum Propagation {
        /** {@code None} (the default): PROPAGATION_PRIVATE. */
        PRIVATE,
        /** {@code HostToContainer}: PROPAGATION_HOST_TO_CONTAINER (rslave). */
        HOST_TO_CONTAINER,
        /** {@code Bidirectional}: PROPAGATION_BIDIRECTIONAL (rshared), privileged containers only. */
        BIDIRECTIONAL
    }
}
