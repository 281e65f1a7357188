package io.k3j.agent.node;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What the Node object says about the machine, read from Linux: {@code /proc/meminfo}, {@code /etc/os-release},
 * {@code /etc/machine-id}, the DMI product UUID, {@code /proc/sys/kernel/random/boot_id} and
 * {@code /proc/sys/kernel/osrelease}, plus live figures for the pressure conditions (available memory, free disk,
 * free PIDs).
 *
 * @param cpus           logical CPUs available to the JVM (respects cgroup limits and taskset)
 * @param memoryBytes    MemTotal
 * @param machineId      {@code /etc/machine-id}, or empty
 * @param systemUuid     DMI product UUID (readable by root only), else the machine id
 * @param bootId         changes at every boot
 * @param kernelVersion  e.g. {@code 6.1.0-18-amd64}
 * @param osImage        PRETTY_NAME, e.g. {@code Debian GNU/Linux 12 (bookworm)}
 * @param architecture   GOARCH spelling: amd64, arm64, arm
 */
public record MachineFacts(int cpus, long memoryBytes, String machineId, String systemUuid, String bootId,
                           String kernelVersion, String osImage, String architecture) {

    /** Reads the running machine. Missing files leave their fields empty rather than failing. */
    public static MachineFacts read() {
        String machineId = first(Path.of("/etc/machine-id"), "");
        return new MachineFacts(Runtime.getRuntime().availableProcessors(), meminfo("MemTotal"), machineId,
                first(Path.of("/sys/class/dmi/id/product_uuid"), machineId).toLowerCase(Locale.ROOT),
                first(Path.of("/proc/sys/kernel/random/boot_id"), ""),
                first(Path.of("/proc/sys/kernel/osrelease"), System.getProperty("os.version")),
                readOsImage(), goArch(System.getProperty("os.arch")));
    }

    /** A live reading of what kubelet's eviction thresholds look at. */
    public record Usage(long memoryAvailableBytes, long nodeFsAvailableBytes, long nodeFsCapacityBytes,
                        long imageFsAvailableBytes, long imageFsCapacityBytes, long pidsAvailable, long pidMax) {

        /**
         * Reads the machine now: MemAvailable, the file systems of {@code nodeFs} and {@code imageFs} (the agent
         * data dir and containerd's root), and {@code pid_max} minus the running processes.
         */
        public static Usage read(Path nodeFs, Path imageFs) {
            long[] node = fs(nodeFs);
            long[] image = fs(imageFs);
            long pidMax = Long.parseLong(first(Path.of("/proc/sys/kernel/pid_max"), "32768"));
            long procs = 0;
            try (var s = Files.list(Path.of("/proc"))) {
                procs = s.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).count();
            } catch (IOException e) {
                // leave 0: no PID pressure reported rather than a wrong one
            }
            return new Usage(meminfo("MemAvailable"), node[0], node[1], image[0], image[1], pidMax - procs, pidMax);
        }

        private static long[] fs(Path p) {
            Path existing = p;
            while (existing != null && !Files.exists(existing)) existing = existing.getParent();
            if (existing == null) return new long[]{0, 0};
            try {
                FileStore store = Files.getFileStore(existing);
                return new long[]{store.getUsableSpace(), store.getTotalSpace()};
            } catch (IOException e) {
                return new long[]{0, 0};
            }
        }
    }

    /**
     * The source address of the default route (what kubelet picks without {@code --node-ip}): a connected UDP
     * socket sends nothing but makes the kernel choose it. 127.0.0.1 on a machine without a default route.
     */
    public static String defaultRouteAddress() {
        try (DatagramSocket s = new DatagramSocket()) {
            s.connect(new InetSocketAddress(InetAddress.getByAddress(new byte[]{8, 8, 8, 8}), 53));
            InetAddress a = s.getLocalAddress();
            if (a != null && !a.isAnyLocalAddress()) return a.getHostAddress();
        } catch (IOException | RuntimeException e) {
            // no route: fall through
        }
        return "127.0.0.1";
    }

    /** The {@code /proc/meminfo} field in bytes (the file says kB, meaning KiB), 0 when absent. */
    static long meminfo(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"), StandardCharsets.US_ASCII)) {
                if (line.startsWith(field + ":")) {
                    String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or unreadable
        }
        return 0;
    }

    private static String readOsImage() {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/os-release"), StandardCharsets.UTF_8)) {
                if (line.startsWith("PRETTY_NAME=")) {
                    String v = line.substring("PRETTY_NAME=".length()).trim();
                    if (v.length() >= 2 && (v.startsWith("\"") || v.startsWith("'"))) v = v.substring(1, v.length() - 1);
                    return v;
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return System.getProperty("os.name");
    }

    private static String first(Path file, String fallback) {
        try {
            String s = Files.readString(file, StandardCharsets.US_ASCII).strip();
            return s.isEmpty() ? fallback : s.lines().findFirst().orElse(fallback);
        } catch (IOException | RuntimeException e) {
            return fallback;
        }
    }

    static String goArch(String javaArch) {
        return switch (javaArch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "arm" -> "arm";
            case "ppc64le" -> "ppc64le";
            case "s390x" -> "s390x";
            case "riscv64" -> "riscv64";
            default -> javaArch;
        };
    }
}
