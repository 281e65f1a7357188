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
}
