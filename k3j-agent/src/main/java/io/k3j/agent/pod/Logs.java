package io.k3j.agent.pod;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reading container logs written in the CRI format ({@code <RFC3339Nano> <stream> <P|F> <text>}). */
final class Logs {
    private Logs() {
    }

    /**
     * The last {@code maxLines} lines, at most {@code maxBytes} bytes, of a container's log as the container wrote
     * them (kubelet's FallbackToLogsOnError message).
     */
    static String tail(Path log, int maxLines, int maxBytes) {
        byte[] bytes;
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long len = f.length();
            // CRI lines carry ~40 bytes of prefix each; read generously, then trim to the limits
            long from = Math.max(0, len - (long) maxBytes * 4 - 64L * maxLines);
            f.seek(from);
            bytes = new byte[(int) (len - from)];
            f.readFully(bytes);
        } catch (IOException e) {
            return "";
        }
        String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
        List<String> content = new ArrayList<>();
        StringBuilder partial = new StringBuilder();
        for (String line : lines) {
            String[] f = line.split(" ", 4);
            if (f.length < 3) continue;
            String text = f.length == 4 ? f[3] : "";
            if (f[2].equals("P")) {
                partial.append(text);
                continue;
            }
            content.add(partial + text);
            partial.setLength(0);
        }
        int start = Math.max(0, content.size() - maxLines);
        StringBuilder b = new StringBuilder();
        for (int i = start; i < content.size(); i++) b.append(content.get(i)).append('\n');
        byte[] out = b.toString().getBytes(StandardCharsets.UTF_8);
        if (out.length <= maxBytes) return b.toString();
        return new String(out, out.length - maxBytes, maxBytes, StandardCharsets.UTF_8);
    }
}
