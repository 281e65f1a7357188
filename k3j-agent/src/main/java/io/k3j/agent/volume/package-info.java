/**
 * Volumes and environment of a pod's containers: what kubelet's volume manager and makeEnvironmentVariables do, as
 * host-side file operations (no CRI here). The pod worker (io.k3j.agent.pod) turns the results into CRI
 * {@code Mount}s and {@code KeyValue} envs.
 *
 * <p>How the pod worker uses it:
 * <ol>
 *   <li>before the sandbox's containers: {@link io.k3j.agent.volume.VolumeManager#prepare} (retry on
 *       {@link io.k3j.agent.volume.PodConfigException} {@code FailedMount}, emitting it as a Warning event);</li>
 *   <li>per container, before CreateContainer: {@link io.k3j.agent.volume.EnvResolver#resolve} with the sandbox's
 *       IPs, then {@link io.k3j.agent.volume.VolumeManager#mounts} with that env (a
 *       {@code CreateContainerConfigError} from either is the container's waiting reason and message);</li>
 *   <li>periodically (kubelet: every sync, about a minute) and on ConfigMap/Secret/pod-metadata changes:
 *       {@link io.k3j.agent.volume.VolumeManager#refresh}, which also rotates projected tokens;</li>
 *   <li>after the pod's sandbox is gone: {@link io.k3j.agent.volume.VolumeManager#cleanup}.</li>
 * </ol>
 *
 * <p>The on-disk layout is kubelet's: {@code <pods>/<uid>/volumes/kubernetes.io~<plugin>/<name>}, with the atomic
 * writer's {@code ..data} symlink swap for configMap, secret, downwardAPI and projected volumes.
 */
package io.k3j.agent.volume;
