/**
 * The node agent: what kubelet and the node-side parts of k3s are. It joins a cluster with the token, registers
 * its Node, supervises containerd and runs the pods bound to it through CRI, reports their status exactly as kubelet
 * does, serves the kubelet API (logs, exec, attach, port-forward, stats) and keeps a local cache so that pods survive
 * an unreachable server and a reboot. Its network services (pod network, service proxy, cluster DNS, ingress,
 * network policies) run inside it too, each node serving its own pods even when cut off from the server.
 *
 * <pre>
 * io.k3j.agent            Agent (wires the parts), AgentConfig, Networking (wires the node's network services)
 * io.k3j.agent.host       Debian packages, processes, machine facts (cpu, memory, disk, addresses), network namespaces
 * io.k3j.agent.cri        CRI v1 client over containerd's unix socket (gRPC on Netty HTTP/2), the runtime.v1 protos
 * io.k3j.agent.containerd containerd started and supervised with a generated config
 * io.k3j.agent.image      OCI archives (build, import), the pause image, air-gap folder
 * io.k3j.agent.join       token check, CA fetch, node certificates
 * io.k3j.agent.kube       API client over HTTPS (list, watch, write) and informers with a local cache
 * io.k3j.agent.lb         the API load balancer on 127.0.0.1:6444: servers learnt from the kubernetes Endpoints, failover
 * io.k3j.agent.node       Node registration, Lease heartbeat, conditions
 * io.k3j.agent.pod        pod workers: sandboxes, containers, restarts, probes, hooks, status
 * io.k3j.agent.volume     volumes and environment of a pod's containers
 * io.k3j.agent.kubelet    the kubelet API on :10250: logs, exec, attach, port-forward, stats
 * io.k3j.agent.stats      node, pod and container usage: /stats/summary and /metrics/resource
 * io.k3j.agent.network    the pod network: bridge, CNI configuration, routes to other nodes (host-gw, vxlan), masquerade
 * io.k3j.agent.proxy      Services as nftables rules (kube-proxy's job)
 * io.k3j.agent.dns        the cluster DNS for cluster.local, node-local on the pod gateway (CoreDNS's job)
 * io.k3j.agent.ingress    the ingress controller, node-local on the pod gateway (Traefik's job)
 * io.k3j.agent.netpol     NetworkPolicy as nftables rules (kube-router's job in k3s)
 * </pre>
 */
package io.k3j.agent;
