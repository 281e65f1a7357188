package io.k3j.apiserver.registry;

import com.fasterxml.jackson.databind.JsonNode;

/** Dotted field paths ({@code spec.nodeName}) into objects, for field selectors. */
final class FieldPaths {
    private FieldPaths() {}

    static String text(JsonNode obj, String dotted) {
        JsonNode n = obj;
        for (String part : dotted.split("\\.")) {
            if (n == null || !n.isObject()) return "";
            n = n.get(part);
        }
        if (n == null || n.isNull() || n.isContainerNode()) return "";
        return n.asText();
    }
}
