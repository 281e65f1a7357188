/**
 * Node, pod and container resource usage, as the kubelet reports it: {@code /stats/summary} (the Summary API's
 * JSON) and {@code /metrics/resource} (Prometheus text, what metrics-server scrapes).
 *
 * <p>The node's figures come from the host ({@code /proc/stat}, {@code /proc/meminfo}, the root memory cgroup, the
 * data dir's file system: {@link NodeStatsSource#host}); pods' and containers' from the runtime
 * ({@link CriPodStats}, CRI {@code ListPodSandboxStats}). {@link StatsProvider} joins both and turns cumulative CPU
 * time into a rate over the last two samples where the source gives none; {@link StatsHttp} serves it on the
 * kubelet API.
 */
package io.k3j.agent.stats;
