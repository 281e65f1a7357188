package io.k3j.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds trees for objects that live long in memory (the watch cache): short strings are shared between
 * trees (a TextNode is immutable; the same label values, images, node names, owner uids and defaults recur
 * across thousands of pods), objects keep their fields in one array ({@link CompactMap}) instead of a linked
 * hash table, and arrays start small.
 */
final class CompactNodeFactory extends JsonNodeFactory {
    private static final int MAX_SHARED_LENGTH = 64;
    /** Bounded by clearing: a cluster's distinct short strings are far fewer, so this rarely happens. */
    private static final int MAX_SHARED = 200_000;

    private final ConcurrentHashMap<String, TextNode> texts = new ConcurrentHashMap<>();

    CompactNodeFactory() {
        super(true);
    }

    @Override
    public TextNode textNode(String text) {
        if (text == null || text.length() > MAX_SHARED_LENGTH) return super.textNode(text);
        TextNode t = texts.get(text);
        if (t != null) return t;
        if (texts.size() >= MAX_SHARED) texts.clear();
        return texts.computeIfAbsent(text, TextNode::new);
    }

    @Override
    public ObjectNode objectNode() {
        return new ObjectNode(this, new CompactMap());
    }

    /** Most arrays of an object hold one or two elements (containers, ports, owner references, conditions). */
    @Override
    public ArrayNode arrayNode() {
        return new ArrayNode(this, new ArrayList<JsonNode>(2));
    }
}
