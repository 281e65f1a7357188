package io.k3j.agent.stats;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/** The figures the Summary API and the resource metrics carry, one record per level. */
public final class Stats {
    private Stats() {
    }

    /**
     * CPU time used.
     *
     * @param usageCoreNanoSeconds cumulative CPU time, in core-nanoseconds
     * @param usageNanoCores       the rate over the last sampling window in nanocores, or null when unknown
     */
    public record Cpu(Instant time, long usageCoreNanoSeconds, Long usageNanoCores) {
        public Cpu {
            Objects.requireNonNull(time, "time");
        }

        Cpu withNanoCores(Long nanoCores) {
            return new Cpu(time, usageCoreNanoSeconds, nanoCores);
        }
    }

    /**
     * Memory in use; null fields are unknown.
     *
     * @param workingSetBytes what the kernel can't reclaim easily: usage minus inactive file pages
     */
    public record Memory(Instant time, long workingSetBytes, Long availableBytes, Long usageBytes, Long rssBytes,
                         Long pageFaults, Long majorPageFaults) {
        public Memory {
            Objects.requireNonNull(time, "time");
        }
    }

    /** A file system's usage; null fields are unknown. */
    public record Fs(Instant time, Long availableBytes, Long capacityBytes, Long usedBytes, Long inodesFree, Long inodes,
                     Long inodesUsed) {
        public Fs {
            Objects.requireNonNull(time, "time");
        }
    }

    /** The node as a whole. */
    public record Node(Cpu cpu, Memory memory, Fs fs, Fs imageFs) {
        public Node {
            Objects.requireNonNull(cpu, "cpu");
            Objects.requireNonNull(memory, "memory");
        }
    }

    /**
     * One running container.
     *
     * @param rootfs its writable layer (may be null)
     */
    public record Container(String name, Instant startTime, Cpu cpu, Memory memory, Fs rootfs) {
        public Container {
            Objects.requireNonNull(name, "name");
        }

        Container withCpu(Cpu c) {
            return new Container(name, startTime, c, memory, rootfs);
        }
    }

    /** One pod sandbox with its containers; cpu and memory are the pod cgroup's (may be null: summed from containers). */
    public record Pod(String namespace, String name, String uid, Instant startTime, Cpu cpu, Memory memory,
                      List<Container> containers) {
        public Pod {
            Objects.requireNonNull(namespace, "namespace");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(uid, "uid");
            containers = List.copyOf(containers);
        }
    }

    /** Everything a scrape reports. */
    public record Summary(String nodeName, Instant startTime, Node node, List<Pod> pods) {
        public Summary {
            Objects.requireNonNull(nodeName, "nodeName");
            pods = List.copyOf(pods);
        }
    }
}
