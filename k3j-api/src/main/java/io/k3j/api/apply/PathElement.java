package io.k3j.api.apply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One step of a field path, as structured-merge-diff names it: a field of an object ({@code f:name}), an item of a
 * list-map by its keys ({@code k:{"name":"nginx"}}), an item of a set by its value ({@code v:"a"}) or a list item by
 * index ({@code i:0}, which Kubernetes never writes for atomic lists since those are owned whole).
 *
 * <p>Elements order as structured-merge-diff orders them (fields, then keys, then values, then indexes), which is
 * the key order of a serialized {@code fieldsV1}.
 */
public final class PathElement implements Comparable<PathElement> {
    /** The four kinds of path element, in their sort order. */
    public enum Type { FIELD, KEY, VALUE, INDEX }

    private final Type type;
    private final String field;
    private final ObjectNode key;
    private final JsonNode value;
    private final int index;

    private PathElement(Type type, String field, ObjectNode key, JsonNode value, int index) {
        this.type = type;
        this.field = field;
        this.key = key;
        this.value = value;
        this.index = index;
    }

    public static PathElement field(String name) {
        return new PathElement(Type.FIELD, Objects.requireNonNull(name, "name"), null, null, 0);
    }

    /** A list-map item; the key fields are kept sorted by name as structured-merge-diff does. */
    public static PathElement key(ObjectNode keyFields) {
        ObjectNode sorted = Json.object();
        for (String k : Values.sortedKeys(keyFields)) sorted.set(k, keyFields.get(k).deepCopy());
        return new PathElement(Type.KEY, null, sorted, null, 0);
    }

    public static PathElement value(JsonNode value) {
        return new PathElement(Type.VALUE, null, null, Objects.requireNonNull(value, "value").deepCopy(), 0);
    }

    public static PathElement index(int index) {
        return new PathElement(Type.INDEX, null, null, null, index);
    }

    public Type type() {
        return type;
    }

    /** The field name of a {@link Type#FIELD} element, else null. */
    public String fieldName() {
        return field;
    }

    /** The {@code fieldsV1} key of this element: {@code f:name}, {@code k:{...}}, {@code v:...} or {@code i:N}. */
    public String serialize() {
        return switch (type) {
            case FIELD -> "f:" + field;
            case KEY -> "k:" + Values.goJson(key);
            case VALUE -> "v:" + Values.goJson(value);
            case INDEX -> "i:" + index;
        };
    }

    /**
     * Parses a {@code fieldsV1} key; returns null for an unknown prefix (kube-apiserver drops those).
     *
     * @throws IllegalArgumentException when the key is malformed
     */
    static PathElement deserialize(String s) {
        if (s.length() < 2 || s.charAt(1) != ':') throw new IllegalArgumentException("malformed path element: " + s);
        String rest = s.substring(2);
        return switch (s.charAt(0)) {
            case 'f' -> field(rest);
            case 'k' -> {
                JsonNode n = parseJson(rest);
                if (!(n instanceof ObjectNode o)) throw new IllegalArgumentException("key path element is not an object: " + s);
                yield key(o);
            }
            case 'v' -> value(parseJson(rest));
            case 'i' -> {
                try {
                    yield index(Integer.parseInt(rest));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("bad index path element: " + s);
                }
            }
            default -> null;
        };
    }

    private static JsonNode parseJson(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (Exception e) {
            throw new IllegalArgumentException("bad JSON in path element: " + s);
        }
    }

    /** How structured-merge-diff prints the element inside a path: {@code .name}, {@code [name="x"]}, {@code [="a"]}, {@code [0]}. */
    @Override
    public String toString() {
        return switch (type) {
            case FIELD -> "." + field;
            case KEY -> {
                List<String> parts = new ArrayList<>();
                for (String k : Values.sortedKeys(key)) parts.add(k + "=" + Values.print(key.get(k)));
                yield "[" + String.join(",", parts) + "]";
            }
            case VALUE -> "[=" + Values.print(value) + "]";
            case INDEX -> "[" + index + "]";
        };
    }

    @Override
    public int compareTo(PathElement o) {
        if (type != o.type) return type.compareTo(o.type);
        return switch (type) {
            case FIELD -> field.compareTo(o.field);
            case KEY -> compareKeys(key, o.key);
            case VALUE -> Values.compare(value, o.value);
            case INDEX -> Integer.compare(index, o.index);
        };
    }

    private static int compareKeys(ObjectNode a, ObjectNode b) {
        List<String> ka = Values.sortedKeys(a), kb = Values.sortedKeys(b);
        for (int i = 0; i < Math.min(ka.size(), kb.size()); i++) {
            int c = ka.get(i).compareTo(kb.get(i));
            if (c != 0) return c;
            c = Values.compare(a.get(ka.get(i)), b.get(kb.get(i)));
            if (c != 0) return c;
        }
        return Integer.compare(ka.size(), kb.size());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PathElement p && compareTo(p) == 0;
    }

    @Override
    public int hashCode() {
        return switch (type) {
            case FIELD -> field.hashCode();
            case KEY -> Values.goJson(key).hashCode() * 31 + 1;
            case VALUE -> Values.goJson(value).hashCode() * 31 + 2;
            case INDEX -> index * 31 + 3;
        };
    }
}
