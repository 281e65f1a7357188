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
                + ", etcd=" + Etcd.version();
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
            return Files.readString(Path.of(file)).strip();
        } catch (IOException e) {
            return "?";
        }
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
