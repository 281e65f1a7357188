/**
 * kube-scheduler's default-profile scheduling algorithm as pure computation: no API calls, no threads.
 *
 * <p>{@link io.k3j.controllers.scheduler.PodInfo} and {@link io.k3j.controllers.scheduler.NodeInfo} parse pod
 * and node JSON once; a {@link io.k3j.controllers.scheduler.Snapshot} holds the nodes with their pods and is
 * kept current by assuming and forgetting pods; {@link io.k3j.controllers.scheduler.SchedulingAlgorithm}
 * filters and scores nodes and, when none fits, renders kube's {@link io.k3j.controllers.scheduler.FitError}
 * message and plans a {@link io.k3j.controllers.scheduler.Preemption}. The scheduler loop (informers, queue,
 * binding, events) lives elsewhere and calls in here.
 *
 * <p>Behaviour follows kube-scheduler's plugins (pkg/scheduler/framework/plugins) and its reasons verbatim,
 * so {@code kubectl describe pod} reads as it does against Kubernetes. Not modelled: ImageLocality,
 * PodDisruptionBudgets in victim selection, nominated pods reserving room on their node, volume limits,
 * dynamic resources, and scheduling gates.
 *
 * @see <a href="https://github.com/kubernetes/enhancements/tree/master/keps/sig-scheduling/895-pod-topology-spread">KEP-895 pod topology spread</a>
 * @see <a href="https://kubernetes.io/docs/reference/scheduling/config/#scheduling-plugins">Scheduling plugins</a>
 */
package io.k3j.controllers.scheduler;
