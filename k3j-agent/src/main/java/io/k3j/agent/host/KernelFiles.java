package io.k3j.agent.host;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reading /proc and /sys. These files report a size of 0 and must be read as a stream to their end:
 * {@code Files.readString} trusts the size and, on the kernels here, returns only the first byte of
 * {@code /proc/sys/kernel/pid_max} ("3" for 32768).
 */
public final class KernelFiles {
    private KernelFiles() {
    }

    /** The whole file as text, stripped of surrounding white space. */
    public static String read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
    }
}
