package io.k3j.agent.network;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The network stack of the namespace the agent runs in, through {@code ip}, {@code bridge} and {@code nft} (netlink:
 * in a namespace entered with nsenter, sysfs still shows the host's links) and {@code /proc/sys/net} (which follows
 * the namespace). Batches go on stdin, so a whole table or a set of routes is one exec.
 */
final class Kernel {
    private static final long TIMEOUT_SECONDS = 30;
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private Kernel() {
    }

    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    /** Runs {@code command} with {@code stdin} (may be null), stdout and stderr merged. */
    static Result run(String stdin, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        String current = pb.environment().get("PATH");
        pb.environment().put("PATH", current == null || current.isEmpty() ? PATH : PATH + ":" + current);
        try {
            Process p = pb.start();
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (InputStream o = p.getInputStream()) {
                    o.transferTo(out);
                } catch (IOException ignored) {
                    // killed below
                }
            });
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new UncheckedIOException(new IOException(String.join(" ", command) + ": no exit within " + TIMEOUT_SECONDS + " s"));
            }
            reader.join(5000);
            return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted running " + String.join(" ", command)));
        }
    }

    static Result run(String... command) {
        return run(null, List.of(command));
    }

    /** Runs a command that must succeed. */
    static String check(String... command) {
        Result r = run(command);
        if (!r.ok()) throw new IllegalStateException(String.join(" ", command) + " failed (exit " + r.exitCode() + "): " + r.output().strip());
        return r.output();
    }

    /** {@code ip -force -batch -}: every line is tried, failures are reported together. */
    static Result ipBatch(List<String> lines) {
        return run(String.join("\n", lines) + "\n", List.of("ip", "-force", "-batch", "-"));
    }

    /** {@code bridge -force -batch -}. */
    static Result bridgeBatch(List<String> lines) {
        return run(String.join("\n", lines) + "\n", List.of("bridge", "-force", "-batch", "-"));
    }

    /** {@code nft -f -}: the batch is one transaction. */
    static void nft(String script) {
        Result r = run(script, List.of("nft", "-f", "-"));
        if (!r.ok()) throw new IllegalStateException("nft -f - failed (exit " + r.exitCode() + "): " + r.output().strip() + "\n" + script);
    }

    /** The JSON output of an {@code ip -j ...} or {@code bridge -j ...} command; an empty array when it printed nothing. */
    static JsonNode json(String... command) {
        String out = check(command).strip();
        if (out.isEmpty()) return Json.array();
        return Json.parse(out.getBytes(StandardCharsets.UTF_8));
    }

    static boolean linkExists(String name) {
        return run("ip", "link", "show", "dev", name).ok();
    }

    /** Writes a sysctl of this namespace through /proc/sys; false when the file does not exist. */
    static boolean sysctl(String path, String value) {
        Path file = Path.of("/proc/sys").resolve(path);
        if (!Files.exists(file)) return false;
        try {
            Files.writeString(file, value);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set " + file + " to " + value, e);
        }
    }
}
