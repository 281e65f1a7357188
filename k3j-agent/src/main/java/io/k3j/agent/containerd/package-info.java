/**
 * containerd for one node: {@link io.k3j.agent.containerd.ContainerdConfig} (where it keeps things),
 * {@link io.k3j.agent.containerd.Containerd} (config.toml generated, process started or adopted, supervised, CRI client).
 */
package io.k3j.agent.containerd;
