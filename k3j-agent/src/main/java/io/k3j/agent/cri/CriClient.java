package io.k3j.agent.cri;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.k3j.agent.cri.v1.*;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * CRI v1 client for a runtime's unix socket (containerd's {@code containerd.sock}): gRPC unary calls over one
 * long-lived HTTP/2 connection on the agent's shared event loops, reconnected on the next call after the runtime restarted.
 * No grpc-java: requests and answers are the generated {@code io.k3j.agent.cri.v1} messages.
 *
 * <p>Every call has a deadline (the client's timeout, sent as {@code grpc-timeout} too); {@link #withTimeout} gives a
 * view with another one that shares the connection. Calls are thread-safe and may run concurrently (one stream each).
 * Errors are {@link CriException}s; a runtime that is down answers {@link CriException#UNAVAILABLE}.
 */
public final class CriClient implements RuntimeService, ImageService, AutoCloseable {

    /** kubelet's default runtime request timeout. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

    private static final String RUNTIME = "/runtime.v1.RuntimeService/";
    private static final String IMAGE = "/runtime.v1.ImageService/";

    private final GrpcConnection connection;
    private final long timeoutMillis;
    private final boolean owner;

    private CriClient(GrpcConnection connection, long timeoutMillis, boolean owner) {
        this.connection = connection;
        this.timeoutMillis = timeoutMillis;
        this.owner = owner;
    }

    /**
     * A client for the runtime listening on {@code socket}. Does not connect yet (the runtime may still be starting):
     * the first call does, and fails with UNAVAILABLE while nobody listens.
     */
    public static CriClient connect(Path socket) {
        return connect(socket, DEFAULT_TIMEOUT);
    }

    /** As {@link #connect(Path)}, with {@code timeout} as every call's deadline. */
    public static CriClient connect(Path socket, Duration timeout) {
        Objects.requireNonNull(socket, "socket");
        return new CriClient(new GrpcConnection(socket), checkTimeout(timeout), true);
    }

    /** A view of this client whose calls have {@code timeout} as deadline; closing the view does not close the connection. */
    public CriClient withTimeout(Duration timeout) {
        return new CriClient(connection, checkTimeout(timeout), false);
    }

    /** The runtime's socket. */
    public Path socket() {
        return connection.socket();
    }

    private static long checkTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout : " + timeout + " (expected: > 0)");
        return timeout.toMillis();
    }

    private <T> T call(String path, MessageLite request, Parser<T> parser, long timeout) {
        byte[] answer = connection.call(path, request.toByteArray(), timeout);
        try {
            return parser.parseFrom(answer);
        } catch (InvalidProtocolBufferException e) {
            throw new CriException(path, CriException.INTERNAL, "cannot decode the answer: " + e.getMessage(), e);
        }
    }

    private <T> T runtime(String method, MessageLite request, Parser<T> parser) {
        return call(RUNTIME + method, request, parser, timeoutMillis);
    }

    private <T> T image(String method, MessageLite request, Parser<T> parser) {
        return call(IMAGE + method, request, parser, timeoutMillis);
    }

    @Override
    public VersionResponse version(VersionRequest request) {
        return runtime("Version", request, VersionResponse.parser());
    }

    @Override
    public RunPodSandboxResponse runPodSandbox(RunPodSandboxRequest request) {
        return runtime("RunPodSandbox", request, RunPodSandboxResponse.parser());
    }

    @Override
    public StopPodSandboxResponse stopPodSandbox(StopPodSandboxRequest request) {
        return runtime("StopPodSandbox", request, StopPodSandboxResponse.parser());
    }

    @Override
    public RemovePodSandboxResponse removePodSandbox(RemovePodSandboxRequest request) {
        return runtime("RemovePodSandbox", request, RemovePodSandboxResponse.parser());
    }

    @Override
    public PodSandboxStatusResponse podSandboxStatus(PodSandboxStatusRequest request) {
        return runtime("PodSandboxStatus", request, PodSandboxStatusResponse.parser());
    }

    @Override
    public ListPodSandboxResponse listPodSandbox(ListPodSandboxRequest request) {
        return runtime("ListPodSandbox", request, ListPodSandboxResponse.parser());
    }

    @Override
    public CreateContainerResponse createContainer(CreateContainerRequest request) {
        return runtime("CreateContainer", request, CreateContainerResponse.parser());
    }

    @Override
    public StartContainerResponse startContainer(StartContainerRequest request) {
        return runtime("StartContainer", request, StartContainerResponse.parser());
    }

    @Override
    public StopContainerResponse stopContainer(StopContainerRequest request) {
        // the runtime waits up to the grace period before it kills: the deadline must outlast it
        return call(RUNTIME + "StopContainer", request, StopContainerResponse.parser(),
                timeoutMillis + Math.max(0, request.getTimeout()) * 1000);
    }

    @Override
    public RemoveContainerResponse removeContainer(RemoveContainerRequest request) {
        return runtime("RemoveContainer", request, RemoveContainerResponse.parser());
    }

    @Override
    public ListContainersResponse listContainers(ListContainersRequest request) {
        return runtime("ListContainers", request, ListContainersResponse.parser());
    }

    @Override
    public ContainerStatusResponse containerStatus(ContainerStatusRequest request) {
        return runtime("ContainerStatus", request, ContainerStatusResponse.parser());
    }

    @Override
    public UpdateContainerResourcesResponse updateContainerResources(UpdateContainerResourcesRequest request) {
        return runtime("UpdateContainerResources", request, UpdateContainerResourcesResponse.parser());
    }

    @Override
    public ReopenContainerLogResponse reopenContainerLog(ReopenContainerLogRequest request) {
        return runtime("ReopenContainerLog", request, ReopenContainerLogResponse.parser());
    }

    @Override
    public ExecSyncResponse execSync(ExecSyncRequest request) {
        return call(RUNTIME + "ExecSync", request, ExecSyncResponse.parser(),
                timeoutMillis + Math.max(0, request.getTimeout()) * 1000);
    }

    @Override
    public ExecResponse exec(ExecRequest request) {
        return runtime("Exec", request, ExecResponse.parser());
    }

    @Override
    public AttachResponse attach(AttachRequest request) {
        return runtime("Attach", request, AttachResponse.parser());
    }

    @Override
    public PortForwardResponse portForward(PortForwardRequest request) {
        return runtime("PortForward", request, PortForwardResponse.parser());
    }

    @Override
    public ContainerStatsResponse containerStats(ContainerStatsRequest request) {
        return runtime("ContainerStats", request, ContainerStatsResponse.parser());
    }

    @Override
    public ListContainerStatsResponse listContainerStats(ListContainerStatsRequest request) {
        return runtime("ListContainerStats", request, ListContainerStatsResponse.parser());
    }

    @Override
    public PodSandboxStatsResponse podSandboxStats(PodSandboxStatsRequest request) {
        return runtime("PodSandboxStats", request, PodSandboxStatsResponse.parser());
    }

    @Override
    public ListPodSandboxStatsResponse listPodSandboxStats(ListPodSandboxStatsRequest request) {
        return runtime("ListPodSandboxStats", request, ListPodSandboxStatsResponse.parser());
    }

    @Override
    public UpdateRuntimeConfigResponse updateRuntimeConfig(UpdateRuntimeConfigRequest request) {
        return runtime("UpdateRuntimeConfig", request, UpdateRuntimeConfigResponse.parser());
    }

    @Override
    public StatusResponse status(StatusRequest request) {
        return runtime("Status", request, StatusResponse.parser());
    }

    @Override
    public ListImagesResponse listImages(ListImagesRequest request) {
        return image("ListImages", request, ListImagesResponse.parser());
    }

    @Override
    public ImageStatusResponse imageStatus(ImageStatusRequest request) {
        return image("ImageStatus", request, ImageStatusResponse.parser());
    }

    @Override
    public PullImageResponse pullImage(PullImageRequest request) {
        return image("PullImage", request, PullImageResponse.parser());
    }

    @Override
    public RemoveImageResponse removeImage(RemoveImageRequest request) {
        return image("RemoveImage", request, RemoveImageResponse.parser());
    }

    @Override
    public ImageFsInfoResponse imageFsInfo(ImageFsInfoRequest request) {
        return image("ImageFsInfo", request, ImageFsInfoResponse.parser());
    }

    /** Closes the connection and its thread (a {@link #withTimeout} view closes nothing). */
    @Override
    public void close() {
        if (owner) connection.close();
    }
}
