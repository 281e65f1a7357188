package io.k3j.agent.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Child processes of the agent and processes it finds again by PID. Everything here addresses one process by its
 * PID, never by name: on a host running several nodes (one containerd each) a name matches the wrong ones.
 */
public final class Processes {

    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private Processes() {
    }

    /** The output and exit code of a finished command. */
    public record Result(int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /**
     * Runs {@code command} to completion with stdout and stderr merged.
     *
     * @throws UncheckedIOException when it cannot be started or does not finish within {@code timeout} (it is killed)
     */
    public static Result run(Duration timeout, List<String> command) {
        return run(timeout, Map.of(), command);
    }

    /** As {@link #run(Duration, List)} with {@code env} added to the agent's environment. */
    public static Result run(Duration timeout, Map<String, String> env, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("PATH", path(pb.environment().get("PATH")));
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            // read on a helper thread so that a chatty command cannot block on a full pipe past the timeout
            var out = new java.io.ByteArrayOutputStream();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (var in = p.getInputStream()) {
                    in.transferTo(out);
                } catch (IOException ignored) {
                    // the process was killed
                }
            });
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new UncheckedIOException(new IOException(String.join(" ", command) + ": no exit within " + timeout));
            }
            reader.join(5000);
            return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted running " + command.getFirst()));
        }
    }

    /** As {@link #run(Duration, List)}. */
    public static Result run(Duration timeout, String... command) {
        return run(timeout, List.of(command));
    }

    /**
     * Starts a long-running daemon in a session of its own (so that a terminal's Ctrl-C or the agent's process group
     * being signalled does not reach it), stdin from /dev/null, stdout and stderr appended to {@code log}.
     */
    public static Process startDaemon(List<String> command, Path log, Map<String, String> env) {
        List<String> cmd = new ArrayList<>();
        // setsid execs the command in the same process (a forked child is never a group leader), so the PID is the daemon's
        if (Files.isExecutable(SETSID)) cmd.add(SETSID.toString());
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("PATH", path(pb.environment().get("PATH")));
        try {
            Files.createDirectories(log.getParent());
            return pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + command.getFirst() + ": " + e.getMessage(), e);
        }
    }

    /** The process with this PID if it is alive. */
    public static Optional<ProcessHandle> alive(long pid) {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    }

    /** The process's command line (NUL-separated arguments joined by spaces), empty when it is gone. */
    public static String commandLine(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8).replace('\0', ' ').trim();
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Sends SIGTERM, waits up to {@code grace} for the process to exit, then SIGKILL.
     *
     * @return true when the process is gone
     */
    public static boolean terminate(ProcessHandle process, Duration grace) {
        if (!process.isAlive()) return true;
        process.destroy();
        try {
            process.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            process.destroyForcibly();
            try {
                process.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // reported below
            }
            return !process.isAlive();
        }
    }

    /** Sends SIGKILL to one process, by PID. */
    public static void kill(long pid) {
        alive(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    /** The sbin directories come first: runc, iptables and ip live there, and a non-login PATH often lacks them. */
    static String path(String current) {
        String base = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        return current == null || current.isEmpty() ? base : base + ":" + current;
    }
}
