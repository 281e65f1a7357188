/**
 * NetworkPolicy enforcement on a node (what kube-router's policy controller is in k3s): {@link
 * io.k3j.agent.netpol.NetworkPolicyEnforcer} compiles networking.k8s.io/v1 NetworkPolicies, the cluster's pods and
 * namespaces into an nftables table for the pods of this node and keeps it current.
 */
package io.k3j.agent.netpol;
