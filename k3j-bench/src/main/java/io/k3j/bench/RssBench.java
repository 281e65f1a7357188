package io.k3j.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Resident memory of an idle server: VmRSS from /proc/PID/status after readyz plus {@code idleSeconds}.
 * When over the target (or asked), a second server with Native Memory Tracking shows where it goes.
 */
final class RssBench {

    static final long TARGET_MB = 150;

    private RssBench() {
    }

    static void run(Env env, int idleSeconds, boolean forceNmt) throws IOException, InterruptedException {
        System.out.println("== rss: idle " + idleSeconds + " s after readyz; server JVM flags: " + env.describeJavaOpts());
        long rssKb = measure(env, env.javaOpts(), idleSeconds, false);
        double mb = rssKb / 1024.0;
        System.out.printf("RESULT rss idle: VmRSS %.1f MiB, target <= %d MB, ratio %.2fx of target -> %s%n",
                mb, TARGET_MB, mb / TARGET_MB, mb <= TARGET_MB ? "MET" : "MISSED");
        if (forceNmt || mb > TARGET_MB) {
            String base = env.javaOpts() != null ? env.javaOpts()
                    : System.getenv("K3J_JAVA_OPTS") != null ? System.getenv("K3J_JAVA_OPTS")
                    : "-XX:+UseSerialGC -Xss512k -XX:MaxRAMPercentage=25";
            measure(env, base + " -XX:NativeMemoryTracking=summary", idleSeconds, true);
        }
    }

    private static long measure(Env env, String opts, int idleSeconds, boolean nmt) throws IOException, InterruptedException {
        Env e = new Env(env.repo(), env.work(), opts);
        try (K3jServer s = e.startServer(nmt ? "rss-nmt" : "rss")) {
            Thread.sleep(idleSeconds * 1000L);
            long rss = Machine.statusKb(s.pid(), "VmRSS");
            long hwm = Machine.statusKb(s.pid(), "VmHWM");
            System.out.printf("  pid %d%s: VmRSS %d kB, VmHWM %d kB%n    cmdline: %s%n", s.pid(), nmt ? " (with NMT)" : "", rss, hwm, s.commandLine());
            for (String flag : jcmd(s.pid(), "VM.flags").lines().toList()) {
                for (String f : flag.split(" ")) {
                    if (f.contains("HeapSize") || f.contains("NewSize") || f.contains("Use") && f.contains("GC")) {
                        System.out.println("    heap flag: " + f);
                    }
                }
            }
            System.out.println(indent(jcmd(s.pid(), "GC.heap_info")));
            if (nmt) {
                System.out.println(indent(jcmd(s.pid(), "VM.native_memory", "summary")));
            }
            return rss;
        }
    }

    static String jcmd(long pid, String... command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        List<String> cmd = new java.util.ArrayList<>(List.of(jcmd.toString(), Long.toString(pid)));
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }

    private static String indent(String s) {
        return s.lines().map(l -> "    | " + l).collect(java.util.stream.Collectors.joining("\n"));
    }
}
