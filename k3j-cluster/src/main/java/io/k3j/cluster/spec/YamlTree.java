package io.k3j.cluster.spec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A YAML document as a tree that remembers the line of every key and value, so validation can say
 * "at line 5". Jackson's tree model drops locations, hence this small tree built from its streaming parser.
 */
final class YamlTree {
    private static final YAMLFactory FACTORY = new YAMLFactory();
    private static final YAMLMapper WRITER = YAMLMapper.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS) // hostPort: "6445" stays a string for k3d's schema
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .build();

    private YamlTree() {
    }

    sealed interface Node permits Map_, List_, Scalar {
        int line();
    }

    /** A mapping; each entry remembers its key's line. */
    record Map_(int line, LinkedHashMap<String, Entry> fields) implements Node {
        Node get(String key) {
            Entry e = fields.get(key);
            return e == null ? null : e.value();
        }

        void put(String key, int keyLine, Node value) {
            fields.put(key, new Entry(keyLine, value));
        }

        Node remove(String key) {
            Entry e = fields.remove(key);
            return e == null ? null : e.value();
        }
    }

    record Entry(int keyLine, Node value) {
    }

    record List_(int line, List<Node> items) implements Node {
    }

    enum Kind { STRING, INT, FLOAT, BOOL, NULL }

    record Scalar(int line, Kind kind, String text) implements Node {
        static Scalar string(int line, String s) {
            return new Scalar(line, Kind.STRING, s);
        }
    }

    /** Thrown for text that is not YAML, or has duplicate keys; the message names the line. */
    static final class SyntaxException extends Exception {
        SyntaxException(String message) {
            super(message);
        }
    }

    static Node parse(String text) throws SyntaxException {
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) return new Map_(1, new LinkedHashMap<>());
            Node root = read(p, t);
            if (p.nextToken() != null) throw new SyntaxException("line " + line(p) + ": only one YAML document is allowed");
            return root;
        } catch (StreamReadException e) {
            String msg = e.getOriginalMessage();
            int nl = msg.indexOf('\n');
            throw new SyntaxException("line " + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ": not valid YAML: "
                    + (nl > 0 ? msg.substring(0, nl) : msg));
        } catch (IOException e) {
            throw new SyntaxException("not valid YAML: " + e.getMessage());
        }
    }

    private static int line(JsonParser p) {
        return p.currentTokenLocation().getLineNr();
    }

    private static Node read(JsonParser p, JsonToken t) throws IOException, SyntaxException {
        int line = line(p);
        switch (t) {
            case START_OBJECT -> {
                Map_ m = new Map_(line, new LinkedHashMap<>());
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String key = p.currentName();
                    int keyLine = line(p);
                    Node v = read(p, p.nextToken());
                    Entry prev = m.fields().get(key);
                    if (prev != null) {
                        throw new SyntaxException("line " + keyLine + ": duplicate field '" + key + "' (first at line " + prev.keyLine() + ")");
                    }
                    m.put(key, keyLine, v);
                }
                return m;
            }
            case START_ARRAY -> {
                List_ l = new List_(line, new ArrayList<>());
                for (JsonToken i = p.nextToken(); i != JsonToken.END_ARRAY; i = p.nextToken()) l.items().add(read(p, i));
                return l;
            }
            case VALUE_STRING -> {
                return new Scalar(line, Kind.STRING, p.getText());
            }
            case VALUE_NUMBER_INT -> {
                return new Scalar(line, Kind.INT, p.getText());
            }
            case VALUE_NUMBER_FLOAT -> {
                return new Scalar(line, Kind.FLOAT, p.getText());
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return new Scalar(line, Kind.BOOL, t == JsonToken.VALUE_TRUE ? "true" : "false");
            }
            case VALUE_NULL -> {
                return new Scalar(line, Kind.NULL, null);
            }
            default -> throw new SyntaxException("line " + line + ": unexpected " + t);
        }
    }

    /** Writes the tree as YAML, keys in their order. */
    static String write(Node n) {
        try {
            return WRITER.writeValueAsString(toJson(n));
        } catch (IOException e) {
            throw new IllegalStateException("writing YAML", e);
        }
    }

    // YAML 1.1 forms such as 0x1F or 1_000 are kept as written rather than failing the whole write
    private static JsonNode number(String text) {
        try {
            return text.matches("[-+]?[0-9]+") ? JsonNodeFactory.instance.numberNode(new BigInteger(text))
                    : JsonNodeFactory.instance.numberNode(new java.math.BigDecimal(text));
        } catch (NumberFormatException e) {
            return JsonNodeFactory.instance.textNode(text);
        }
    }

    private static JsonNode toJson(Node n) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (n) {
            case Map_ m -> {
                ObjectNode o = f.objectNode();
                for (Map.Entry<String, Entry> e : m.fields().entrySet()) o.set(e.getKey(), toJson(e.getValue().value()));
                yield o;
            }
            case List_ l -> {
                ArrayNode a = f.arrayNode();
                for (Node i : l.items()) a.add(toJson(i));
                yield a;
            }
            case Scalar s -> switch (s.kind()) {
                case STRING -> f.textNode(s.text());
                case INT, FLOAT -> number(s.text());
                case BOOL -> f.booleanNode(Boolean.parseBoolean(s.text()));
                case NULL -> f.nullNode();
            };
        };
    }
}
