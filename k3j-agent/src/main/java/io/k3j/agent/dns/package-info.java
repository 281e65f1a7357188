/**
 * The cluster DNS, CoreDNS's job in k3s, run inside every agent on the node's pod gateway address: {@link
 * io.k3j.agent.dns.ClusterDns} answers the cluster domain from Services, EndpointSlices and Nodes informers and
 * forwards other names to the node's resolvers. It speaks DNS through its own small codec (no DNS library: the agent
 * stays lean).
 */
package io.k3j.agent.dns;
