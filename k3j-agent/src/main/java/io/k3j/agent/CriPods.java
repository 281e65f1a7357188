package io.k3j.agent;

import io.k3j.agent.cri.RuntimeService;
import io.k3j.agent.cri.v1.ContainerFilter;
import io.k3j.agent.cri.v1.ContainerState;
import io.k3j.agent.cri.v1.ListContainersRequest;
import io.k3j.agent.cri.v1.ListPodSandboxRequest;
import io.k3j.agent.cri.v1.PodSandbox;
import io.k3j.agent.cri.v1.PodSandboxFilter;
import io.k3j.agent.cri.v1.PodSandboxState;
import io.k3j.agent.kubelet.PodLookup;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The kubelet API's view of this node's pods, read from the runtime itself (as kubelet's runtime cache is): the
 * pod's newest ready sandbox by the labels every sandbox carries, and per container name its newest attempt.
 * Reading CRI rather than the pod workers' memory means logs and exec keep working for containers adopted after
 * an agent restart and while the server is away.
 */
final class CriPods implements PodLookup {
    private final RuntimeService cri;
    private final Path logsDir;

    CriPods(RuntimeService cri, Path logsDir) {
        this.cri = cri;
        this.logsDir = logsDir;
    }

    @Override
    public Optional<Pod> pod(String namespace, String name) {
        List<PodSandbox> sandboxes = cri.listPodSandbox(ListPodSandboxRequest.newBuilder()
                .setFilter(PodSandboxFilter.newBuilder()
                        .putLabelSelector("io.kubernetes.pod.namespace", namespace)
                        .putLabelSelector("io.kubernetes.pod.name", name))
                .build()).getItemsList();
        Optional<PodSandbox> newest = sandboxes.stream()
                .max(Comparator.comparing((PodSandbox s) -> s.getState() == PodSandboxState.SANDBOX_READY)
                        .thenComparingLong(PodSandbox::getCreatedAt));
        if (newest.isEmpty()) return Optional.empty();
        PodSandbox sandbox = newest.get();
        String uid = sandbox.getMetadata().getUid();
        Path podLogs = logsDir.resolve(namespace + "_" + name + "_" + uid);
        Map<String, io.k3j.agent.cri.v1.Container> latest = new HashMap<>();
        for (io.k3j.agent.cri.v1.Container c : cri.listContainers(ListContainersRequest.newBuilder()
                .setFilter(ContainerFilter.newBuilder().setPodSandboxId(sandbox.getId())).build()).getContainersList()) {
            latest.merge(c.getMetadata().getName(), c, (a, b) -> b.getMetadata().getAttempt() > a.getMetadata().getAttempt() ? b : a);
        }
        Map<String, PodLookup.Container> containers = new HashMap<>();
        latest.forEach((cname, c) -> containers.put(cname, new PodLookup.Container(c.getId(), podLogs.resolve(cname),
                c.getMetadata().getAttempt(), c.getState() == ContainerState.CONTAINER_RUNNING)));
        return Optional.of(new Pod(uid, sandbox.getState() == PodSandboxState.SANDBOX_READY ? sandbox.getId() : "", containers));
    }
}
