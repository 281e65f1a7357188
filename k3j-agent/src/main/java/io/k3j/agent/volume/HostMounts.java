package io.k3j.agent.volume;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The few mount(8) calls volumes need: the JDK cannot call mount(2), so tmpfs is mounted and unmounted through
 * {@code /usr/bin/mount} and {@code umount}; what is mounted is read from {@code /proc/self/mountinfo}.
 */
final class HostMounts {

    private static final long TIMEOUT_SECONDS = 30;

    private HostMounts() { }

    /** Mounts a tmpfs on {@code dir} unless something is mounted there already; {@code sizeBytes} 0 for the default. */
    static void mountTmpfs(Path dir, long sizeBytes) throws IOException {
        if (mountPoints().contains(dir.toString())) return;
        List<String> cmd = new ArrayList<>(List.of("mount", "-t", "tmpfs"));
        if (sizeBytes > 0) cmd.addAll(List.of("-o", "size=" + sizeBytes));
        cmd.addAll(List.of("tmpfs", dir.toString()));
        run(cmd);
    }

    /** Unmounts everything mounted at or below {@code dir}, deepest first. */
    static void unmountAllUnder(Path dir) throws IOException {
        String prefix = dir.toString();
        List<String> under = new ArrayList<>();
        for (String mp : mountPoints()) {
            if (mp.equals(prefix) || mp.startsWith(prefix + "/")) under.add(mp);
        }
        under.sort(Comparator.comparingInt(String::length).reversed());
        for (String mp : under) run(List.of("umount", mp));
    }

    /** True when anything is mounted at or below {@code dir}. */
    static boolean anyMountUnder(Path dir) throws IOException {
        String prefix = dir.toString();
        for (String mp : mountPoints()) if (mp.equals(prefix) || mp.startsWith(prefix + "/")) return true;
        return false;
    }

    /** The mount points of this mount namespace, octal escapes ({@code \040}) decoded. */
    static List<String> mountPoints() throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            String[] f = line.split(" ");
            if (f.length > 4) out.add(unescape(f[4]));
        }
        return out;
    }

    private static String unescape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                String oct = s.substring(i + 1, Math.min(i + 4, s.length()));
                if (oct.length() == 3 && oct.chars().allMatch(ch -> ch >= '0' && ch <= '7')) {
                    sb.append((char) Integer.parseInt(oct, 8));
                    i += 3;
                    continue;
                }
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private static void run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + ": timed out after " + TIMEOUT_SECONDS + "s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", cmd) + ": interrupted", e);
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + output);
    }
}
