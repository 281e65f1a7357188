package io.k3j.controllers;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;

/**
 * What the controllers need to know about the cluster (kube-controller-manager's flags, with k3s's defaults).
 *
 * @param identity             this server's candidate name for leader election (stable across restarts)
 * @param clusterCidr          pod network; each node gets a {@code nodeCidrMaskSize} slice of it
 * @param manifestsDir         the auto-deploy folder ({@code <data-dir>/server/manifests}), or null for none
 * @param nodeMonitorGracePeriod how long a node may miss heartbeats before it is NotReady/Unknown (40 s)
 * @param clock                the controllers' clock (tests inject a fake one)
 * @param resync               how often informers hand every object to the controllers again
 * @param disabled             packaged components switched off with {@code --disable} (k3s's names: {@code local-storage}, ...)
 */
public record ControllerConfig(String identity, String clusterCidr, int nodeCidrMaskSize, String serviceCidr, String clusterDomain,
                               Path manifestsDir, Path localPathDir, Duration nodeMonitorGracePeriod, Clock clock, Duration resync,
                               Set<String> disabled) {

    public ControllerConfig {
        disabled = disabled == null ? Set.of() : Set.copyOf(disabled);
    }

    public static ControllerConfig defaults(String identity) {
        return new ControllerConfig(identity, "10.42.0.0/16", 24, "10.43.0.0/16", "cluster.local", null,
                Path.of("/var/lib/k3j/storage"), Duration.ofSeconds(40), Clock.systemUTC(), Duration.ofMinutes(10), Set.of());
    }

    public ControllerConfig withClock(Clock c) {
        return new ControllerConfig(identity, clusterCidr, nodeCidrMaskSize, serviceCidr, clusterDomain, manifestsDir, localPathDir,
                nodeMonitorGracePeriod, c, resync, disabled);
    }

    public ControllerConfig withManifestsDir(Path dir) {
        return new ControllerConfig(identity, clusterCidr, nodeCidrMaskSize, serviceCidr, clusterDomain, dir, localPathDir,
                nodeMonitorGracePeriod, clock, resync, disabled);
    }

    public ControllerConfig withLocalPathDir(Path dir) {
        return new ControllerConfig(identity, clusterCidr, nodeCidrMaskSize, serviceCidr, clusterDomain, manifestsDir, dir,
                nodeMonitorGracePeriod, clock, resync, disabled);
    }

    public ControllerConfig withCidrs(String cluster, String service) {
        return new ControllerConfig(identity, cluster, nodeCidrMaskSize, service, clusterDomain, manifestsDir, localPathDir,
                nodeMonitorGracePeriod, clock, resync, disabled);
    }

    public ControllerConfig withNodeMonitorGracePeriod(Duration d) {
        return new ControllerConfig(identity, clusterCidr, nodeCidrMaskSize, serviceCidr, clusterDomain, manifestsDir, localPathDir,
                d, clock, resync, disabled);
    }

    /** The same configuration with {@code names} (k3s's {@code --disable} items) switched off. */
    public ControllerConfig withDisabled(Set<String> names) {
        return new ControllerConfig(identity, clusterCidr, nodeCidrMaskSize, serviceCidr, clusterDomain, manifestsDir, localPathDir,
                nodeMonitorGracePeriod, clock, resync, names);
    }

    /** Whether the packaged component {@code name} was switched off with {@code --disable}. */
    public boolean isDisabled(String name) {
        return disabled.contains(name);
    }
}
