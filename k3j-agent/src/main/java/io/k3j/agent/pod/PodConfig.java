package io.k3j.agent.pod;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the pod workers need to know about their node.
 *
 * @param nodeName      the Node's name (events' source.host, the pods' spec.nodeName)
 * @param dataDir       the agent's data dir D: pods under D/pods/&lt;uid&gt;, logs under D/logs
 * @param hostIPs       the node's addresses, reported as status.hostIP/hostIPs (first is primary)
 * @param clusterDns    the cluster DNS service IPs for dnsPolicy ClusterFirst (empty: fall back to the host's resolv.conf)
 * @param clusterDomain e.g. cluster.local
 * @param hostResolvConf the host's resolv.conf, for dnsPolicy Default and for hostNetwork pods
 * @param cgroupRoot    the cgroup (cgroupfs driver) under which pods live per QoS, e.g. /k3jpods
 * @param allowPull     whether a missing image may be pulled (production true; tests false: no registry here)
 * @param clock         time for back-off, status timestamps and events; tests inject a fake one
 * @param plegPeriod    how often the runtime is relisted to notice container exits (kubelet's PLEG: 1 s)
 * @param nodeMemoryBytes the node's memory capacity, for Burstable containers' oom_score_adj
 */
public record PodConfig(String nodeName, Path dataDir, List<String> hostIPs, List<String> clusterDns, String clusterDomain,
                        Path hostResolvConf, String cgroupRoot, boolean allowPull, Clock clock, Duration plegPeriod,
                        long nodeMemoryBytes) {

    public PodConfig {
        Objects.requireNonNull(nodeName, "nodeName");
        Objects.requireNonNull(dataDir, "dataDir");
        hostIPs = List.copyOf(hostIPs);
        clusterDns = List.copyOf(clusterDns);
        Objects.requireNonNull(clusterDomain, "clusterDomain");
        Objects.requireNonNull(clock, "clock");
        if (plegPeriod.isNegative() || plegPeriod.isZero()) throw new IllegalArgumentException("plegPeriod : " + plegPeriod + " (expected: > 0)");
        if (!cgroupRoot.startsWith("/")) throw new IllegalArgumentException("cgroupRoot : " + cgroupRoot + " (expected: an absolute cgroup path)");
    }

    /** Production defaults: pulls allowed, system clock, PLEG every second, /etc/resolv.conf, /k3jpods. */
    public static PodConfig of(String nodeName, Path dataDir, List<String> hostIPs, List<String> clusterDns, String clusterDomain) {
        return new PodConfig(nodeName, dataDir, hostIPs, clusterDns, clusterDomain, Path.of("/etc/resolv.conf"), "/k3jpods", true,
                Clock.systemUTC(), Duration.ofSeconds(1), Machine.memoryBytes());
    }

    public PodConfig withAllowPull(boolean allow) {
        return new PodConfig(nodeName, dataDir, hostIPs, clusterDns, clusterDomain, hostResolvConf, cgroupRoot, allow, clock, plegPeriod, nodeMemoryBytes);
    }

    public PodConfig withClock(Clock c) {
        return new PodConfig(nodeName, dataDir, hostIPs, clusterDns, clusterDomain, hostResolvConf, cgroupRoot, allowPull, c, plegPeriod, nodeMemoryBytes);
    }

    public PodConfig withCgroupRoot(String root) {
        return new PodConfig(nodeName, dataDir, hostIPs, clusterDns, clusterDomain, hostResolvConf, root, allowPull, clock, plegPeriod, nodeMemoryBytes);
    }

    Path podDir(String uid) {
        return dataDir.resolve("pods").resolve(uid);
    }

    Path logDir(String namespace, String name, String uid) {
        return dataDir.resolve("logs").resolve(namespace + "_" + name + "_" + uid);
    }

    /** Machine facts this package needs (the node package reports the full set). */
    static final class Machine {
        private Machine() {
        }

        static long memoryBytes() {
            try {
                for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/meminfo"))) {
                    if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            } catch (java.io.IOException | NumberFormatException e) {
                // fall through
            }
            return 8L << 30;
        }
    }
}
