package io.k3j.agent.join;

/** Joining failed for a reason the operator must fix (wrong token, wrong server, a node name taken). */
public final class JoinException extends RuntimeException {
    public JoinException(String message) {
        super(message);
    }

    public JoinException(String message, Throwable cause) {
        super(message, cause);
    }
}
