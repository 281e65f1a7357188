package io.k3j.agent.ingress;

import io.netty.buffer.ByteBuf;

/**
 * Follows a chunked body (RFC 9112 7.1) as its bytes pass, to know where it ends, without copying it: the proxy
 * forwards the framing as it came, or, for an HTTP/1.0 client that knows no chunks, only the data the
 * {@link DataSink} is handed. One instance per connection and direction, reset for every message.
 */
final class Http1Chunks {
    /** Receives the data bytes buf[from, from + length) of the chunks (not their framing). */
    interface DataSink {
        void data(ByteBuf buf, int from, int length);
    }

    private static final int SIZE = 0, EXTENSION = 1, SIZE_LF = 2, DATA = 3, DATA_CR = 4, DATA_LF = 5, TRAILER_START = 6,
            TRAILER_LINE = 7, TRAILER_END_LF = 8, DONE = 9, BAD = 10;
    private int state;
    private long size;
    private int digits;

    void reset() {
        state = SIZE;
        size = 0;
        digits = 0;
    }

    boolean done() {
        return state == DONE;
    }

    boolean failed() {
        return state == BAD;
    }

    /**
     * Advances over buf[from, to).
     *
     * @return the index where it stopped: {@code to}, or just past the body's last byte once {@link #done()}, or
     *         where the framing broke once {@link #failed()}
     */
    int scan(ByteBuf buf, int from, int to, DataSink sink) {
        int i = from;
        while (i < to && state != DONE && state != BAD) {
            if (state == DATA) {
                int n = (int) Math.min(size, to - i);
                if (sink != null) sink.data(buf, i, n);
                i += n;
                size -= n;
                if (size == 0) state = DATA_CR;
                continue;
            }
            byte b = buf.getByte(i++);
            switch (state) {
                case SIZE -> {
                    int d = Character.digit(b, 16);
                    if (d >= 0) {
                        if (++digits > 15) {
                            state = BAD;
                        } else {
                            size = size * 16 + d;
                        }
                    } else if (digits > 0 && (b == ';' || b == ' ' || b == '\t')) {
                        state = EXTENSION;
                    } else if (digits > 0 && b == '\r') {
                        state = SIZE_LF;
                    } else if (digits > 0 && b == '\n') {
                        sizeLineEnd();
                    } else {
                        state = BAD;
                    }
                }
                case EXTENSION -> {
                    if (b == '\n') sizeLineEnd();
                }
                case SIZE_LF -> {
                    if (b == '\n') {
                        sizeLineEnd();
                    } else {
                        state = BAD;
                    }
                }
                case DATA_CR -> state = b == '\r' ? DATA_LF : b == '\n' ? SIZE : BAD;
                case DATA_LF -> state = b == '\n' ? SIZE : BAD;
                case TRAILER_START -> state = b == '\r' ? TRAILER_END_LF : b == '\n' ? DONE : TRAILER_LINE;
                case TRAILER_LINE -> {
                    if (b == '\n') state = TRAILER_START;
                }
                case TRAILER_END_LF -> state = b == '\n' ? DONE : BAD;
                default -> state = BAD;
            }
        }
        return i;
    }

    private void sizeLineEnd() {
        digits = 0;
        state = size == 0 ? TRAILER_START : DATA;
    }
}
