package io.k3j.agent.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code nft -f -} with a batch on stdin: the kernel applies the whole batch or nothing. */
final class Nft {
    private Nft() {
    }

    /** nft refused the batch or could not run; the message holds nft's own output. */
    static final class NftException extends RuntimeException {
        NftException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * @param command {@code [nft]}, or a prefix that enters another network namespace first ({@code nsenter --net=... nft})
     * @throws NftException when nft exits non-zero or does not finish within 60 s
     */
    static void apply(List<String> command, String batch) {
        List<String> cmd = new ArrayList<>(command);
        cmd.add("-f");
        cmd.add("-");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin:" + pb.environment().getOrDefault("PATH", ""));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new NftException("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
            } catch (IOException ignored) {
                // the process died; its exit code tells
            }
        });
        try {
            try (OutputStream in = p.getOutputStream()) {
                in.write(batch.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // nft quits early on a parse error and closes its stdin: the exit code and output say why
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new NftException(String.join(" ", cmd) + ": no exit within 60 s", null);
            }
            reader.join(5000);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new NftException("interrupted running nft", e);
        }
        if (p.exitValue() != 0) {
            String msg = out.toString(StandardCharsets.UTF_8).strip();
            if (msg.length() > 4000) msg = msg.substring(0, 4000) + "...";
            throw new NftException(String.join(" ", cmd) + " exited with " + p.exitValue() + ": " + msg, null);
        }
    }
}
