package io.k3j.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Runs one real kubectl binary against a kubeconfig, with its own HOME and discovery cache so versions and
 * servers never share cached discovery.
 */
final class Kubectl {
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;]*m");
    private static final long TIMEOUT_SECONDS = 90;

    private final Path binary;
    private final Path kubeconfig;
    private final Path home;

    Kubectl(Path binary, Path kubeconfig, Path home) {
        this.binary = binary;
        this.kubeconfig = kubeconfig;
        this.home = home;
    }

    Path binary() {
        return binary;
    }

    /** What one kubectl invocation left behind; ANSI colours (cluster-info uses them) are stripped. */
    record Result(List<String> command, int exitCode, String out, String err) {
        List<String> lines() {
            return out.isEmpty() ? List.of() : List.of(out.split("\n"));
        }

        @Override
        public String toString() {
            return "kubectl " + String.join(" ", command) + " -> exit " + exitCode + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
        }
    }

    Result run(String... args) {
        return run(Map.of(), null, args);
    }

    Result runWithInput(String stdin, String... args) {
        return run(Map.of(), stdin, args);
    }

    /**
     * @throws UncheckedIOException when kubectl cannot be started
     * @throws IllegalStateException when it runs longer than the timeout (it is killed)
     */
    Result run(Map<String, String> env, String stdin, String... args) {
        Process p = start(env, args);
        try {
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            try (var in = p.getOutputStream()) {
                if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("kubectl " + String.join(" ", args) + " still running after " + TIMEOUT_SECONDS
                        + " s; stdout so far:\n" + out.getNow(""));
            }
            return new Result(List.of(args), p.exitValue(), strip(out.join()), strip(err.join()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Starts kubectl without waiting for it (for {@code get -w}); the caller destroys it. */
    Process start(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> e = pb.environment();
        e.keySet().removeIf(k -> k.startsWith("KUBE"));
        e.put("KUBECONFIG", kubeconfig.toString());
        e.put("HOME", home.toString());
        e.put("KUBECACHEDIR", home.resolve("cache").toString());
        e.put("NO_COLOR", "1");
        e.putAll(new HashMap<>(env));
        try {
            Files.createDirectories(home);
            return pb.start();
        } catch (IOException ex) {
            throw new UncheckedIOException("starting " + binary, ex);
        }
    }

    static String strip(String s) {
        return ANSI.matcher(s).replaceAll("");
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "<" + e + ">";
            }
        }, Thread::startVirtualThread);
    }
}
