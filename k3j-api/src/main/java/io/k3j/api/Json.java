package io.k3j.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Shared JSON and YAML mappers. Objects travel as Jackson trees ({@link ObjectNode}); typed models are bound
 * only where logic needs them. Parse errors become 400 {@link ApiException}s with the parser's message.
 */
public final class Json {
    public static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);

    /**
     * No Kubernetes object nests anywhere near this deep; a bound here keeps every recursive walk over a
     * request (patches, schemas, managed fields) far from the end of its thread's stack.
     */
    public static final int MAX_NESTING_DEPTH = 400;

    public static final ObjectMapper MAPPER = JsonMapper.builder(com.fasterxml.jackson.core.JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
                    .build())
            .nodeFactory(NODES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** For trees kept in memory a long time: shared short strings, small tables ({@link CompactNodeFactory}). */
    private static final CompactNodeFactory COMPACT = new CompactNodeFactory();
    private static final SharedSubtrees SHARED = new SharedSubtrees(COMPACT);
    private static final ObjectMapper STORED = JsonMapper.builder(com.fasterxml.jackson.core.JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
                    .build())
            .nodeFactory(COMPACT)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    public static final ObjectMapper YAML = YAMLMapper.builder(YAMLFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxDocumentLength(8L << 20).maxNestingDepth(MAX_NESTING_DEPTH).build())
                    .build())
            .nodeFactory(NODES)
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build();

    private Json() {}

    public static ObjectNode object() {
        return NODES.objectNode();
    }

    public static ArrayNode array() {
        return NODES.arrayNode();
    }

    /** Parses a JSON document; any syntax error is a 400. */
    public static JsonNode parse(byte[] bytes) {
        try {
            JsonNode node = MAPPER.readTree(bytes);
            if (node == null || node.isMissingNode()) throw ApiException.badRequest("empty request body");
            return node;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("error decoding JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses a JSON object; anything else is a 400. */
    public static ObjectNode parseObject(byte[] bytes) {
        JsonNode node = parse(bytes);
        if (!(node instanceof ObjectNode o)) {
            throw ApiException.badRequest("expected a JSON object, got " + node.getNodeType().name().toLowerCase());
        }
        return o;
    }

    /**
     * Parses a stored object into a tree meant to stay in memory (the watch cache): equal short strings are
     * shared with other such trees. The tree is as mutable as any other, but like every cached object it must
     * not be changed (copy first).
     */
    public static ObjectNode parseStored(byte[] bytes) {
        try {
            JsonNode node = STORED.readTree(bytes);
            if (node instanceof ObjectNode o) return o;
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("stored object is not JSON: " + e.getMessage());
        }
        throw ApiException.badRequest("stored value is not a JSON object");
    }

    /**
     * {@link #parseStored} for a tree the watch cache keeps as the current state of an object: in addition, the
     * values of fields that recur across objects (containers, volumes, labels, managedFields' field sets ...) are
     * replaced by one read-only subtree shared with every cached tree holding an equal value ({@link SharedSubtrees}).
     * Changing such a subtree throws {@link UnsupportedOperationException}: copy the object first.
     */
    public static ObjectNode parseCached(byte[] bytes) {
        ObjectNode obj = parseStored(bytes);
        SHARED.share(obj);
        return obj;
    }

    /** Parses JSON, or YAML when it isn't JSON (one document). */
    public static JsonNode parseYamlOrJson(byte[] bytes) {
        int i = 0;
        while (i < bytes.length && Character.isWhitespace(bytes[i])) i++;
        if (i < bytes.length && (bytes[i] == '{' || bytes[i] == '[')) return parse(bytes);
        try {
            JsonNode node = YAML.readTree(bytes);
            if (node == null || node.isMissingNode() || node.isNull()) throw ApiException.badRequest("empty request body");
            return node;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("error converting YAML to JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a JSON tree", e);
        }
    }

    public static String string(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a JSON tree", e);
        }
    }

    public static String yaml(JsonNode node) {
        try {
            return YAML.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a YAML tree", e);
        }
    }

    /** Every document of a multi-document YAML (or one JSON) stream, skipping empty ones. */
    public static List<JsonNode> parseYamlDocuments(byte[] bytes) {
        List<JsonNode> docs = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(bytes)) {
            var it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode n = it.next();
                if (n != null && !n.isNull() && !n.isMissingNode()) docs.add(n);
            }
        } catch (IOException e) {
            throw ApiException.badRequest("error parsing YAML: " + e.getMessage());
        }
        return docs;
    }

    /** Reads a string field, "" when absent or not textual. */
    public static String text(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        return v != null && v.isTextual() ? v.asText() : "";
    }

    /** Walks {@code a.b.c} through objects; returns null when any step is missing. */
    public static JsonNode at(JsonNode node, String... path) {
        JsonNode n = node;
        for (String p : path) {
            if (n == null || !n.isObject()) return null;
            n = n.get(p);
        }
        return n == null || n.isNull() ? null : n;
    }

    /** Gets or creates the object at {@code field}. */
    public static ObjectNode obj(ObjectNode parent, String field) {
        JsonNode n = parent.get(field);
        if (n instanceof ObjectNode o) return o;
        return parent.putObject(field);
    }
}
