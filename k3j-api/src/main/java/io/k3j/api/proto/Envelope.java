package io.k3j.api.proto;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.k3j.api.ApiException;
import java.io.IOException;
import java.util.Arrays;

/**
 * The protobuf envelope of k8s.io/apimachinery/pkg/runtime/serializer/protobuf: the magic bytes
 * {@code k8s\0} followed by a {@code runtime.Unknown} message, whose {@code raw} holds the object itself.
 * <pre>
 * message Unknown { optional TypeMeta typeMeta = 1; optional bytes raw = 2;
 *                   optional string contentEncoding = 3; optional string contentType = 4; }
 * message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }
 * </pre>
 * Like the Go decoder, contentEncoding and contentType are read past: {@code raw} is always protobuf.
 */
record Envelope(String apiVersion, String kind, ByteString raw) {
    static final byte[] MAGIC = {0x6b, 0x38, 0x73, 0x00};

    static boolean hasMagic(byte[] body) {
        return body != null && body.length >= MAGIC.length && Arrays.equals(body, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    static Envelope parse(byte[] body) {
        if (body == null || body.length == 0) throw ApiException.badRequest("empty data");
        if (!hasMagic(body)) {
            throw ApiException.badRequest("provided data does not appear to be a protobuf message, expected prefix "
                    + Arrays.toString(MAGIC).replace(",", ""));
        }
        if (body.length == MAGIC.length) throw ApiException.badRequest("empty body");
        try {
            CodedInputStream in = CodedInputStream.newInstance(body, MAGIC.length, body.length - MAGIC.length);
            String apiVersion = "";
            String kind = "";
            ByteString raw = ByteString.EMPTY;
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                switch (tag) {
                    case (1 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
                        CodedInputStream typeMeta = in.readBytes().newCodedInput();
                        for (int t = typeMeta.readTag(); t != 0; t = typeMeta.readTag()) {
                            switch (t) {
                                case (1 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> apiVersion = typeMeta.readStringRequireUtf8();
                                case (2 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> kind = typeMeta.readStringRequireUtf8();
                                default -> typeMeta.skipField(t);
                            }
                        }
                    }
                    case (2 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> raw = in.readBytes();
                    default -> in.skipField(tag);
                }
            }
            return new Envelope(apiVersion, kind, raw);
        } catch (IOException e) {
            throw ApiException.badRequest("error decoding protobuf envelope (runtime.Unknown): " + e.getMessage());
        }
    }
}
