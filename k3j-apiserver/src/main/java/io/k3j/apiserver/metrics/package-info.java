/**
 * The resource metrics API, {@code metrics.k8s.io/v1beta1} (NodeMetrics, PodMetrics), served by the API server
 * itself: what metrics-server is in k3s, so that {@code kubectl top} works. {@link MetricsApi} answers get and list
 * from the last two scrapes of each Ready node's kubelet {@code /metrics/resource}, taken every 15 s while anyone
 * asked recently.
 */
package io.k3j.apiserver.metrics;
