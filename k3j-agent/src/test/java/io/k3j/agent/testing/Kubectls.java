package io.k3j.agent.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Runs a real kubectl (the default one, or another minor version) against a test cluster: to completion with a
 * timeout, optionally with stdin, or in the background (logs -f, port-forward) with its output collected in files.
 */
public final class Kubectls {
    public static final Path DEFAULT = Path.of("/usr/bin/kubectl");

    private final Path binary;
    private final Path kubeconfig;

    public Kubectls(Path binary, Path kubeconfig) {
        this.binary = binary;
        this.kubeconfig = kubeconfig;
    }

    /** kubectl 1.&lt;minor&gt; from the Google Cloud SDK's set, e.g. 27 (SPDY streaming) or 33 (WebSocket). */
    public static Path version(int minor) {
        return Path.of("/usr/lib/google-cloud-sdk/bin/kubectl.1." + minor);
    }

    public Kubectls with(Path otherBinary) {
        return new Kubectls(otherBinary, kubeconfig);
    }

    public record Result(int exit, String out, String err) {
        /** The output, failing unless kubectl exited 0. */
        public String ok() {
            if (exit != 0) throw new AssertionError("kubectl exited " + exit + ": " + out + err);
            return out;
        }
    }

    public Result run(String... args) {
        return run(null, Duration.ofSeconds(90), args);
    }

    /** Runs to completion; {@code stdin} (may be null) is written to kubectl's standard input, then closed. */
    public Result run(byte[] stdin, Duration timeout, String... args) {
        try (Background b = start(stdin, args)) {
            if (!b.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish within " + timeout + ": " + b.out() + b.err());
            }
            return new Result(b.process.exitValue(), b.out(), b.err());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    /** Starts kubectl in the background; close the result to stop it (it is killed if still running). */
    public Background start(byte[] stdin, String... args) {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--kubeconfig", kubeconfig.toString()));
        cmd.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("kubectl", ".out");
            Path err = Files.createTempFile("kubectl", ".err");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            if (stdin == null) pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process p = pb.start();
            if (stdin != null) {
                try (var in = p.getOutputStream()) {
                    in.write(stdin);
                } catch (IOException e) {
                    // kubectl exited before reading everything: its exit code tells
                }
            }
            return new Background(p, out, err);
        } catch (IOException e) {
            throw new AssertionError("starting kubectl: " + e, e);
        }
    }

    /** A running kubectl whose stdout and stderr go to temp files. */
    public static final class Background implements AutoCloseable {
        final Process process;
        private final Path out;
        private final Path err;

        Background(Process process, Path out, Path err) {
            this.process = process;
            this.out = out;
            this.err = err;
        }

        public Process process() {
            return process;
        }

        public String out() {
            return read(out);
        }

        public String err() {
            return read(err);
        }

        /** Waits until the standard output satisfies {@code condition}, failing after {@code timeout}. */
        public String awaitOut(Duration timeout, Predicate<String> condition) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                String o = out();
                if (condition.test(o)) return o;
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("kubectl output did not match within " + timeout + ": " + o + err() + (process.isAlive() ? "" : " (exited " + process.exitValue() + ")"));
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted");
                }
            }
        }

        private static String read(Path p) {
            try {
                return Files.readString(p, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroy();
                try {
                    if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            out.toFile().delete();
            err.toFile().delete();
        }
    }
}
