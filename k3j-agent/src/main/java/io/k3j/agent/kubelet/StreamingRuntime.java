package io.k3j.agent.kubelet;

import java.net.URI;
import java.util.List;

/**
 * What the kubelet API needs from the container runtime for exec, attach and port-forward: CRI's Exec, Attach
 * and PortForward RPCs, which answer with a one-time URL on the runtime's streaming server (containerd's speaks
 * SPDY/3.1 with the v1–v4 remotecommand protocols and portforward.k8s.io).
 */
public interface StreamingRuntime {

    /**
     * A URL that runs {@code command} in the container once, with the streams asked for.
     *
     * @throws RuntimeStreamingException when the runtime refuses (container not running, unknown id)
     */
    URI exec(String containerId, List<String> command, boolean tty, boolean stdin, boolean stdout, boolean stderr);

    /**
     * A URL that attaches to the container's main process.
     *
     * @throws RuntimeStreamingException when the runtime refuses
     */
    URI attach(String containerId, boolean tty, boolean stdin, boolean stdout, boolean stderr);

    /**
     * A URL that forwards connections to ports in the sandbox's network namespace.
     *
     * @throws RuntimeStreamingException when the runtime refuses
     */
    URI portForward(String sandboxId, List<Integer> ports);

    /** A runtime's refusal, with the HTTP status the kubelet answers (404 for unknown ids, 500 otherwise). */
    final class RuntimeStreamingException extends RuntimeException {
        private final int httpStatus;

        public RuntimeStreamingException(int httpStatus, String message, Throwable cause) {
            super(message, cause);
            this.httpStatus = httpStatus;
        }

        public int httpStatus() {
            return httpStatus;
        }
    }
}
