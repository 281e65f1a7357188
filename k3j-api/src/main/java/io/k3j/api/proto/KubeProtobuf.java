package io.k3j.api.proto;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import io.k3j.api.ApiException;
import io.k3j.api.Json;

/**
 * Decodes request bodies in Kubernetes' protobuf encoding ({@value #MEDIA_TYPE}), which kubectl 1.32+ sends
 * for typed-client commands ({@code kubectl create configmap|deployment|...}, {@code run}, {@code auth can-i},
 * {@code create token}, {@code drain}), into the JSON tree the same client would have sent as JSON.
 *
 * <p>The wire format is the magic {@code k8s\0} and a {@code runtime.Unknown} envelope naming apiVersion and
 * kind; its {@code raw} bytes are the object's message from Kubernetes' generated.proto, looked up in the
 * descriptors of io.kubernetes:client-java-proto. Those descriptors are loaded on the first protobuf
 * request, per API group version, so a server that never sees one never pays for them.
 *
 * <p>Built-in fields that this build's descriptors do not know (added to Kubernetes after them) are dropped,
 * as kube-apiserver drops unknown fields of built-in types.
 */
public final class KubeProtobuf {
    public static final String MEDIA_TYPE = "application/vnd.kubernetes.protobuf";

    /** RawExtension may hold another enveloped object; a body cannot nest them deeper than this. */
    private static final int MAX_DEPTH = 16;

    private KubeProtobuf() {}

    /** Whether {@code body} starts with the protobuf envelope's magic bytes {@code k8s\0}. */
    public static boolean isProtobuf(byte[] body) {
        return Envelope.hasMagic(body);
    }

    /**
     * Decodes an enveloped protobuf object into JSON, with {@code apiVersion} and {@code kind} taken from the
     * envelope.
     *
     * @throws ApiException 400 BadRequest when the body is not a well-formed envelope, names no kind or
     *         apiVersion, names a type that is not a built-in Kubernetes kind known here, or its message is
     *         malformed
     */
    public static ObjectNode decode(byte[] body) {
        return decode(body, "", "", 0);
    }

    /**
     * As {@link #decode(byte[])}, but an envelope without apiVersion or kind takes them from the request
     * (what the Go decoder does with the request's group version kind).
     *
     * @throws ApiException 400 BadRequest as for {@link #decode(byte[])}
     */
    public static ObjectNode decode(byte[] body, String defaultApiVersion, String defaultKind) {
        return decode(body, defaultApiVersion, defaultKind, 0);
    }

    static ObjectNode decode(byte[] body, String defaultApiVersion, String defaultKind, int depth) {
        if (depth > MAX_DEPTH) throw ApiException.badRequest("protobuf objects nested deeper than " + MAX_DEPTH + " levels");
        Envelope envelope = Envelope.parse(body);
        String apiVersion = envelope.apiVersion().isEmpty() ? nullToEmpty(defaultApiVersion) : envelope.apiVersion();
        String kind = envelope.kind().isEmpty() ? nullToEmpty(defaultKind) : envelope.kind();
        if (kind.isEmpty()) {
            throw ApiException.badRequest("Object 'Kind' is missing in protobuf envelope (apiVersion \"" + apiVersion + "\")");
        }
        if (apiVersion.isEmpty()) {
            throw ApiException.badRequest("Object 'apiVersion' is missing in protobuf envelope (kind \"" + kind + "\")");
        }
        Descriptor type = ProtoTypes.find(apiVersion, kind).orElseThrow(() -> ApiException.badRequest(
                "no kind \"" + kind + "\" is registered for version \"" + apiVersion + "\" in the protobuf decoder"));
        DynamicMessage message;
        try {
            // buildPartial: proto2 "required" is not a Go notion; a missing field is simply zero there
            message = DynamicMessage.newBuilder(type).mergeFrom(envelope.raw()).buildPartial();
        } catch (InvalidProtocolBufferException e) {
            throw ApiException.badRequest("error decoding protobuf " + kind + " (" + apiVersion + "): " + e.getMessage());
        }
        ObjectNode object = Json.object();
        object.put("kind", kind);
        object.put("apiVersion", apiVersion);
        object.setAll(new ProtoJson(depth).object(message));
        return object;
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
