package io.k3j.agent.volume;

/**
 * A pod's volumes or a container's environment cannot be prepared. The message is kubelet's own text
 * ({@code couldn't find key X in ConfigMap ns/name}, {@code MountVolume.SetUp failed for volume "v" : configmap "x"
 * not found}) so the pod worker can put it into the container's waiting state or an event unchanged; {@link #reason()}
 * says which: {@link #CREATE_CONTAINER_CONFIG_ERROR} (the container's waiting reason) or {@link #FAILED_MOUNT} (a
 * Warning event on the pod, which stays ContainerCreating and is retried).
 */
public final class PodConfigException extends RuntimeException {

    /** Waiting reason of a container whose environment (or subPath) cannot be resolved. */
    public static final String CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError";
    /** Event reason of a volume that cannot be set up. */
    public static final String FAILED_MOUNT = "FailedMount";

    private final String reason;

    public PodConfigException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    public PodConfigException(String reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /** {@link #CREATE_CONTAINER_CONFIG_ERROR} or {@link #FAILED_MOUNT}. */
    public String reason() {
        return reason;
    }

    static PodConfigException config(String message) {
        return new PodConfigException(CREATE_CONTAINER_CONFIG_ERROR, message);
    }

    static PodConfigException mount(String volume, String message) {
        return new PodConfigException(FAILED_MOUNT, "MountVolume.SetUp failed for volume \"" + volume + "\" : " + message);
    }
}
