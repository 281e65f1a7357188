package io.k3j.store.etcd;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes the protobuf wire format (varints and length-delimited fields) for the few etcd messages k3j sends.
 * Proto3 leaves default values (0, false, empty) out, and so does this writer.
 */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(64);

    ProtoWriter uint64(int field, long value) {
        if (value != 0) {
            tag(field, 0);
            varint(value);
        }
        return this;
    }

    /** A varint field written even when 0 (a oneof member, whose presence is the point). */
    ProtoWriter uint64Always(int field, long value) {
        tag(field, 0);
        varint(value);
        return this;
    }

    ProtoWriter bool(int field, boolean value) {
        return uint64(field, value ? 1 : 0);
    }

    ProtoWriter bytes(int field, byte[] value) {
        if (value != null && value.length > 0) {
            tag(field, 2);
            varint(value.length);
            out.writeBytes(value);
        }
        return this;
    }

    ProtoWriter string(int field, String value) {
        return value == null ? this : bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    /** An embedded message; written even when empty, since its presence can matter (a oneof member). */
    ProtoWriter message(int field, ProtoWriter message) {
        byte[] b = message.toByteArray();
        tag(field, 2);
        varint(b.length);
        out.writeBytes(b);
        return this;
    }

    byte[] toByteArray() {
        return out.toByteArray();
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
