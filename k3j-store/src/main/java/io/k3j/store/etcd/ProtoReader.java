package io.k3j.store.etcd;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the protobuf wire format field by field: {@code while (r.next()) switch (r.field()) {...}}. Fields this
 * client does not know are skipped, as protobuf requires, so newer etcd versions can add fields.
 */
final class ProtoReader {
    private final byte[] buf;
    private int pos;
    private final int end;
    private int field;
    private int wireType;

    ProtoReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    private ProtoReader(byte[] buf, int offset, int end) {
        this.buf = buf;
        this.pos = offset;
        this.end = end;
    }

    /** Advances to the next field; false at the end of the message. */
    boolean next() {
        if (pos >= end) return false;
        long tag = varint();
        field = (int) (tag >>> 3);
        wireType = (int) (tag & 7);
        return true;
    }

    int field() {
        return field;
    }

    long int64() {
        expect(0);
        return varint();
    }

    boolean bool() {
        return int64() != 0;
    }

    byte[] bytes() {
        int len = length();
        byte[] b = Arrays.copyOfRange(buf, pos, pos + len);
        pos += len;
        return b;
    }

    String string() {
        int len = length();
        String s = new String(buf, pos, len, StandardCharsets.UTF_8);
        pos += len;
        return s;
    }

    ProtoReader message() {
        int len = length();
        ProtoReader r = new ProtoReader(buf, pos, pos + len);
        pos += len;
        return r;
    }

    void skip() {
        switch (wireType) {
            case 0 -> varint();
            case 1 -> pos += 8;
            case 2 -> {
                int len = length(); // not `pos += length()`: that would add to pos as it was before the length was read
                pos += len;
            }
            case 5 -> pos += 4;
            default -> throw new IllegalStateException("unsupported protobuf wire type " + wireType + " (field " + field + ")");
        }
        if (pos > end) throw new IllegalStateException("truncated protobuf message");
    }

    private int length() {
        expect(2);
        long len = varint();
        if (len < 0 || pos + len > end) throw new IllegalStateException("truncated protobuf message (field " + field + ")");
        return (int) len;
    }

    private void expect(int type) {
        if (wireType != type) {
            throw new IllegalStateException("protobuf field " + field + " has wire type " + wireType + " (expected: " + type + ")");
        }
    }

    private long varint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) throw new IllegalStateException("truncated protobuf varint");
            byte b = buf[pos++];
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new IllegalStateException("malformed protobuf varint");
    }
}
