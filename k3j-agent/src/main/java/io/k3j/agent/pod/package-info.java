/**
 * Pod workers: what kubelet's pod workers, PLEG, prober, status manager and event recorder do, on containerd
 * through CRI v1.
 *
 * <pre>
 * pod source (Informer on pods, fieldSelector spec.nodeName=&lt;node&gt;, or the offline cache)
 *   └─ PodManager.apply / remove / sourceSynced
 *        ├─ PodWorker per pod (virtual thread): sandbox → volumes → init containers in order → containers,
 *        │     restart policy and CrashLoopBackOff (Backoff), lifecycle hooks, termination with the grace period,
 *        │     final DELETE (grace 0, uid precondition) of deleted pods
 *        │     └─ ProbeRunner per probe and container instance (Prober: exec, httpGet, tcpSocket)
 *        ├─ PLEG: relists CRI every second, wakes the workers whose containers changed, removes orphans
 *        ├─ StatusManager: strategic merge patch of pods/status when changed; held while the server is unreachable
 *        └─ PodEvents: core/v1 Events (source kubelet), aggregated by count, never blocking a worker
 * </pre>
 *
 * <p>Specs turns the pod into CRI configs (PodSandboxConfig with DNS, port mappings, cgroup parent per QoS,
 * namespaces; ContainerConfig with env, mounts incl. /etc/hosts and the termination-message file, resources, security
 * context, and the labels/annotations a restarted agent adopts containers by).
 *
 * <p>gRPC probes call grpc.health.v1.Health/Check over h2c ({@code GrpcHealth}).
 *
 * <p>Not done yet: eviction under node pressure
 * ({@link io.k3j.agent.pod.PodManager#evict} is the seam); ephemeral containers, sidecar init containers
 * (restartPolicy Always on an init container), in-place resize, activeDeadlineSeconds; image pulls with credentials.
 */
package io.k3j.agent.pod;
