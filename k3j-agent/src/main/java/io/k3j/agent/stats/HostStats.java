package io.k3j.agent.stats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The node's usage read from the kernel's files, as kubelet's cAdvisor reports the root container: CPU from
 * {@code /proc/stat}, memory from the root memory cgroup (working set = usage - inactive file pages, as kubelet
 * computes it) with {@code /proc/meminfo} for the capacity, and the data dir's file system.
 */
final class HostStats implements NodeStatsSource {
    /** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture that matters here. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    private final Path proc;
    private final Path cgroup;
    private final Path dataDir;
    private final Clock clock;

    HostStats(Path proc, Path cgroup, Path dataDir, Clock clock) {
        this.proc = proc;
        this.cgroup = cgroup;
        this.dataDir = dataDir;
        this.clock = clock;
    }

    @Override
    public Stats.Node sample() {
        Instant now = clock.instant();
        try {
            Stats.Fs fs = fs(now);
            return new Stats.Node(new Stats.Cpu(now, cpuNanos(), null), memory(now), fs, fs);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the node's usage: " + e.getMessage(), e);
        }
    }

    /** Busy time of all CPUs: user + nice + system + irq + softirq + steal (guest time is already in user). */
    long cpuNanos() throws IOException {
        for (String line : Files.readAllLines(proc.resolve("stat"))) {
            if (!line.startsWith("cpu ")) continue;
            String[] f = line.trim().split("\\s+");
            long ticks = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                if (i < f.length) ticks += Long.parseLong(f[i]);
            }
            return ticks * NANOS_PER_TICK;
        }
        throw new IOException(proc.resolve("stat") + " has no cpu line");
    }

    Stats.Memory memory(Instant now) throws IOException {
        Map<String, Long> info = keyed(proc.resolve("meminfo"), ":");
        long total = info.getOrDefault("MemTotal", 0L) * 1024;
        Map<String, Long> vm = Files.exists(proc.resolve("vmstat")) ? keyed(proc.resolve("vmstat"), " ") : Map.of();
        Long faults = vm.get("pgfault");
        Long major = vm.get("pgmajfault");
        Path v1 = cgroup.resolve("memory");
        long usage;
        long workingSet;
        Long rss;
        if (Files.exists(v1.resolve("memory.usage_in_bytes"))) {
            usage = Long.parseLong(Files.readString(v1.resolve("memory.usage_in_bytes")).trim());
            Map<String, Long> stat = keyed(v1.resolve("memory.stat"), " ");
            long inactiveFile = stat.getOrDefault("total_inactive_file", 0L);
            workingSet = Math.max(0, usage - inactiveFile);
            rss = stat.get("total_rss");
        } else {
            // cgroup v2 (or none): the root has no memory.current, so use the kernel's whole-machine figures
            long free = info.getOrDefault("MemFree", 0L) * 1024;
            usage = total - free;
            workingSet = Math.max(0, usage - info.getOrDefault("Inactive(file)", 0L) * 1024);
            rss = info.containsKey("AnonPages") ? info.get("AnonPages") * 1024 : null;
        }
        return new Stats.Memory(now, workingSet, Math.max(0, total - workingSet), usage, rss, faults, major);
    }

    /** The file system the data dir is on (its nearest existing ancestor while it doesn't exist yet). */
    Stats.Fs fs(Instant now) throws IOException {
        Path p = dataDir.toAbsolutePath();
        while (p != null && !Files.exists(p)) p = p.getParent();
        if (p == null) return null;
        FileStore store = Files.getFileStore(p);
        long total = store.getTotalSpace();
        return new Stats.Fs(now, store.getUsableSpace(), total, total - store.getUnallocatedSpace(), null, null, null);
    }

    /** "key<sep> value [kB]" lines as a map (meminfo, memory.stat, vmstat). */
    private static Map<String, Long> keyed(Path file, String sep) throws IOException {
        Map<String, Long> out = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            int at = line.indexOf(sep);
            if (at <= 0) continue;
            String[] rest = line.substring(at + 1).trim().split("\\s+");
            try {
                out.put(line.substring(0, at).trim(), Long.parseLong(rest[0]));
            } catch (NumberFormatException e) {
                // not a number: not a figure we read
            }
        }
        return out;
    }
}
