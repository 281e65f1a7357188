package io.k3j.agent.cri;

/**
 * A CRI call that did not succeed: the gRPC status the runtime answered with (code and message), or one the client
 * made up for a transport failure ({@link #UNAVAILABLE} when the socket cannot be reached or the connection dropped,
 * {@link #DEADLINE_EXCEEDED} when the call's deadline passed). Unchecked, like every other error of the agent's
 * runtime layer; callers test the code ({@link #notFound()}) rather than parse messages.
 */
public final class CriException extends RuntimeException {

    public static final int CANCELLED = 1;
    public static final int UNKNOWN = 2;
    public static final int INVALID_ARGUMENT = 3;
    public static final int DEADLINE_EXCEEDED = 4;
    public static final int NOT_FOUND = 5;
    public static final int ALREADY_EXISTS = 6;
    public static final int PERMISSION_DENIED = 7;
    public static final int RESOURCE_EXHAUSTED = 8;
    public static final int FAILED_PRECONDITION = 9;
    public static final int ABORTED = 10;
    public static final int OUT_OF_RANGE = 11;
    public static final int UNIMPLEMENTED = 12;
    public static final int INTERNAL = 13;
    public static final int UNAVAILABLE = 14;
    public static final int DATA_LOSS = 15;
    public static final int UNAUTHENTICATED = 16;

    private static final String[] NAMES = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
            "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
            "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

    private final int code;
    private final String method;
    private final String statusMessage;

    public CriException(String method, int code, String statusMessage) {
        this(method, code, statusMessage, null);
    }

    public CriException(String method, int code, String statusMessage, Throwable cause) {
        super(method + ": " + codeName(code) + (statusMessage == null || statusMessage.isEmpty() ? "" : ": " + statusMessage), cause);
        this.code = code;
        this.method = method;
        this.statusMessage = statusMessage == null ? "" : statusMessage;
    }

    /** The gRPC status code name for {@code code}, e.g. {@code NOT_FOUND} for 5; {@code CODE_<n>} for unknown numbers. */
    public static String codeName(int code) {
        return code >= 0 && code < NAMES.length ? NAMES[code] : "CODE_" + code;
    }

    /** The gRPC status code (1..16). */
    public int code() {
        return code;
    }

    /** The status code's name, e.g. {@code NOT_FOUND}. */
    public String codeName() {
        return codeName(code);
    }

    /** The runtime's message (grpc-message, decoded), possibly empty. */
    public String statusMessage() {
        return statusMessage;
    }

    /** The full gRPC method, e.g. {@code /runtime.v1.RuntimeService/ContainerStatus}. */
    public String method() {
        return method;
    }

    public boolean notFound() {
        return code == NOT_FOUND;
    }

    /** The runtime could not be reached (not started, restarting, socket gone): worth retrying later. */
    public boolean unavailable() {
        return code == UNAVAILABLE;
    }

    public boolean deadlineExceeded() {
        return code == DEADLINE_EXCEEDED;
    }
}
