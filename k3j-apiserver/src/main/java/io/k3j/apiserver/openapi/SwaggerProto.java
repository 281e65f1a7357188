package io.k3j.apiserver.openapi;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.util.Iterator;
import java.util.Map;

/**
 * Encodes a swagger 2.0 JSON document as the gnostic {@code openapi_v2.Document} protobuf message, which is
 * what client-go's {@code OpenAPISchema()} asks for ({@code application/com.github.proto-openapi.spec.v2@v1.0+protobuf})
 * and the only form it can parse. Field numbers are those of gnostic's OpenAPIv2.proto. Vendor extensions and
 * free-form values travel as {@code Any.yaml}; JSON text is valid YAML, so they are written as JSON.
 *
 * <p>Protobuf merges repeated occurrences of an embedded message field, so a document can be extended by
 * appending more {@code paths} (8) and {@code definitions} (9) fields: that is how custom resources are added
 * to the built-in bytes without re-encoding them.
 */
final class SwaggerProto {
    private SwaggerProto() {}

    static byte[] document(JsonNode doc) {
        ProtoWriter w = new ProtoWriter();
        w.string(1, doc.path("swagger").asText("2.0"));
        JsonNode info = doc.path("info");
        w.message(2, i -> {
            i.string(1, info.path("title").asText(null));
            i.string(2, info.path("version").asText(null));
        });
        w.message(8, p -> paths(p, doc.path("paths")));
        w.message(9, d -> definitions(d, doc.path("definitions")));
        return w.toByteArray();
    }

    /** The bytes to append to an encoded document to add these paths and definitions. */
    static byte[] appendix(JsonNode paths, JsonNode definitions) {
        ProtoWriter w = new ProtoWriter();
        w.message(8, p -> paths(p, paths));
        w.message(9, d -> definitions(d, definitions));
        return w.toByteArray();
    }

    private static void paths(ProtoWriter p, JsonNode paths) {
        for (Iterator<Map.Entry<String, JsonNode>> it = paths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            p.message(2, np -> {
                np.string(1, e.getKey());
                np.message(2, item -> pathItem(item, e.getValue()));
            });
        }
    }

    private static void definitions(ProtoWriter d, JsonNode definitions) {
        for (Iterator<Map.Entry<String, JsonNode>> it = definitions.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            d.message(1, ns -> {
                ns.string(1, e.getKey());
                ns.message(2, s -> schema(s, e.getValue()));
            });
        }
    }

    private static void pathItem(ProtoWriter w, JsonNode item) {
        String[] ops = {null, null, "get", "put", "post", "delete", "options", "head", "patch"};
        for (int field = 2; field <= 8; field++) {
            JsonNode op = item.get(ops[field]);
            if (op != null) w.message(field, o -> operation(o, op));
        }
        for (JsonNode p : item.path("parameters")) w.message(9, pi -> parameter(pi, p));
        vendorExtensions(w, 10, item);
    }

    private static void operation(ProtoWriter w, JsonNode op) {
        for (JsonNode t : op.path("tags")) w.string(1, t.asText());
        w.string(3, op.path("description").asText(null));
        w.string(5, op.path("operationId").asText(null));
        for (JsonNode t : op.path("produces")) w.string(6, t.asText());
        for (JsonNode t : op.path("consumes")) w.string(7, t.asText());
        for (JsonNode p : op.path("parameters")) w.message(8, pi -> parameter(pi, p));
        w.message(9, rs -> {
            for (Iterator<Map.Entry<String, JsonNode>> it = op.path("responses").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                rs.message(1, nr -> {
                    nr.string(1, e.getKey());
                    nr.message(2, rv -> rv.message(1, r -> {
                        r.string(1, e.getValue().path("description").asText(null));
                        JsonNode schema = e.getValue().get("schema");
                        if (schema != null) r.message(2, si -> si.message(1, s -> schema(s, schema)));
                    }));
                });
            }
        });
        vendorExtensions(w, 13, op);
    }

