package io.k3j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The facts docs/benchmarks.md records beside every figure. */
final class Machine {

    private Machine() {
    }

    static String describe() {
        return "nproc=" + Runtime.getRuntime().availableProcessors()
                + ", MemTotal=" + memTotalMiB() + " MiB"
                + ", kernel=" + read("/proc/sys/kernel/osrelease")
                + ", JDK=" + System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version")
                + ", etcd=" + Etcd.version()
                + ", bench JVM flags=" + java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
    }

    private static long memTotalMiB() {
        for (String l : read("/proc/meminfo").lines().toList()) {
            if (l.startsWith("MemTotal:")) {
                return Long.parseLong(l.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }

    static String read(String file) {
        try {
            // /proc files report size 0: read them as a stream (Files.readString returns only the first byte here)
            try (var in = Files.newInputStream(Path.of(file))) {
                return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            }
        } catch (IOException e) {
            return "?";
        }
    }

    /** The 1/5/15-minute load averages: the machine is shared, so every figure is printed beside them. */
    static String load() {
        String[] f = read("/proc/loadavg").split(" ");
        return f.length >= 3 ? "loadavg " + f[0] + " " + f[1] + " " + f[2] : "loadavg ?";
    }

    /**
     * User+system CPU time a process has used, from /proc/PID/stat (clock ticks of 10 ms, USER_HZ=100 on
     * Linux). On a shared machine wall-clock figures move with the neighbours' load; CPU per operation does
     * much less, so benchmarks print both.
     */
    static long cpuNanos(long pid) {
        String stat = read("/proc/" + pid + "/stat");
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // after "pid (comm) ", field 3 (state) is f[0]; utime and stime are fields 14 and 15
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
    }

    /**
     * CPU time of a process plus that of its children it has waited for (cutime, cstime): for containerd and a shim
     * that includes the runc and CNI plugin processes they ran.
     */
    static long cpuWithChildrenNanos(long pid) {
        String stat = read("/proc/" + pid + "/stat");
        if (stat.equals("?")) return 0;
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14])) * 10_000_000L;
    }

    /**
     * CPU time of a JVM's live threads summed by what they do, told apart by thread name (/proc/PID/task/TID/comm,
     * 15 characters): Netty event loops, virtual threads' carriers, JIT compilers, the VM thread (where the serial
     * collector runs), the SQLite writer, and the rest. Threads that have exited are not counted.
     */
    static java.util.Map<String, Long> threadCpuNanos(long pid) {
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        threadCpuNanosByName(pid).forEach((name, nanos) -> out.merge(threadGroup(name), nanos, Long::sum));
        return out;
    }

    private static String threadGroup(String comm) {
        if (comm.startsWith("multiThreadIoEv") || comm.startsWith("nioEventLoop")) return "event loops (TLS, HTTP/2)";
        if (comm.startsWith("ForkJoinPool")) return "virtual threads (requests, watches)";
        if (comm.contains("CompilerThre")) return "JIT compilers";
        if (comm.equals("VM Thread") || comm.startsWith("GC ")) return "VM thread (GC)";
        if (comm.startsWith("k3j-sqlite")) return "sqlite writer";
        return "other";
    }

    /**
     * CPU nanoseconds of each thread of a process by thread name, digits folded ({@code C2 CompilerThread0} and
     * {@code C2 CompilerThread1} count as one): where a process's CPU goes (JIT, GC in the VM Thread, event loops).
     */
    static java.util.Map<String, Long> threadCpuNanosByName(long pid) {
        java.util.Map<String, Long> m = new java.util.TreeMap<>();
        java.io.File[] tasks = new java.io.File("/proc/" + pid + "/task").listFiles();
        if (tasks == null) return m;
        for (java.io.File t : tasks) {
            String stat = read(t.getPath() + "/stat");
            int open = stat.indexOf('(');
            int close = stat.lastIndexOf(')');
            if (open < 0 || close < open) continue; // the thread ended
            String[] f = stat.substring(close + 2).split(" ");
            m.merge(stat.substring(open + 1, close).replaceAll("[0-9]+", "#"),
                    (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L, Long::sum);
        }
        return m;
    }

    /** {@code after - before} of {@link #threadCpuNanosByName}, per {@code per} operations, in ms, largest first, those ≥ 1 ms. */
    static String threadCpuDelta(java.util.Map<String, Long> before, java.util.Map<String, Long> after, int per) {
        return after.entrySet().stream()
                .map(e -> java.util.Map.entry(e.getKey(), (e.getValue() - before.getOrDefault(e.getKey(), 0L)) / 1e6 / per))
                .filter(e -> e.getValue() >= 1)
                .sorted(java.util.Map.Entry.<String, Double>comparingByValue().reversed())
                .map(e -> String.format("%s %.0f", e.getKey(), e.getValue()))
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /**
     * {@code after - before} of {@link #threadCpuNanosByName}, in microseconds per {@code per} operations, largest
     * first, those of at least 1 us: where a load generator's CPU per request goes.
     */
    static String threadCpuDeltaMicros(java.util.Map<String, Long> before, java.util.Map<String, Long> after, int per) {
        return after.entrySet().stream()
                .map(e -> java.util.Map.entry(e.getKey(), (e.getValue() - before.getOrDefault(e.getKey(), 0L)) / 1e3 / per))
                .filter(e -> e.getValue() >= 1)
                .sorted(java.util.Map.Entry.<String, Double>comparingByValue().reversed())
                .map(e -> String.format("%s %.0f", e.getKey(), e.getValue()))
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /** This JVM's own CPU time (the load generator's cost). */
    static long selfCpuNanos() {
        return cpuNanos(ProcessHandle.current().pid());
    }

    /** A field of /proc/PID/status in kB, e.g. VmRSS. */
    static long statusKb(long pid, String field) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (l.startsWith(field + ":")) {
                return Long.parseLong(l.replaceAll("\\D", ""));
            }
        }
        throw new IOException(field + " not in /proc/" + pid + "/status");
    }
}
