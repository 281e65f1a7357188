package io.k3j.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The one error type a client can cause: it renders as a Kubernetes {@code Status} with the HTTP code,
 * reason and causes that kube-apiserver would answer. Lower layers throw it (or have their errors mapped to
 * it) and the HTTP layer renders it; nothing a client sends may end in a 500.
 */
public final class ApiException extends RuntimeException {

    /** A field-level cause, as in {@code Status.details.causes}. */
    public record Cause(String reason, String message, String field) {
        public static Cause required(String field) {
            return new Cause("FieldValueRequired", "Required value", field);
        }

        public static Cause invalid(String field, Object value, String detail) {
            return new Cause("FieldValueInvalid", "Invalid value: " + quote(value) + ": " + detail, field);
        }

        public static Cause notSupported(String field, Object value, List<String> supported) {
            return new Cause("FieldValueNotSupported", "Unsupported value: " + quote(value)
                    + ": supported values: " + String.join(", ", supported.stream().map(v -> "\"" + v + "\"").toList()), field);
        }

        public static Cause forbidden(String field, String detail) {
            return new Cause("FieldValueForbidden", "Forbidden: " + detail, field);
        }

        public static Cause duplicate(String field, Object value) {
            return new Cause("FieldValueDuplicate", "Duplicate value: " + quote(value), field);
        }

        public static Cause tooLong(String field, Object value, int max) {
            return new Cause("FieldValueTooLong", "Too long: may not be more than " + max + " bytes", field);
        }

        private static String quote(Object value) {
            return value instanceof String s ? "\"" + s + "\"" : String.valueOf(value);
        }

        /** How Kubernetes prints a cause inside the Status message: {@code field: message}. */
        public String render() {
            return field == null || field.isEmpty() ? message : field + ": " + message;
        }
    }

    private final int code;
    private final String reason;
    private final String group;
    private final String kind;
    private final String name;
    private final List<Cause> causes;
    private final Integer retryAfterSeconds;

    private ApiException(int code, String reason, String message, String group, String kind, String name,
                         List<Cause> causes, Integer retryAfterSeconds) {
        super(message, null, false, false);
        this.code = code;
        this.reason = reason;
        this.group = group;
        this.kind = kind;
        this.name = name;
        this.causes = List.copyOf(causes);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiException of(int code, String reason, String message) {
        return new ApiException(code, reason, message, null, null, null, List.of(), null);
    }

    public static ApiException badRequest(String message) {
        return of(400, "BadRequest", message);
    }

    public static ApiException unauthorized() {
        return of(401, "Unauthorized", "Unauthorized");
    }

    public static ApiException forbidden(String message) {
        return of(403, "Forbidden", message);
    }

    /** {@code resource} is plural with group, as Kubernetes prints it: {@code deployments.apps "web" not found}. */
    public static ApiException notFound(String group, String resource, String name) {
        return new ApiException(404, "NotFound", qualified(group, resource) + " \"" + name + "\" not found",
                group, resource, name, List.of(), null);
    }

    public static ApiException notFoundPath(String message) {
        return of(404, "NotFound", message);
    }

    public static ApiException methodNotAllowed(String message) {
        return of(405, "MethodNotAllowed", message);
    }

    public static ApiException notAcceptable(String message) {
        return of(406, "NotAcceptable", message);
    }

    public static ApiException alreadyExists(String group, String resource, String name) {
        return new ApiException(409, "AlreadyExists", qualified(group, resource) + " \"" + name + "\" already exists",
                group, resource, name, List.of(), null);
    }

    public static ApiException conflict(String group, String resource, String name, String detail) {
        return new ApiException(409, "Conflict", "Operation cannot be fulfilled on " + qualified(group, resource)
                + " \"" + name + "\": " + detail, group, resource, name, List.of(), null);
    }

    /** Server-side apply conflicts: 409 Conflict with one cause per conflicting field. */
    public static ApiException applyConflict(String group, String resource, String name, String message, List<Cause> causes) {
        return new ApiException(409, "Conflict", message, group, resource, name, causes, null);
    }

    public static ApiException gone(String message) {
        return of(410, "Expired", message);
    }

    public static ApiException requestEntityTooLarge(String message) {
        return of(413, "RequestEntityTooLarge", message);
    }

    public static ApiException unsupportedMediaType(String contentType) {
        return of(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
                + "application/json, application/yaml, application/json-patch+json, application/merge-patch+json, "
                + "application/strategic-merge-patch+json, application/apply-patch+yaml" + (contentType == null ? "" : " (got " + contentType + ")"));
    }

    /**
     * 415 with kube-apiserver's exact text for a content type outside {@code accepted}, e.g. a strategic merge
     * patch of a custom resource (accepted: JSON patch, merge patch, apply).
     */
    public static ApiException unsupportedMediaType(List<String> accepted) {
        return of(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
                + String.join(", ", accepted));
    }

    /** 422 Invalid: {@code Deployment.apps "web" is invalid: [spec.replicas: Invalid value: -1: must be ...]}. */
    public static ApiException invalid(String group, String kind, String name, List<Cause> causes) {
        String prefix = qualified(group, kind) + " \"" + (name == null ? "" : name) + "\" is invalid: ";
        String detail = causes.size() == 1 ? causes.get(0).render()
                : "[" + String.join(", ", causes.stream().map(Cause::render).toList()) + "]";
        return new ApiException(422, "Invalid", prefix + detail, group, kind, name, causes, null);
    }

    public static ApiException tooManyRequests(String message, int retryAfterSeconds) {
        return new ApiException(429, "TooManyRequests", message, null, null, null, List.of(), retryAfterSeconds);
    }

    public static ApiException internal(String message) {
        return of(500, "InternalError", "Internal error occurred: " + message);
    }

    public static ApiException serviceUnavailable(String message) {
        return of(503, "ServiceUnavailable", message);
    }

    /** 504 Timeout; the message gets kube-apiserver's {@code Timeout: } prefix. */
    public static ApiException timeout(String message) {
        return new ApiException(504, "Timeout", "Timeout: " + message, null, null, null, List.of(), 1);
    }

    private static String qualified(String group, String resource) {
        return group == null || group.isEmpty() ? resource : resource + "." + group;
    }

    public int code() {
        return code;
    }

    public String reason() {
        return reason;
    }

    public List<Cause> causes() {
        return causes;
    }

    /** The {@code Status} object (apiVersion v1, kind Status) to send to the client. */
    public ObjectNode toStatus() {
        ObjectNode status = Json.object();
        status.put("kind", "Status");
        status.put("apiVersion", "v1");
        status.putObject("metadata");
        status.put("status", "Failure");
        status.put("message", getMessage());
        status.put("reason", reason);
        if (name != null || kind != null || !causes.isEmpty() || retryAfterSeconds != null) {
            ObjectNode details = status.putObject("details");
            if (name != null) details.put("name", name);
            if (group != null && !group.isEmpty()) details.put("group", group);
            if (kind != null) details.put("kind", kind);
            if (!causes.isEmpty()) {
                ArrayNode array = details.putArray("causes");
                for (Cause c : causes) {
                    ObjectNode cn = array.addObject();
                    cn.put("reason", c.reason());
                    cn.put("message", c.message());
                    if (c.field() != null) cn.put("field", c.field());
                }
            }
            if (retryAfterSeconds != null) details.put("retryAfterSeconds", retryAfterSeconds);
        }
        status.put("code", code);
        return status;
    }
}
