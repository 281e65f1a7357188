package io.k3j.agent.cri;

import io.k3j.agent.cri.v1.*;

/**
 * The CRI v1 runtime service ({@code runtime.v1.RuntimeService}): pod sandboxes, containers, exec/attach/port-forward
 * URLs, stats and runtime status. Each method is one blocking unary gRPC call with the client's deadline; every method
 * throws {@link CriException} with the runtime's status (e.g. {@link CriException#notFound()} for an unknown ID).
 */
public interface RuntimeService {

    VersionResponse version(VersionRequest request);

    RunPodSandboxResponse runPodSandbox(RunPodSandboxRequest request);

    StopPodSandboxResponse stopPodSandbox(StopPodSandboxRequest request);

    RemovePodSandboxResponse removePodSandbox(RemovePodSandboxRequest request);

    PodSandboxStatusResponse podSandboxStatus(PodSandboxStatusRequest request);

    ListPodSandboxResponse listPodSandbox(ListPodSandboxRequest request);

    CreateContainerResponse createContainer(CreateContainerRequest request);

    StartContainerResponse startContainer(StartContainerRequest request);

    StopContainerResponse stopContainer(StopContainerRequest request);

    RemoveContainerResponse removeContainer(RemoveContainerRequest request);

    ListContainersResponse listContainers(ListContainersRequest request);

    ContainerStatusResponse containerStatus(ContainerStatusRequest request);

    UpdateContainerResourcesResponse updateContainerResources(UpdateContainerResourcesRequest request);

    ReopenContainerLogResponse reopenContainerLog(ReopenContainerLogRequest request);

    /** Runs a command to completion; the call's deadline is extended by the request's own timeout (seconds). */
    ExecSyncResponse execSync(ExecSyncRequest request);

    ExecResponse exec(ExecRequest request);

    AttachResponse attach(AttachRequest request);

    PortForwardResponse portForward(PortForwardRequest request);

    ContainerStatsResponse containerStats(ContainerStatsRequest request);

    ListContainerStatsResponse listContainerStats(ListContainerStatsRequest request);

    PodSandboxStatsResponse podSandboxStats(PodSandboxStatsRequest request);

    ListPodSandboxStatsResponse listPodSandboxStats(ListPodSandboxStatsRequest request);

    UpdateRuntimeConfigResponse updateRuntimeConfig(UpdateRuntimeConfigRequest request);

    StatusResponse status(StatusRequest request);
}
