package io.k3j.apiserver.openapi;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A protobuf wire-format reader for tests: the length-delimited fields of one message, by number. */
final class ProtoReader {
    private final List<int[]> fields = new ArrayList<>(); // {number, offset, length}
    private final byte[] buf;

    ProtoReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    private ProtoReader(byte[] buf, int from, int to) {
        this.buf = buf;
        int[] pos = {from};
        while (pos[0] < to) {
            long tag = varint(pos);
            int number = (int) (tag >>> 3);
            switch ((int) (tag & 7)) {
                case 0 -> varint(pos);
                case 1 -> pos[0] += 8;
                case 5 -> pos[0] += 4;
                case 2 -> {
                    int len = (int) varint(pos);
                    fields.add(new int[] {number, pos[0], len});
                    pos[0] += len;
                }
                default -> throw new IllegalArgumentException("wire type " + (tag & 7) + " at " + pos[0]);
            }
        }
        if (pos[0] != to) throw new IllegalArgumentException("message overruns its length");
    }

    private long varint(int[] pos) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            byte b = buf[pos[0]++];
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) return v;
        }
    }

    List<String> strings(int number) {
        List<String> out = new ArrayList<>();
        for (int[] f : fields) if (f[0] == number) out.add(new String(buf, f[1], f[2], StandardCharsets.UTF_8));
        return out;
    }

    List<ProtoReader> message(int number) {
        List<ProtoReader> out = new ArrayList<>();
        for (int[] f : fields) if (f[0] == number) out.add(new ProtoReader(buf, f[1], f[1] + f[2]));
        return out;
    }
}
