package io.k3j.agent.netpol;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code nft}: a batch on stdin is one kernel transaction, applied whole or not at all. */
final class Nft {
    private static final String PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin";

    private Nft() {
    }

    /** What nft printed on failure. */
    static final class NftException extends RuntimeException {
        NftException(String message) {
            super(message);
        }
    }

    /**
     * Applies {@code script} with {@code nft -f -}.
     *
     * @throws NftException when nft refuses it (nothing of it is applied then)
     * @throws UncheckedIOException when nft cannot be run
     */
    static void apply(String script) {
        Result r = run(script, "-f", "-");
        if (r.exit != 0) throw new NftException("nft -f: " + r.output.strip());
    }

    /** {@code nft <args>}; exit code and merged output. */
    static Result run(String stdin, String... args) {
        List<String> command = new java.util.ArrayList<>();
        command.add("nft");
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        String current = pb.environment().get("PATH");
        pb.environment().put("PATH", current == null || current.isEmpty() ? PATH : PATH + ":" + current);
        try {
            Process p = pb.start();
            var out = new java.io.ByteArrayOutputStream();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (var in = p.getInputStream()) {
                    in.transferTo(out);
                } catch (IOException ignored) {
                    // the process was killed
                }
            });
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new UncheckedIOException(new IOException("nft " + String.join(" ", args) + ": no exit within 30 s"));
            }
            reader.join(5000);
            return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("running nft: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted running nft"));
        }
    }

    record Result(int exit, String output) { }
}
