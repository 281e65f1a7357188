package io.k3j.agent.kubelet;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * Reads a container's CRI log file ({@code <RFC3339Nano> <stdout|stderr> <F|P> <text>} lines, P marking a partial
 * line continued by the next entry) the way kubelet's {@code ReadLogs} does: since a time, the last N lines,
 * with or without timestamps, up to a byte limit, and following the file as it grows (and across a rotation)
 * until the container has stopped and its log is read.
 */
final class ContainerLogs {
    /** How often a followed log is polled for growth. */
    static final long FOLLOW_POLL_MILLIS = 100;

    /** Where the log goes; {@link #write} blocks while the client is slow. */
    interface Sink {
        void write(byte[] bytes) throws IOException;

        boolean isOpen();
    }

    /** kubelet's log options (PodLogOptions as the kubelet gets them). */
    record Options(boolean follow, Instant since, boolean timestamps, long tailLines, long limitBytes) {
        /** -1 means unlimited for tailLines and limitBytes. */
        static Options defaults() {
            return new Options(false, null, false, -1, -1);
        }
    }

    private ContainerLogs() {
    }

    /**
     * Copies the log to {@code sink}.
     *
     * @param stillRunning asked when a followed log has no more data: false ends the follow
     */
    static void copy(Path file, Options opts, Sink sink, Supplier<Boolean> stillRunning) throws IOException, InterruptedException {
        long[] remaining = {opts.limitBytes() < 0 ? Long.MAX_VALUE : opts.limitBytes()};
        long start = opts.tailLines() >= 0 ? tailOffset(file, opts.tailLines()) : 0;
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        // the file stays open: after a rotation (rename + new file) the old one is read to its end before switching
        FileChannel in = open(file);
        Object openKey = fileKey(file);
        try {
            if (in != null) in.position(start);
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(64 * 1024);
            while (sink.isOpen() && remaining[0] > 0) {
                if (in == null) {
                    in = open(file);
                    openKey = fileKey(file);
                    if (in == null) {
                        if (!opts.follow() || !stillRunning.get()) return;
                        Thread.sleep(FOLLOW_POLL_MILLIS);
                        continue;
                    }
                }
                buf.clear();
                int n = in.read(buf);
                if (n > 0) {
                    byte[] chunk = java.util.Arrays.copyOf(buf.array(), n);
                    int lineStart = 0;
                    for (int i = 0; i < chunk.length; i++) {
                        if (chunk[i] != '\n') continue;
                        pending.write(chunk, lineStart, i - lineStart);
                        lineStart = i + 1;
                        emit(pending.toByteArray(), opts, sink, remaining);
                        pending.reset();
                        if (remaining[0] <= 0) return;
                    }
                    pending.write(chunk, lineStart, chunk.length - lineStart);
                    continue;
                }
                // at the end of what is open: has the runtime rotated (or truncated) the log?
                Object key = fileKey(file);
                boolean rotated = key != null && !key.equals(openKey);
                boolean truncated = !rotated && key != null && Files.size(file) < in.position();
                if (rotated || truncated) {
                    in.close();
                    in = open(file);
                    openKey = fileKey(file);
                    pending.reset();
                    continue;
                }
                if (!opts.follow() || !stillRunning.get()) return;
                Thread.sleep(FOLLOW_POLL_MILLIS);
            }
        } finally {
            if (in != null) in.close();
        }
    }

    private static FileChannel open(Path file) throws IOException {
        try {
            return FileChannel.open(file, java.nio.file.StandardOpenOption.READ);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    /** Writes one entry's text (for an F entry with its newline) when it passes the since filter. */
    private static void emit(byte[] line, Options opts, Sink sink, long[] remaining) throws IOException {
        Entry e = Entry.parse(line);
        if (e == null) return;
        if (opts.since() != null && e.time.isBefore(opts.since())) return;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (opts.timestamps()) out.write((e.rawTime + " ").getBytes(StandardCharsets.US_ASCII));
        out.write(line, e.textStart, line.length - e.textStart);
        if (e.full) out.write('\n');
        byte[] bytes = out.toByteArray();
        if (bytes.length > remaining[0]) bytes = java.util.Arrays.copyOf(bytes, (int) remaining[0]);
        remaining[0] -= bytes.length;
        sink.write(bytes);
    }

    /** One parsed entry of a CRI log line. */
    private record Entry(String rawTime, Instant time, boolean full, int textStart) {
        static Entry parse(byte[] line) {
            int sp1 = indexOf(line, (byte) ' ', 0);
            if (sp1 < 0) return null;
            int sp2 = indexOf(line, (byte) ' ', sp1 + 1);
            if (sp2 < 0) return null;
            int sp3 = indexOf(line, (byte) ' ', sp2 + 1);
            String tag = new String(line, sp2 + 1, (sp3 < 0 ? line.length : sp3) - sp2 - 1, StandardCharsets.US_ASCII);
            String raw = new String(line, 0, sp1, StandardCharsets.US_ASCII);
            Instant t;
            try {
                t = java.time.OffsetDateTime.parse(raw).toInstant();
            } catch (java.time.format.DateTimeParseException ex) {
                return null;
            }
            // the tag may carry more than F/P in future versions, separated by ':'
            boolean partial = tag.split(":")[0].equals("P");
            return new Entry(raw, t, !partial, sp3 < 0 ? line.length : sp3 + 1);
        }
    }

    private static int indexOf(byte[] b, byte c, int from) {
        for (int i = from; i < b.length; i++) if (b[i] == c) return i;
        return -1;
    }

    /** Where the last {@code lines} full lines start (partial entries belong to the line their F entry ends). */
    static long tailOffset(Path file, long lines) throws IOException {
        if (!Files.exists(file)) return 0;
        if (lines == 0) return Files.size(file);
        // read entries from the start keeping the offsets of the last N line starts: logs are bounded by rotation
        Deque<Long> starts = new ArrayDeque<>();
        long offset = 0;
        long lineStart = 0;
        try (var in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            ByteArrayOutputStream cur = new ByteArrayOutputStream();
            for (int b; (b = in.read()) != -1; ) {
                offset++;
                if (b != '\n') {
                    cur.write(b);
                    continue;
                }
                Entry e = Entry.parse(cur.toByteArray());
                cur.reset();
                if (e != null && e.full) {
                    starts.addLast(lineStart);
                    if (starts.size() > lines) starts.removeFirst();
                    lineStart = offset;
                } else if (e == null) {
                    lineStart = offset;
                }
            }
        }
        return starts.isEmpty() ? 0 : starts.peekFirst();
    }

    private static Object fileKey(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }
}
