package io.k3j.apiserver.openapi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** The few protobuf wire-format writes the gnostic OpenAPI v2 messages need (proto3, no packed fields). */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    byte[] toByteArray() {
        return out.toByteArray();
    }

    void string(int field, String value) {
        if (value == null || value.isEmpty()) return; // proto3 omits defaults
        bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    void bool(int field, boolean value) {
        if (!value) return;
        tag(field, 0);
        varint(1);
    }

    /** A bool that is a oneof member: written even when false, since its presence selects the member. */
    void oneofBool(int field, boolean value) {
        tag(field, 0);
        varint(value ? 1 : 0);
    }

    void int64(int field, long value) {
        if (value == 0) return;
        tag(field, 0);
        varint(value);
    }

    void float64(int field, double value) {
        if (value == 0) return;
        tag(field, 1);
        long bits = Double.doubleToLongBits(value);
        for (int i = 0; i < 8; i++) out.write((int) (bits >>> (8 * i)) & 0xff);
    }

    /** An embedded message, written even when empty (presence matters for message fields). */
    void message(int field, Consumer<ProtoWriter> body) {
        ProtoWriter inner = new ProtoWriter();
        body.accept(inner);
        bytes(field, inner.toByteArray());
    }

    void bytes(int field, byte[] value) {
        tag(field, 2);
        varint(value.length);
        out.writeBytes(value);
    }

    private void tag(int field, int wireType) {
        varint(((long) field << 3) | wireType);
    }

    private void varint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }
}
