package io.k3j.api.patch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The errors kube-apiserver answers for patches, and the body parsing shared by the engines. */
final class PatchErrors {

    /**
     * What {@code errors.NewGenericServerResponse(422, ...)} renders: reason Invalid and a fixed message; the
     * underlying error text is dropped (no causes), which is why kubectl prints "The request is invalid: the
     * server rejected our request due to an error in our request" for a failed JSON patch {@code test}.
     */
    static final String REJECTED = "the server rejected our request due to an error in our request";

    private PatchErrors() {}

    static ApiException rejected() {
        return ApiException.of(422, "Invalid", REJECTED);
    }

    /**
     * Parses a patch body as Go's encoding/json would see it. Returns null for an empty body so each engine can
     * answer as its Go counterpart does; syntax errors become {@code onSyntaxError}'s exception.
     */
    static JsonNode parse(byte[] body, java.util.function.Function<String, ApiException> onSyntaxError) {
        if (body == null || isBlank(body)) throw onSyntaxError.apply("unexpected end of JSON input");
        try {
            JsonNode node = Json.MAPPER.readTree(body);
            if (node == null || node.isMissingNode()) throw onSyntaxError.apply("unexpected end of JSON input");
            return node;
        } catch (JsonProcessingException e) {
            throw onSyntaxError.apply(e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The JSON kind Go names in "json: cannot unmarshal X into Go value of type T". */
    static String jsonKind(JsonNode n) {
        if (n.isObject()) return "object";
        if (n.isArray()) return "array";
        if (n.isTextual()) return "string";
        if (n.isNumber()) return "number";
        if (n.isBoolean()) return "bool";
        return "null";
    }

    private static boolean isBlank(byte[] body) {
        for (byte b : body) {
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return false;
        }
        return true;
    }
}
