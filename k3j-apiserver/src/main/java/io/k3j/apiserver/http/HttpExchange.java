package io.k3j.apiserver.http;

import java.io.IOException;
import java.util.Map;

/**
 * Where a handler writes its answer: either one whole response, or a stream of chunks (watches, logs).
 * Implementations are safe to call from any thread.
 */
public interface HttpExchange {

    /** Sends a complete response. */
    void send(int status, String contentType, byte[] body, Map<String, String> headers);

    /** Starts a streamed response; chunks follow with {@link Stream#write}. */
    Stream stream(int status, String contentType, Map<String, String> headers);

    /**
     * Starts a complete response of {@code contentLength} bytes whose body follows in pieces with
     * {@link Stream#write} and ends with {@link Stream#close}: a large answer (a LIST of thousands of objects) is
     * sent without holding all of it in one array. This default gathers the pieces and {@link #send sends} them
     * at close.
     */
    default Stream stream(int status, String contentType, long contentLength, Map<String, String> headers) {
        HttpExchange ex = this;
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream((int) Math.min(contentLength, 1 << 20));
        return new Stream() {
            private boolean closed;

            @Override
            public void write(byte[] chunk) {
                body.writeBytes(chunk);
            }

            @Override
            public boolean isOpen() {
                return !closed;
            }

            @Override
            public void onClose(Runnable action) {
            }

            @Override
            public void close() {
                if (closed) return;
                closed = true;
                ex.send(status, contentType, body.toByteArray(), headers);
            }
        };
    }

    /** True once a response has been started. */
    boolean responded();

    /**
     * Takes the connection over for a protocol switch (SPDY or WebSocket upgrades proxied to a kubelet): the HTTP
     * handlers leave the pipeline, reading is paused, and the caller writes the {@code 101} answer and then raw
     * bytes itself. Counts as a response.
     *
     * @return the raw connection, or null when the request didn't arrive on an HTTP/1.1 connection (HTTP/2
     *         streams can't switch protocols)
     */
    default io.netty.channel.Channel takeOver() {
        return null;
    }

    /** A streamed response body. */
    interface Stream extends AutoCloseable {
        /**
         * Writes and flushes one chunk; blocks while the client is not reading (back-pressure).
         *
         * @throws IOException when the client has gone away
         */
        void write(byte[] chunk) throws IOException;

        /** True while the client is still connected. */
        boolean isOpen();

        /** Runs {@code action} once the client disconnects (or the stream is closed). */
        void onClose(Runnable action);

        /** Ends the response. */
        @Override
        void close();
    }
}
