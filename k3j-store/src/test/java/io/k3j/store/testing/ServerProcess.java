package io.k3j.store.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A database server a fixture started as its child: its process, its temp dir and its log. */
final class ServerProcess {
    @FunctionalInterface
    interface Probe {
        void check() throws Exception;
    }

    private final String name;
    private final Process process;
    private final Path dir;
    private final Path log;

    ServerProcess(String name, Process process, Path dir, Path log) {
        this.name = name;
        this.process = process;
        this.dir = dir;
        this.log = log;
    }

    long pid() {
        return process.pid();
    }

    /** Retries {@code probe} until it passes; fails early, with the log's tail, if the server died. */
    void awaitReady(Duration timeout, Probe probe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + ":\n" + logTail());
            }
            try {
                probe.check();
                return;
            } catch (Exception e) {
                last = e;
            }
            sleep(100);
        }
        throw new IllegalStateException(name + " not ready after " + timeout + " (" + last + "):\n" + logTail(), last);
    }

    /** Sends {@code signal} to the server's PID, waits for it to exit (SIGKILL after 30 s), deletes its dir. */
    void stop(String signal) {
        try {
            terminate(signal);
        } finally {
            deleteTree(dir);
        }
    }

    /** Sends {@code signal} to the server's PID and waits for it to exit (SIGKILL after 30 s); keeps its dir. */
    void terminate(String signal) {
        try {
            if (process.isAlive()) {
                run(List.of("kill", "-" + signal, Long.toString(process.pid())));
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a setup command to completion, failing with its output if it fails. */
    static void run(List<String> command, Path workDir) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            if (workDir != null) {
                pb.directory(workDir.toFile());
            }
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", command) + " failed to start", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void run(List<String> command) {
        run(command, null);
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