    /** ParametersItem → Parameter → body / non-body (query = 3, path = 4 of NonBodyParameter). */
    private static void parameter(ProtoWriter w, JsonNode p) {
        String in = p.path("in").asText();
        w.message(1, param -> {
            if (in.equals("body")) {
                param.message(1, b -> {
                    b.string(1, p.path("description").asText(null));
                    b.string(2, p.path("name").asText(null));
                    b.string(3, in);
                    b.bool(4, p.path("required").asBoolean());
                    JsonNode schema = p.get("schema");
                    if (schema != null) b.message(5, s -> schema(s, schema));
                });
            } else if (in.equals("path")) {
                param.message(2, nb -> nb.message(4, q -> {
                    q.bool(1, p.path("required").asBoolean());
                    q.string(2, in);
                    q.string(3, p.path("description").asText(null));
                    q.string(4, p.path("name").asText(null));
                    q.string(5, p.path("type").asText(null));
                    q.bool(19, p.path("uniqueItems").asBoolean());
                }));
            } else {
                param.message(2, nb -> nb.message(3, q -> {
                    q.bool(1, p.path("required").asBoolean());
                    q.string(2, in);
                    q.string(3, p.path("description").asText(null));
                    q.string(4, p.path("name").asText(null));
                    q.string(6, p.path("type").asText(null));
                    q.bool(20, p.path("uniqueItems").asBoolean());
                }));
            }
        });
    }

    static void schema(ProtoWriter w, JsonNode s) {
        w.string(1, s.path("$ref").asText(null));
        w.string(2, s.path("format").asText(null));
        w.string(3, s.path("title").asText(null));
        w.string(4, s.path("description").asText(null));
        if (s.has("default")) w.message(5, a -> any(a, s.get("default")));
        w.float64(6, s.path("multipleOf").asDouble());
        w.float64(7, s.path("maximum").asDouble());
        w.bool(8, s.path("exclusiveMaximum").asBoolean());
        w.float64(9, s.path("minimum").asDouble());
        w.bool(10, s.path("exclusiveMinimum").asBoolean());
        w.int64(11, s.path("maxLength").asLong());
        w.int64(12, s.path("minLength").asLong());
        w.string(13, s.path("pattern").asText(null));
        w.int64(14, s.path("maxItems").asLong());
        w.int64(15, s.path("minItems").asLong());
        w.bool(16, s.path("uniqueItems").asBoolean());
        w.int64(17, s.path("maxProperties").asLong());
        w.int64(18, s.path("minProperties").asLong());
        for (JsonNode r : s.path("required")) w.string(19, r.asText());
        for (JsonNode v : s.path("enum")) w.message(20, a -> any(a, v));
        JsonNode ap = s.get("additionalProperties");
        if (ap != null) {
            w.message(21, api -> {
                if (ap.isBoolean()) {
                    api.oneofBool(2, ap.asBoolean());
                } else {
                    api.message(1, inner -> schema(inner, ap));
                }
            });
        }
        JsonNode type = s.get("type");
        if (type != null) {
            w.message(22, t -> {
                if (type.isArray()) type.forEach(v -> t.string(1, v.asText()));
                else t.string(1, type.asText());
            });
        }
        JsonNode items = s.get("items");
        if (items != null) {
            w.message(23, ii -> {
                if (items.isArray()) items.forEach(v -> ii.message(1, inner -> schema(inner, v)));
                else ii.message(1, inner -> schema(inner, items));
            });
        }
        for (JsonNode a : s.path("allOf")) w.message(24, inner -> schema(inner, a));
        JsonNode props = s.get("properties");
        if (props != null) {
            w.message(25, ps -> {
                for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    ps.message(1, ns -> {
                        ns.string(1, e.getKey());
                        ns.message(2, inner -> schema(inner, e.getValue()));
                    });
                }
            });
        }
        w.bool(27, s.path("readOnly").asBoolean());
        if (s.has("example")) w.message(30, a -> any(a, s.get("example")));
        vendorExtensions(w, 31, s);
    }

    private static void vendorExtensions(ProtoWriter w, int field, JsonNode node) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().startsWith("x-")) continue;
            w.message(field, na -> {
                na.string(1, e.getKey());
                na.message(2, a -> any(a, e.getValue()));
            });
        }
    }

    /** gnostic Any: the value as YAML text (field 2). */
    private static void any(ProtoWriter a, JsonNode value) {
        a.string(2, Json.MAPPER.valueToTree(value).toString() + "\n");
    }
}
