package io.k3j.agent.ingress;

import io.netty.buffer.ByteBuf;

/**
 * The line positions of one HTTP/1.1 message head (start line and header fields) inside a buffer, found without
 * copying or decoding it: {@link Http1Proxy} reads only the fields it needs from them and copies the others' bytes
 * through. One instance per connection and direction, reused for every message (its arrays grow, rarely).
 */
final class Http1Head {
    /** Header field kinds that matter to the proxy; every other field is {@link #OTHER} and passes through. */
    static final int OTHER = 0, HOST = 1, CONNECTION = 2, CONTENT_LENGTH = 3, TRANSFER_ENCODING = 4, UPGRADE = 5,
            EXPECT = 6, KEEP_ALIVE = 7, PROXY_CONNECTION = 8, TE = 9, TRAILER = 10, PROXY_AUTHORIZATION = 11,
            X_FORWARDED_FOR = 12, X_FORWARDED_PROTO = 13, X_FORWARDED_HOST = 14, X_FORWARDED_PORT = 15, X_REAL_IP = 16;
    private static final String[] NAMES = {null, "host", "connection", "content-length", "transfer-encoding", "upgrade",
        "expect", "keep-alive", "proxy-connection", "te", "trailer", "proxy-authorization", "x-forwarded-for",
        "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip"};
    private static final byte[][] NAME_BYTES = new byte[NAMES.length][];

