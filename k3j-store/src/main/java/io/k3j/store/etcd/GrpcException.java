package io.k3j.store.etcd;

/** A failed gRPC call: its status code (as in grpc's Status.Code) and the server's message. */
final class GrpcException extends RuntimeException {
    static final int CANCELLED = 1;
    static final int UNKNOWN = 2;
    static final int INVALID_ARGUMENT = 3;
    static final int DEADLINE_EXCEEDED = 4;
    static final int NOT_FOUND = 5;
    static final int FAILED_PRECONDITION = 9;
    static final int OUT_OF_RANGE = 11;
    static final int UNIMPLEMENTED = 12;
    static final int INTERNAL = 13;
    static final int UNAVAILABLE = 14;
    static final int UNAUTHENTICATED = 16;

    private final String method;
    private final int code;
    private final String description;

    GrpcException(String method, int code, String description) {
        this(method, code, description, null);
    }

    GrpcException(String method, int code, String description, Throwable cause) {
        super(method + ": " + codeName(code) + ": " + description, cause);
        this.method = method;
        this.code = code;
        this.description = description;
    }

    String method() {
        return method;
    }

    int code() {
        return code;
    }

    /** The server's grpc-message, e.g. "etcdserver: mvcc: required revision has been compacted". */
    String description() {
        return description;
    }

    static String codeName(int code) {
        return switch (code) {
            case 0 -> "OK";
            case CANCELLED -> "CANCELLED";
            case UNKNOWN -> "UNKNOWN";
            case INVALID_ARGUMENT -> "INVALID_ARGUMENT";
            case DEADLINE_EXCEEDED -> "DEADLINE_EXCEEDED";
            case NOT_FOUND -> "NOT_FOUND";
            case 6 -> "ALREADY_EXISTS";
            case 7 -> "PERMISSION_DENIED";
            case 8 -> "RESOURCE_EXHAUSTED";
            case FAILED_PRECONDITION -> "FAILED_PRECONDITION";
            case 10 -> "ABORTED";
            case OUT_OF_RANGE -> "OUT_OF_RANGE";
            case UNIMPLEMENTED -> "UNIMPLEMENTED";
            case INTERNAL -> "INTERNAL";
            case UNAVAILABLE -> "UNAVAILABLE";
            case 15 -> "DATA_LOSS";
            case UNAUTHENTICATED -> "UNAUTHENTICATED";
            default -> "code " + code;
        };
    }
}
