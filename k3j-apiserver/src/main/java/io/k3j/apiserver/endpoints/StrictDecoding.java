package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.k3j.api.Json;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The strict decoding errors kube-apiserver reports for {@code fieldValidation=Strict} (as a failure) and
 * {@code Warn} (as warnings), KEP-2885. Texts are Go's: sigs.k8s.io/json's {@code unknown field "spec.foo"} and
 * {@code duplicate field "spec.replicas"} (paths: keys joined by '.', list items {@code [i]}), and for YAML bodies
 * the duplicate keys go-yaml finds ({@code yaml: unmarshal errors:\n  line 3: key "a" already set in map}).
 */
final class StrictDecoding {
    private static final String YAML_ERRORS = "yaml: unmarshal errors:\n";
    private static final String YAML_ERRORS_LONG = "error converting YAML to JSON: " + YAML_ERRORS;

    private StrictDecoding() {}

    /** What a scan of a JSON document found: its duplicate keys, and the order in which each key path first appeared. */
    record Scan(List<String> duplicates, List<Integer> duplicateOrdinals, Map<String, Integer> firstSeen) {
        /**
         * The errors of a decode in document order, as Go's decoder meets them: the unknown fields (paths of
         * this document) interleaved with the duplicates.
         */
        List<String> errors(List<String> unknownPaths) {
            record Err(int ordinal, String text) {}
            List<Err> all = new ArrayList<>();
            for (String p : unknownPaths) all.add(new Err(firstSeen.getOrDefault(p, Integer.MAX_VALUE), unknown(p)));
            for (int i = 0; i < duplicates.size(); i++) all.add(new Err(duplicateOrdinals.get(i), duplicate(duplicates.get(i))));
            all.sort((a, b) -> Integer.compare(a.ordinal(), b.ordinal()));
            List<String> out = new ArrayList<>();
            for (Err e : all) if (!out.contains(e.text())) out.add(e.text());
            return out;
        }
    }

    static String unknown(String path) {
        return "unknown field " + GoText.quote(path);
    }

    static String duplicate(String path) {
        return "duplicate field " + GoText.quote(path);
    }

    /** Scans a JSON document for duplicate keys; a document that doesn't parse has none (parsing reports it). */
    static Scan scanJson(byte[] json) {
        List<String> dups = new ArrayList<>();
        List<Integer> ordinals = new ArrayList<>();
        Map<String, Integer> firstSeen = new HashMap<>();
        try (JsonParser p = Json.MAPPER.getFactory().createParser(json)) {
            walk(p, p.nextToken(), "", (path, key, line, ordinal, dup) -> {
                if (dup) {
                    dups.add(path);
                    ordinals.add(ordinal);
                } else {
                    firstSeen.putIfAbsent(path, ordinal);
                }
            });
        } catch (IOException | RuntimeException e) {
            // malformed: the real parse fails with the proper message
        }
        return new Scan(dups, ordinals, firstSeen);
    }

    /**
     * go-yaml's strict error for duplicate mapping keys of a YAML document, or null when there are none:
     * {@code yaml: unmarshal errors:\n  line 3: key "a" already set in map}.
     */
    static String yamlDuplicates(byte[] yaml) {
        List<String> lines = new ArrayList<>();
        try (JsonParser p = Json.YAML.getFactory().createParser(yaml)) {
            walk(p, p.nextToken(), "", (path, key, line, ordinal, dup) -> {
                if (dup) lines.add("  line " + line + ": key " + GoText.quote(key) + " already set in map");
            });
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return lines.isEmpty() ? null : YAML_ERRORS + String.join("\n", lines);
    }

    /** {@code strict decoding error: <e1>, <e2>} as runtime.NewStrictDecodingError prints. */
    static String message(List<String> errors) {
        return "strict decoding error: " + String.join(", ", errors);
    }

    /** One warning per error, go-yaml's multi-line errors split into their lines as kube-apiserver does. */
    static List<String> warnings(List<String> errors) {
        List<String> out = new ArrayList<>();
        for (String e : errors) {
            String rest = e.startsWith(YAML_ERRORS_LONG) ? e.substring(YAML_ERRORS_LONG.length())
                    : e.startsWith(YAML_ERRORS) ? e.substring(YAML_ERRORS.length()) : null;
            if (rest == null) {
                out.add(e);
            } else {
                for (String line : rest.split("\n")) out.add(line.trim());
            }
        }
        return out;
    }

    private interface KeyVisitor {
        void key(String path, String key, int line, int ordinal, boolean duplicate);
    }

    /** An object or list being read: its path, the keys seen (objects) or the next index (lists). */
    private static final class Frame {
        final String path;
        final Set<String> keys;
        int index;

        Frame(String path, boolean object) {
            this.path = path;
            this.keys = object ? new HashSet<>() : null;
        }
    }

    /** Walks one value starting at {@code t}, reporting every object key with its path. */
    private static void walk(JsonParser p, JsonToken t, String path, KeyVisitor v) throws IOException {
        int ordinal = 0;
        Deque<Frame> stack = new ArrayDeque<>();
        String pending = path;
        for (; t != null; t = p.nextToken()) {
            switch (t) {
                case START_OBJECT, START_ARRAY -> stack.push(new Frame(valuePath(stack.peek(), pending), t == JsonToken.START_OBJECT));
                case FIELD_NAME -> {
                    Frame f = stack.peek();
                    String key = p.currentName();
                    pending = f.path.isEmpty() ? key : f.path + "." + key;
                    v.key(pending, key, p.currentTokenLocation().getLineNr(), ordinal++, !f.keys.add(key));
                }
                default -> {
                    if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) stack.pop();
                    if (stack.isEmpty()) return;
                    if (stack.peek().keys == null) stack.peek().index++;
                }
            }
        }
    }

    /** The path of a value about to start: the pending key's inside an object, the next index's inside a list. */
    private static String valuePath(Frame parent, String pendingKey) {
        if (parent == null) return "";
        return parent.keys != null ? pendingKey : parent.path + "[" + parent.index + "]";
    }
}