    static {
        for (int i = 1; i < NAMES.length; i++) NAME_BYTES[i] = NAMES[i].getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Result of {@link #parse}: a whole head, more bytes needed, or not HTTP. */
    static final int COMPLETE = 1, INCOMPLETE = 0, MALFORMED = -1;

    /** Line i spans [start[i], end[i]) without its CR LF; for i ≥ 1, colon[i] is the index of its ':'. */
    int[] start = new int[24];
    int[] end = new int[24];
    int[] colon = new int[24];
    int[] kind = new int[24];
    /** Set by the caller: line i is not forwarded. */
    boolean[] drop = new boolean[24];
    /** Lines, the start line included. */
    int count;
    /** Index just past the empty line that ends the head. */
    int headEnd;

    /**
     * Finds the lines of a head that starts at {@code from} (empty lines before it are skipped, RFC 9112 2.2) and
     * classifies its fields. Bare LF line ends are accepted; obsolete line folding and a space before the colon are
     * not (RFC 9112 5.1, 5.2).
     *
     * @return {@link #COMPLETE}, {@link #INCOMPLETE} (also when {@code max} bytes hold no whole head: the caller
     *         compares with its own limit), or {@link #MALFORMED}
     */
    int parse(ByteBuf buf, int from, int to) {
        count = 0;
        int i = from;
        int lineStart = from;
        while (true) {
            int lf = buf.indexOf(i, to, (byte) '\n');
            if (lf < 0) return INCOMPLETE;
            int lineEnd = lf > lineStart && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            i = lf + 1;
            if (lineEnd == lineStart) {
                if (count == 0) { // an empty line before the start line
                    lineStart = i;
                    continue;
                }
                headEnd = i;
                return COMPLETE;
            }
            if (count == start.length) grow();
            start[count] = lineStart;
            end[count] = lineEnd;
            drop[count] = false;
            if (count > 0) {
                byte first = buf.getByte(lineStart);
                if (first == ' ' || first == '\t') return MALFORMED; // obs-fold
                int c = buf.indexOf(lineStart, lineEnd, (byte) ':');
                if (c <= lineStart) return MALFORMED;
                byte before = buf.getByte(c - 1);
                if (before == ' ' || before == '\t') return MALFORMED;
                colon[count] = c;
                kind[count] = classify(buf, lineStart, c);
            }
            count++;
            lineStart = i;
        }
    }

    private void grow() {
        int n = start.length * 2;
        start = java.util.Arrays.copyOf(start, n);
        end = java.util.Arrays.copyOf(end, n);
        colon = java.util.Arrays.copyOf(colon, n);
        kind = java.util.Arrays.copyOf(kind, n);
        drop = java.util.Arrays.copyOf(drop, n);
    }

    private static int classify(ByteBuf buf, int from, int to) {
        int len = to - from;
        // the first letter and the length narrow it down to one or two candidates before any comparison
        int first = buf.getByte(from) | 0x20;
        int k = switch (first) {
            case 'h' -> len == 4 ? HOST : OTHER;
            case 'c' -> len == 10 ? CONNECTION : len == 14 ? CONTENT_LENGTH : OTHER;
            case 't' -> len == 17 ? TRANSFER_ENCODING : len == 2 ? TE : len == 7 ? TRAILER : OTHER;
            case 'u' -> len == 7 ? UPGRADE : OTHER;
            case 'e' -> len == 6 ? EXPECT : OTHER;
            case 'k' -> len == 10 ? KEEP_ALIVE : OTHER;
            case 'p' -> len == 16 ? PROXY_CONNECTION : len == 19 ? PROXY_AUTHORIZATION : OTHER;
            case 'x' -> len == 15 ? X_FORWARDED_FOR : len == 17 ? X_FORWARDED_PROTO : len == 16
                    ? (buf.getByte(from + 12) | 0x20) == 'h' ? X_FORWARDED_HOST : X_FORWARDED_PORT : len == 9 ? X_REAL_IP : OTHER;
            default -> OTHER;
        };
        return k != OTHER && equalsIgnoreCase(buf, from, NAME_BYTES[k]) ? k : OTHER;
    }

    /** Whether buf[from, from + lower.length) is {@code lower}, ignoring ASCII case. */
    static boolean equalsIgnoreCase(ByteBuf buf, int from, byte[] lower) {
        for (int j = 0; j < lower.length; j++) {
            int b = buf.getByte(from + j);
            if (b >= 'A' && b <= 'Z') b |= 0x20;
            if (b != lower[j]) return false;
        }
        return true;
    }

    /** Where line i's value starts, leading blanks skipped. */
    int valueStart(ByteBuf buf, int i) {
        int v = colon[i] + 1;
        int e = end[i];
        while (v < e && isBlank(buf.getByte(v))) v++;
        return v;
    }

    /** Where line i's value ends, trailing blanks dropped. */
    int valueEnd(ByteBuf buf, int i) {
        int v = valueStart(buf, i);
        int e = end[i];
        while (e > v && isBlank(buf.getByte(e - 1))) e--;
        return e;
    }

    static boolean isBlank(byte b) {
        return b == ' ' || b == '\t';
    }

    /** Whether line i's field name equals buf[from, to), ignoring ASCII case. */
    boolean nameEquals(ByteBuf buf, int i, int from, int to) {
        int len = colon[i] - start[i];
        if (len != to - from) return false;
        for (int j = 0; j < len; j++) {
            int a = buf.getByte(start[i] + j);
            int b = buf.getByte(from + j);
            if (a >= 'A' && a <= 'Z') a |= 0x20;
            if (b >= 'A' && b <= 'Z') b |= 0x20;
            if (a != b) return false;
        }
        return true;
    }

    /**
     * Marks as dropped the Connection fields, the fields they name and the classic hop-by-hop set (RFC 9110 7.6.1),
     * and reports the Connection options the proxy acts on.
     *
     * @return a bit set of {@link #CLOSE_TOKEN}, {@link #KEEP_ALIVE_TOKEN}, {@link #UPGRADE_TOKEN}
     */
    int dropHopByHop(ByteBuf buf) {
        int tokens = 0;
        boolean named = false;
        for (int i = 1; i < count; i++) {
            switch (kind[i]) {
                case CONNECTION -> {
                    drop[i] = true;
                    int v = valueStart(buf, i);
                    int e = end[i];
                    while (v < e) {
                        int comma = buf.indexOf(v, e, (byte) ',');
                        int te = comma < 0 ? e : comma;
                        int ts = v;
                        while (ts < te && isBlank(buf.getByte(ts))) ts++;
                        int tEnd = te;
                        while (tEnd > ts && isBlank(buf.getByte(tEnd - 1))) tEnd--;
                        int len = tEnd - ts;
                        if (len == 5 && equalsIgnoreCase(buf, ts, CLOSE)) {
                            tokens |= CLOSE_TOKEN;
                        } else if (len == 10 && equalsIgnoreCase(buf, ts, NAME_BYTES[KEEP_ALIVE])) {
                            tokens |= KEEP_ALIVE_TOKEN;
                        } else if (len == 7 && equalsIgnoreCase(buf, ts, NAME_BYTES[UPGRADE])) {
                            tokens |= UPGRADE_TOKEN;
                        } else if (len > 0) {
                            named = true;
                        }
                        v = te + 1;
                    }
                }
                case KEEP_ALIVE, PROXY_CONNECTION, TE, TRAILER, PROXY_AUTHORIZATION, UPGRADE -> drop[i] = true;
                default -> { }
            }
        }
        if (named) dropNamed(buf);
        return tokens;
    }

    static final int CLOSE_TOKEN = 1, KEEP_ALIVE_TOKEN = 2, UPGRADE_TOKEN = 4;
    private static final byte[] CLOSE = {'c', 'l', 'o', 's', 'e'};

    /** Drops the fields a Connection field names (rare: only when it names something besides close/keep-alive/upgrade). */
    private void dropNamed(ByteBuf buf) {
        for (int c = 1; c < count; c++) {
            if (kind[c] != CONNECTION) continue;
            int v = valueStart(buf, c);
            int e = end[c];
            while (v < e) {
                int comma = buf.indexOf(v, e, (byte) ',');
                int te = comma < 0 ? e : comma;
                int ts = v;
                while (ts < te && isBlank(buf.getByte(ts))) ts++;
                int tEnd = te;
                while (tEnd > ts && isBlank(buf.getByte(tEnd - 1))) tEnd--;
                if (tEnd > ts) {
                    for (int i = 1; i < count; i++) {
                        if (!drop[i] && nameEquals(buf, i, ts, tEnd)) drop[i] = true;
                    }
                }
                v = te + 1;
            }
        }
    }

    /** The first line of the given kind, or -1. */
    int find(int k) {
        for (int i = 1; i < count; i++) {
            if (kind[i] == k) return i;
        }
        return -1;
    }

    /** Copies line i with its CR LF (normalized) to {@code out}. */
    void copyLine(ByteBuf buf, int i, ByteBuf out) {
        out.writeBytes(buf, start[i], end[i] - start[i]);
        out.writeShort(CRLF);
    }

    static final int CRLF = ('\r' << 8) | '\n';

    /** The bytes of the kept lines (with CR LF each), to size an output buffer. */
    int keptBytes() {
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (!drop[i]) n += end[i] - start[i] + 2;
        }
        return n;
    }
}
