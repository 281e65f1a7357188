/**
 * The kubelet API on :10250: {@link io.k3j.agent.kubelet.KubeletServer} serves health, container logs (CRI log
 * files) and exec, attach and port-forward through the runtime's streaming server, for SPDY clients (spliced) and
 * WebSocket clients (v5.channel.k8s.io translated to SPDY; SPDY-in-WebSocket port-forward tunnels unwrapped). The
 * agent wires it to the runtime with {@link io.k3j.agent.kubelet.StreamingRuntime} (e.g.
 * {@link io.k3j.agent.kubelet.CriStreamingRuntime}) and to its pods with {@link io.k3j.agent.kubelet.PodLookup}.
 */
package io.k3j.agent.kubelet;
