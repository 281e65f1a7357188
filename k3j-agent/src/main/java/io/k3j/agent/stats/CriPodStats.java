package io.k3j.agent.stats;

import io.k3j.agent.cri.RuntimeService;
import io.k3j.agent.cri.v1.ContainerFilter;
import io.k3j.agent.cri.v1.ContainerState;
import io.k3j.agent.cri.v1.ContainerStateValue;
import io.k3j.agent.cri.v1.ContainerStats;
import io.k3j.agent.cri.v1.ContainerStatsFilter;
import io.k3j.agent.cri.v1.CpuUsage;
import io.k3j.agent.cri.v1.FilesystemUsage;
import io.k3j.agent.cri.v1.ListContainerStatsRequest;
import io.k3j.agent.cri.v1.ListContainersRequest;
import io.k3j.agent.cri.v1.ListPodSandboxRequest;
import io.k3j.agent.cri.v1.ListPodSandboxStatsRequest;
import io.k3j.agent.cri.v1.MemoryUsage;
import io.k3j.agent.cri.v1.PodSandbox;
import io.k3j.agent.cri.v1.PodSandboxFilter;
import io.k3j.agent.cri.v1.PodSandboxState;
import io.k3j.agent.cri.v1.PodSandboxStateValue;
import io.k3j.agent.cri.v1.PodSandboxStats;
import io.k3j.agent.cri.v1.PodSandboxStatsFilter;
import io.k3j.agent.cri.v1.UInt64Value;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Pod and container usage from the runtime through CRI, as kubelet's CRI stats provider gets it: ready sandboxes
 * ({@code ListPodSandbox}), their running containers ({@code ListContainers}) and those containers' stats
 * ({@code ListContainerStats}: cumulative CPU, working set, writable layer). The pod's own cgroup figures come from
 * {@code ListPodSandboxStats} when the runtime implements it (containerd 1.6 does); otherwise the provider sums the
 * containers. containerd computes {@code usage_nano_cores} itself from its previous reading; where it answers none
 * (or 0 on a first reading) the provider's own two-sample rate is used.
 */
public final class CriPodStats implements PodStatsSource {
    private final RuntimeService runtime;
    private final Clock clock;
    private volatile boolean sandboxStats = true;

    /** Reads through {@code runtime} (a {@link io.k3j.agent.cri.CriClient}). */
    public CriPodStats(RuntimeService runtime) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.clock = Clock.systemUTC();
    }

    @Override
    public List<Stats.Pod> pods() {
        List<PodSandbox> sandboxes = runtime.listPodSandbox(ListPodSandboxRequest.newBuilder()
                .setFilter(PodSandboxFilter.newBuilder().setState(PodSandboxStateValue.newBuilder().setState(PodSandboxState.SANDBOX_READY)))
                .build()).getItemsList();
        Map<String, List<io.k3j.agent.cri.v1.Container>> bySandbox = new HashMap<>();
        for (var c : runtime.listContainers(ListContainersRequest.newBuilder()
                .setFilter(ContainerFilter.newBuilder().setState(ContainerStateValue.newBuilder().setState(ContainerState.CONTAINER_RUNNING)))
                .build()).getContainersList()) {
            bySandbox.computeIfAbsent(c.getPodSandboxId(), k -> new ArrayList<>()).add(c);
        }
        Map<String, ContainerStats> stats = new HashMap<>();
        for (ContainerStats s : runtime.listContainerStats(ListContainerStatsRequest.newBuilder()
                .setFilter(ContainerStatsFilter.getDefaultInstance()).build()).getStatsList()) {
            stats.put(s.getAttributes().getId(), s);
        }
        Map<String, PodSandboxStats> podStats = new HashMap<>();
        if (sandboxStats) {
            try {
                for (PodSandboxStats s : runtime.listPodSandboxStats(ListPodSandboxStatsRequest.newBuilder()
                        .setFilter(PodSandboxStatsFilter.getDefaultInstance()).build()).getStatsList()) {
                    podStats.put(s.getAttributes().getId(), s);
                }
            } catch (io.k3j.agent.cri.CriException e) {
                // an older runtime without pod stats: pods are summed from their containers from now on
                if (e.code() == io.k3j.agent.cri.CriException.UNIMPLEMENTED) sandboxStats = false;
            }
        }
        Instant now = clock.instant();
        List<Stats.Pod> out = new ArrayList<>();
        for (PodSandbox sb : sandboxes) {
            List<Stats.Container> containers = new ArrayList<>();
            for (var c : bySandbox.getOrDefault(sb.getId(), List.of())) {
                ContainerStats s = stats.get(c.getId());
                if (s == null || !s.hasCpu() || !s.getCpu().hasUsageCoreNanoSeconds()) continue;
                containers.add(new Stats.Container(c.getMetadata().getName(), time(c.getCreatedAt(), now), cpu(s.getCpu(), now),
                        s.hasMemory() ? memory(s.getMemory(), now) : null,
                        s.hasWritableLayer() ? fs(s.getWritableLayer(), now) : null));
            }
            PodSandboxStats ps = podStats.get(sb.getId());
            Stats.Cpu podCpu = null;
            Stats.Memory podMemory = null;
            if (ps != null && ps.hasLinux()) {
                if (ps.getLinux().hasCpu() && ps.getLinux().getCpu().hasUsageCoreNanoSeconds()) podCpu = cpu(ps.getLinux().getCpu(), now);
                if (ps.getLinux().hasMemory() && ps.getLinux().getMemory().hasWorkingSetBytes()) podMemory = memory(ps.getLinux().getMemory(), now);
            }
            var md = sb.getMetadata();
            out.add(new Stats.Pod(md.getNamespace(), md.getName(), md.getUid(), time(sb.getCreatedAt(), now), podCpu, podMemory, containers));
        }
        return out;
    }

    private static Stats.Cpu cpu(CpuUsage u, Instant now) {
        Long nanoCores = u.hasUsageNanoCores() && u.getUsageNanoCores().getValue() > 0 ? u.getUsageNanoCores().getValue() : null;
        return new Stats.Cpu(time(u.getTimestamp(), now), u.getUsageCoreNanoSeconds().getValue(), nanoCores);
    }

    private static Stats.Memory memory(MemoryUsage m, Instant now) {
        return new Stats.Memory(time(m.getTimestamp(), now), m.getWorkingSetBytes().getValue(),
                value(m.hasAvailableBytes(), m.getAvailableBytes()), value(m.hasUsageBytes(), m.getUsageBytes()),
                value(m.hasRssBytes(), m.getRssBytes()), value(m.hasPageFaults(), m.getPageFaults()),
                value(m.hasMajorPageFaults(), m.getMajorPageFaults()));
    }

    private static Stats.Fs fs(FilesystemUsage f, Instant now) {
        return new Stats.Fs(time(f.getTimestamp(), now), null, null, value(f.hasUsedBytes(), f.getUsedBytes()), null, null,
                value(f.hasInodesUsed(), f.getInodesUsed()));
    }

    private static Long value(boolean present, UInt64Value v) {
        return present ? v.getValue() : null;
    }

    /** CRI times are nanoseconds since the epoch; 0 means the runtime didn't say. */
    private static Instant time(long epochNanos, Instant fallback) {
        return epochNanos <= 0 ? fallback : Instant.ofEpochSecond(0, epochNanos);
    }
}
