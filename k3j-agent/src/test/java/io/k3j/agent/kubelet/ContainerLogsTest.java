package io.k3j.agent.kubelet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ContainerLogsTest {
    private Path dir;
    private Path file;

    @BeforeEach
    void write() throws Exception {
        dir = Files.createTempDirectory("k3j-logs");
        file = dir.resolve("0.log");
        Files.writeString(file, """
                2026-01-01T00:00:01.000000001Z stdout F line one
                2026-01-01T00:00:02.000000001Z stderr P line\s
                2026-01-01T00:00:02.500000001Z stderr F two
                2026-01-01T00:00:03.000000001Z stdout F line three
                """);
    }

    @AfterEach
    void clean() throws Exception {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    private String read(ContainerLogs.Options opts) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ContainerLogs.copy(file, opts, new ContainerLogs.Sink() {
            @Override
            public void write(byte[] bytes) {
                out.writeBytes(bytes);
            }

            @Override
            public boolean isOpen() {
                return true;
            }
        }, () -> false);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("partial entries join into one line; tail counts whole lines")
    void tail() throws Exception {
        assertEquals("line one\nline two\nline three\n", read(ContainerLogs.Options.defaults()));
        assertEquals("line three\n", read(new ContainerLogs.Options(false, null, false, 1, -1)));
        assertEquals("line two\nline three\n", read(new ContainerLogs.Options(false, null, false, 2, -1)));
        assertEquals("", read(new ContainerLogs.Options(false, null, false, 0, -1)));
        assertEquals("line one\nline two\nline three\n", read(new ContainerLogs.Options(false, null, false, 10, -1)));
    }

    @Test
    @DisplayName("since, timestamps and the byte limit")
    void filters() throws Exception {
        assertEquals("line three\n", read(new ContainerLogs.Options(false, Instant.parse("2026-01-01T00:00:02.9Z"), false, -1, -1)));
        assertEquals("2026-01-01T00:00:01.000000001Z line one\n",
                read(new ContainerLogs.Options(false, Instant.parse("2026-01-01T00:00:00Z"), true, -1, 40)));
        assertEquals("line o", read(new ContainerLogs.Options(false, null, false, -1, 6)));
    }

    @Test
    @DisplayName("a followed log continues in the new file after a rotation and ends once the container stopped")
    void followAcrossRotation() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        StringBuffer out = new StringBuffer();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                ContainerLogs.copy(file, new ContainerLogs.Options(true, null, false, 0, -1), new ContainerLogs.Sink() {
                    @Override
                    public void write(byte[] bytes) {
                        out.append(new String(bytes, StandardCharsets.UTF_8));
                    }

                    @Override
                    public boolean isOpen() {
                        return true;
                    }
                }, running::get);
            } catch (Exception e) {
                out.append("ERROR ").append(e);
            }
        });
        Thread.sleep(3 * ContainerLogs.FOLLOW_POLL_MILLIS);
        Files.writeString(file, "2026-01-01T00:00:04Z stdout F four\n", java.nio.file.StandardOpenOption.APPEND);
        awaitText(out, "four\n");
        // the runtime rotates: the file is renamed and a new one started
        Path rotated = dir.resolve("0.log.20260101-000005");
        Files.move(file, rotated);
        Files.writeString(rotated, "2026-01-01T00:00:04.5Z stdout F late\n", java.nio.file.StandardOpenOption.APPEND);
        Files.writeString(file, "2026-01-01T00:00:05Z stdout F five\n");
        awaitText(out, "four\nlate\nfive\n");
        running.set(false);
        reader.join(5_000);
        assertEquals(false, reader.isAlive(), "the follow did not end after the container stopped");
        Files.deleteIfExists(rotated);
    }

    private static void awaitText(StringBuffer out, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!out.toString().equals(expected)) {
            if (System.nanoTime() > deadline) throw new AssertionError("expected " + expected + " but was " + out);
            Thread.sleep(20);
        }
    }
}
