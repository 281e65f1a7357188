package io.k3j.agent.stats;

import java.nio.file.Path;

/** The node's own usage. */
@FunctionalInterface
public interface NodeStatsSource {

    /**
     * A fresh reading; {@code cpu.usageNanoCores} may be null (the provider computes it from two readings).
     *
     * @throws java.io.UncheckedIOException when the host's files can't be read
     */
    Stats.Node sample();

    /**
     * The host's figures: {@code /proc/stat}, {@code /proc/meminfo}, {@code /proc/vmstat}, the root memory cgroup
     * ({@code /sys/fs/cgroup/memory}, v1, or {@code /sys/fs/cgroup}, v2) and the file system holding {@code dataDir}
     * (used for both {@code fs} and {@code runtime.imageFs}, as the runtime's root lives under it).
     */
    static NodeStatsSource host(Path dataDir) {
        return new HostStats(Path.of("/proc"), Path.of("/sys/fs/cgroup"), dataDir, java.time.Clock.systemUTC());
    }
}
