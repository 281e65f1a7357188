package io.k3j.agent.pod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.cri.CriException;
import io.k3j.agent.cri.v1.Container;
import io.k3j.agent.cri.v1.ContainerConfig;
import io.k3j.agent.cri.v1.ContainerFilter;
import io.k3j.agent.cri.v1.ContainerState;
import io.k3j.agent.cri.v1.ContainerStatus;
import io.k3j.agent.cri.v1.ContainerStatusRequest;
import io.k3j.agent.cri.v1.CreateContainerRequest;
import io.k3j.agent.cri.v1.ImageSpec;
import io.k3j.agent.cri.v1.ImageStatusRequest;
import io.k3j.agent.cri.v1.ListContainersRequest;
import io.k3j.agent.cri.v1.ListPodSandboxRequest;
import io.k3j.agent.cri.v1.PodSandbox;
import io.k3j.agent.cri.v1.PodSandboxConfig;
import io.k3j.agent.cri.v1.PodSandboxFilter;
import io.k3j.agent.cri.v1.PodSandboxState;
import io.k3j.agent.cri.v1.PodSandboxStatus;
import io.k3j.agent.cri.v1.PodSandboxStatusRequest;
import io.k3j.agent.cri.v1.PullImageRequest;
import io.k3j.agent.cri.v1.RemoveContainerRequest;
import io.k3j.agent.cri.v1.RemovePodSandboxRequest;
import io.k3j.agent.cri.v1.RunPodSandboxRequest;
import io.k3j.agent.cri.v1.StartContainerRequest;
import io.k3j.agent.cri.v1.StopContainerRequest;
import io.k3j.agent.cri.v1.StopPodSandboxRequest;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker of one pod (kubelet's podWorker + SyncPod): a virtual thread that brings the runtime in line with the
 * pod's spec whenever something changes — the spec, a container's state (from PLEG), a probe result, a timer — and
 * reports the status. Only this thread touches the pod's runtime state; others just {@link #signal()}.
 */
final class PodWorker {
    private static final System.Logger LOG = System.getLogger(PodWorker.class.getName());
    /** kubelet's minimumGracePeriodInSeconds. */
    private static final long MIN_GRACE = 2;
    private static final int MAX_TERMINATION_MESSAGE = 4096;

    private final PodManager m;
    final String uid;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private boolean signalled = true;
    private volatile ObjectNode pod;
    private volatile boolean removed;
    private volatile boolean stopped;
    private Thread thread;

    // runtime state, touched only by the worker thread (and read by probe runners through volatile fields)
    private String sandboxId;
    private int sandboxAttempt = -1;
    private boolean sandboxReady;
    private volatile String podIP = "";
    private List<String> podIPs = List.of();
    /** By container name; concurrent because {@link #stop()} walks it from the closing thread. */
    private final Map<String, Ctr> containers = new java.util.concurrent.ConcurrentHashMap<>();
    private boolean discovered;
    /** The pod has been initialized once: regular init containers are done for good. */
    private boolean initDone;
    /** The pod reached Succeeded/Failed: nothing is started again. */
    private volatile String finalPhase;
    /** status.reason/message of a pod this node failed (DeadlineExceeded; Evicted later). */
    private String statusReason;
    private String statusMessage;
    /** reason and message of an eviction the eviction manager asked for, until the worker carried it out. */
    private volatile String[] eviction;
    private Instant startTime;
    private final Map<String, ObjectNode> conditions = new LinkedHashMap<>();
    private boolean hostsWritten;
    private Instant nextWake;

    /** One container of the pod: its current instance in the runtime and what the worker decided about it. */
    private final class Ctr implements ProbeRunner.Host {
        final String name;
        final boolean init;
        String id;
        int restartCount;
        ContainerStatus status;
        /** The previous instance's terminated state, for lastState. */
        ObjectNode lastTerminated;
        String lastTerminatedId;
        /** The current exited instance's terminated state, with its termination message read once. */
        ObjectNode terminated;
        Instant exitSeenAt;
        String waitingReason;
        String waitingMessage;
        /** Written by the worker, read by the probe threads and by {@link #stop()}. */
        final List<ProbeRunner> probes = new java.util.concurrent.CopyOnWriteArrayList<>();
        Boolean adoptedReady;

        Ctr(String name, boolean init) {
            this.name = name;
            this.init = init;
        }

        boolean running() {
            return status != null && status.getState() == ContainerState.CONTAINER_RUNNING;
        }

        boolean exited() {
            return status != null && status.getState() == ContainerState.CONTAINER_EXITED;
        }

        ProbeRunner probe(ProbeRunner.Kind kind) {
            for (ProbeRunner p : probes) if (p.kind() == kind) return p;
            return null;
        }

        boolean started() {
            if (!running()) return false;
            ProbeRunner s = probe(ProbeRunner.Kind.STARTUP);
            return s == null || Boolean.TRUE.equals(s.result());
        }

        boolean ready() {
            if (!started()) return false;
            ProbeRunner r = probe(ProbeRunner.Kind.READINESS);
            return r == null || Boolean.TRUE.equals(r.result());
        }

        void stopProbes() {
            for (ProbeRunner p : probes) {
                p.close();
                probes.remove(p);
            }
        }

        String fieldPath() {
            return "spec." + (init ? "initContainers" : "containers") + "{" + name + "}";
        }

        @Override
        public boolean mayRun(ProbeRunner.Kind kind) {
            if (kind == ProbeRunner.Kind.STARTUP) return true;
            ProbeRunner s = probe(ProbeRunner.Kind.STARTUP);
            return s == null || Boolean.TRUE.equals(s.result());
        }

        @Override
        public String podIP() {
            return PodWorker.this.podIP;
        }

        @Override
        public void unhealthy(ProbeRunner.Kind kind, String output) {
            m.events.warning(pod, fieldPath(), "Unhealthy", kind.title + " probe failed: " + output);
        }

        @Override
        public void changed() {
            signal();
        }
    }

    PodWorker(PodManager manager, ObjectNode pod) {
        this.m = manager;
        this.uid = pod.path("metadata").path("uid").asText();
        this.pod = pod;
        JsonNode st = pod.path("status");
        for (JsonNode c : st.path("conditions")) conditions.put(c.path("type").asText(), (ObjectNode) c.deepCopy());
        String phase = st.path("phase").asText("");
        // a pod this node already finished is never run again (kubelet: terminal pods stay terminal)
        if (phase.equals("Succeeded") || phase.equals("Failed")) finalPhase = phase;
        String start = st.path("startTime").asText("");
        if (!start.isEmpty()) startTime = Instant.parse(start);
    }

    void start() {
        thread = Thread.ofVirtual().name("pod-" + pod.path("metadata").path("namespace").asText() + "/" + pod.path("metadata").path("name").asText())
                .start(this::loop);
    }

    ObjectNode pod() {
        return pod;
    }

    void update(ObjectNode newPod) {
        this.pod = newPod;
        signal();
    }

    /** Whether the pod reached Succeeded or Failed here (or is being evicted): its containers won't run again. */
    boolean terminal() {
        return finalPhase != null || eviction != null;
    }

    /** Node-pressure eviction: the pod is killed at once and reported Failed with {@code reason}. */
    void evict(String reason, String message) {
        eviction = new String[]{reason, message};
        signal();
    }

    /** The pod is gone from the API: tear it down. */
    void remove() {
        removed = true;
        signal();
    }

    void signal() {
        lock.lock();
        try {
            signalled = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Stops the worker without touching the runtime (the agent is stopping; a new one adopts the containers). */
    void stop() {
        stopped = true;
        signal();
        for (Ctr c : containers.values()) c.stopProbes();
    }

    void join(Duration d) throws InterruptedException {
        if (thread != null) thread.join(d);
    }

    private void loop() {
        while (!stopped) {
            lock.lock();
            try {
                while (!signalled && !stopped) {
                    long waitMs = 10_000;
                    if (nextWake != null) {
                        // a fake clock does not move by itself: look again at least every second while a timer is due
                        waitMs = Math.max(10, Math.min(1000, Duration.between(m.config.clock().instant(), nextWake).toMillis()));
                    }
                    if (!wake.await(waitMs, TimeUnit.MILLISECONDS)) break;
                }
                signalled = false;
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            if (stopped) return;
            try {
                if (sync()) {
                    m.finished(this);
                    return;
                }
            } catch (CriException e) {
                LOG.log(System.Logger.Level.WARNING, "sync of pod " + name() + " failed: " + e.getMessage());
                nextWake = m.config.clock().instant().plusSeconds(1);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "sync of pod " + name() + " failed", e);
                nextWake = m.config.clock().instant().plusSeconds(1);
            }
        }
    }

    private String name() {
        return pod.path("metadata").path("namespace").asText() + "/" + pod.path("metadata").path("name").asText();
    }

    /** kubelet's format for messages: {@code name_namespace(uid)}. */
    private String podRef() {
        return pod.path("metadata").path("name").asText() + "_" + pod.path("metadata").path("namespace").asText() + "(" + uid + ")";
    }

    // ---------------------------------------------------------------------------------------------------------------
    // sync

    /** One pass; true when the pod is torn down and the worker ends. */
    private boolean sync() {
        ObjectNode p = pod;
        nextWake = null;
        if (!discovered) {
            discover(p);
            discovered = true;
        }
        if (removed || p.path("metadata").has("deletionTimestamp")) {
            terminate(p);
            return true;
        }
        refresh(p);
        if (startTime == null) startTime = m.config.clock().instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        String[] evict = eviction;
        if (finalPhase == null && evict != null) {
            // kubelet's hard eviction: no grace period, phase Failed with reason Evicted, containers stay terminated
            m.events.warning(p, null, evict[0], evict[1]);
            finalPhase = "Failed";
            statusReason = evict[0];
            statusMessage = evict[1];
            killPod(p, 0, null);
            refresh(p);
        }
        if (finalPhase == null && pastDeadline(p)) {
            // activeDeadlineSeconds: kubelet's active deadline handler fails the pod and kills it
            m.events.normal(p, null, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline");
            finalPhase = "Failed";
            statusReason = "DeadlineExceeded";
            statusMessage = "Pod was active on the node longer than the specified deadline";
            killPod(p, gracePeriod(p), null);
            refresh(p);
        }
        if (finalPhase == null) {
            if (ensureSandbox(p) && prepareVolumes(p)) {
                if (runInitContainers(p)) runContainers(p);
            }
            String phase = phase(p);
            if (phase.equals("Succeeded") || phase.equals("Failed")) {
                finalPhase = phase;
                killPod(p, gracePeriod(p), null);
                refresh(p);
            }
        }
        report(p);
        return false;
    }

    private boolean pastDeadline(JsonNode p) {
        JsonNode d = p.path("spec").get("activeDeadlineSeconds");
        if (d == null || !d.isNumber() || startTime == null) return false;
        Instant end = startTime.plusSeconds(d.asLong());
        if (m.config.clock().instant().isBefore(end)) {
            nextWake = earliest(nextWake, end);
            return false;
        }
        return true;
    }

    /** Finds the pod's sandbox and containers already in the runtime (a restarted agent adopts them). */
    private void discover(ObjectNode p) {
        List<PodSandbox> boxes = new ArrayList<>(m.runtime.listPodSandbox(ListPodSandboxRequest.newBuilder()
                .setFilter(PodSandboxFilter.newBuilder().putLabelSelector(Specs.POD_UID, uid)).build()).getItemsList());
        boxes.sort(Comparator.comparingInt((PodSandbox b) -> b.getMetadata().getAttempt()).thenComparingLong(PodSandbox::getCreatedAt));
        for (PodSandbox b : boxes) {
            sandboxAttempt = Math.max(sandboxAttempt, (int) b.getMetadata().getAttempt());
        }
        if (!boxes.isEmpty()) sandboxId = boxes.get(boxes.size() - 1).getId();
        for (PodSandbox b : boxes) {
            if (!b.getId().equals(sandboxId)) removeSandbox(b.getId());
        }
        List<Container> all = new ArrayList<>(m.runtime.listContainers(ListContainersRequest.newBuilder()
                .setFilter(ContainerFilter.newBuilder().putLabelSelector(Specs.POD_UID, uid)).build()).getContainersList());
        all.sort(Comparator.comparingInt(PodWorker::restartCountOf).thenComparingLong(Container::getCreatedAt));
        Map<String, Boolean> wasReady = new LinkedHashMap<>();
        for (JsonNode cs : p.path("status").path("containerStatuses")) wasReady.put(cs.path("name").asText(), cs.path("ready").asBoolean(false));
        for (Container c : all) {
            String name = c.getLabelsOrDefault(Specs.CONTAINER_NAME, c.getMetadata().getName());
            Ctr r = ctr(p, name);
            if (r == null) {
                removeContainer(c.getId());
                continue;
            }
            if (r.id != null) {
                // an older instance: it becomes lastState; anything before it is garbage
                if (r.lastTerminatedId != null) removeContainer(r.lastTerminatedId);
                ContainerStatus old = containerStatus(r.id);
                if (old != null) r.lastTerminated = terminatedState(old, p);
                r.lastTerminatedId = r.id;
            }
            r.id = c.getId();
            r.restartCount = restartCountOf(c);
            r.adoptedReady = wasReady.get(name);
        }
        for (Ctr r : containers.values()) {
            if (r.id == null) continue;
            // kubelet: a pod whose app containers were ever created has been initialized
            if (!r.init) initDone = true;
            r.status = containerStatus(r.id);
            if (r.running()) startProbes(p, r, true);
            else if (r.exited()) r.exitSeenAt = m.config.clock().instant();
        }
    }

    private static int restartCountOf(Container c) {
        try {
            return Integer.parseInt(c.getAnnotationsOrDefault(Specs.RESTART_COUNT, Long.toString(c.getMetadata().getAttempt())));
        } catch (NumberFormatException e) {
            return (int) c.getMetadata().getAttempt();
        }
    }

    /** The record of a container of the spec, or null when the spec has no container of that name. */
    private Ctr ctr(ObjectNode p, String name) {
        Ctr r = containers.get(name);
        if (r != null) return r;
        for (JsonNode c : p.path("spec").path("initContainers")) {
            if (c.path("name").asText().equals(name)) return containers.computeIfAbsent(name, n -> new Ctr(n, true));
        }
        for (JsonNode c : p.path("spec").path("containers")) {
            if (c.path("name").asText().equals(name)) return containers.computeIfAbsent(name, n -> new Ctr(n, false));
        }
        return null;
    }

    /** Reads the current state of the sandbox and of every container instance. */
    private void refresh(ObjectNode p) {
        if (sandboxId != null) {
            PodSandboxStatus s = sandboxStatus(sandboxId);
            if (s == null) {
                sandboxId = null;
                sandboxReady = false;
            } else {
                sandboxReady = s.getState() == PodSandboxState.SANDBOX_READY;
                if (!Specs.hostNetwork(p) && !s.getNetwork().getIp().isEmpty()) {
                    podIP = s.getNetwork().getIp();
                    List<String> ips = new ArrayList<>();
                    ips.add(podIP);
                    s.getNetwork().getAdditionalIpsList().forEach(ip -> ips.add(ip.getIp()));
                    podIPs = ips;
                }
            }
        }
        if (Specs.hostNetwork(p)) {
            podIP = m.config.hostIPs().isEmpty() ? "" : m.config.hostIPs().get(0);
            podIPs = m.config.hostIPs();
        }
        for (Ctr r : containers.values()) {
            if (r.id == null) continue;
            boolean wasRunning = r.running();
            ContainerStatus s = containerStatus(r.id);
            r.status = s;
            if (s == null) {
                r.id = null;
                r.stopProbes();
                continue;
            }
            if (r.exited() && r.terminated == null) {
                r.terminated = terminatedState(s, p);
                r.exitSeenAt = m.config.clock().instant();
                r.stopProbes();
            }
            if (wasRunning && !r.running()) r.stopProbes();
        }
    }

    private boolean ensureSandbox(ObjectNode p) {
        if (sandboxId != null && sandboxReady) {
            if (!hostsWritten) writeHosts(p);
            return true;
        }
        if (sandboxId != null && restartPolicy(p).equals("Never") && containers.values().stream().anyMatch(r -> r.id != null)) {
            // kubelet gives a pod that must not restart no new sandbox once its containers ran; it just ends
            killPod(p, 0, null);
            return false;
        }
        if (sandboxId != null) {
            // the sandbox died (its network or pause container is gone): kubelet kills the pod and starts over
            m.events.normal(p, null, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
            killPod(p, 0, null);
            removeSandbox(sandboxId);
            sandboxId = null;
        }
        sandboxAttempt++;
        PodSandboxConfig cfg = m.specs.sandbox(p, sandboxAttempt);
        try {
            Files.createDirectories(Path.of(cfg.getLogDirectory()));
            m.sandboxStarts.acquireUninterruptibly();
            try {
                sandboxId = m.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(cfg).build()).getPodSandboxId();
            } finally {
                m.sandboxStarts.release();
            }
        } catch (CriException | IOException e) {
            String msg = e instanceof CriException ce ? "rpc error: code = " + ce.codeName() + " desc = " + ce.statusMessage() : e.toString();
            m.events.warning(p, null, "FailedCreatePodSandBox", "Failed to create pod sandbox: " + msg);
            for (Ctr r : allCtrs(p)) if (r.id == null) r.waitingReason = null;
            nextWake = m.config.clock().instant().plusSeconds(1);
            return false;
        }
        refresh(p);
        hostsWritten = false;
        writeHosts(p);
        return sandboxReady;
    }

    private void writeHosts(ObjectNode p) {
        if (Specs.hostNetwork(p)) {
            hostsWritten = true;
            return;
        }
        try {
            m.specs.writeHosts(p, podIP);
            hostsWritten = true;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "writing /etc/hosts of " + name() + " failed: " + e);
        }
    }

    private boolean prepareVolumes(ObjectNode p) {
        try {
            m.volumes.prepare(p);
            return true;
        } catch (PodVolumes.Failure e) {
            m.events.warning(p, null, e.reason(), e.getMessage());
            nextWake = m.config.clock().instant().plusSeconds(2);
            return false;
        }
    }

    private List<Ctr> allCtrs(ObjectNode p) {
        List<Ctr> out = new ArrayList<>();
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode c : p.path("spec").path(list)) out.add(ctr(p, c.path("name").asText()));
        }
        return out;
    }

    private static String restartPolicy(JsonNode p) {
        return p.path("spec").path("restartPolicy").asText("Always");
    }

    /** Runs init containers in order; true once all have succeeded. */
    /** A restartable init container (a sidecar, KEP-753): it keeps running beside the app containers. */
    static boolean sidecar(JsonNode initContainer) {
        return initContainer.path("restartPolicy").asText("").equals("Always");
    }

    /**
     * Runs init containers in order; true once the pod is initialized (every regular one succeeded, every sidecar
     * started). After that, regular init containers never run again and sidecars are only kept running.
     */
    private boolean runInitContainers(ObjectNode p) {
        for (JsonNode c : p.path("spec").path("initContainers")) {
            Ctr r = ctr(p, c.path("name").asText());
            if (unknown(r)) return initDone;
            if (sidecar(c)) {
                if (r.running() && keepRunning(p, c, r)) {
                    if (r.started() || initDone) continue;
                    return false;
                }
                dropCreated(r);
                startContainer(p, c, r);
                if (initDone) continue;
                return false;
            }
            if (initDone) continue;
            if (r.exited() && r.status.getExitCode() == 0) continue;
            if (r.running()) return false;
            dropCreated(r);
            if (r.exited()) {
                // a failed init container: Never fails the pod, otherwise it is retried with back-off
                if (restartPolicy(p).equals("Never")) return false;
            }
            startContainer(p, c, r);
            return false;
        }
        initDone = true;
        return true;
    }

    /**
     * The runtime cannot tell the container's state (e.g. just after containerd restarted): nothing is decided about
     * it until it can, so a container that may still run is never doubled.
     */
    private boolean unknown(Ctr r) {
        if (r.status == null || r.status.getState() != ContainerState.CONTAINER_UNKNOWN) return false;
        nextWake = earliest(nextWake, m.config.clock().instant().plusSeconds(1));
        return true;
    }

    /** A container created but never started (an agent died between create and start) is started over. */
    private void dropCreated(Ctr r) {
        if (r.status != null && r.status.getState() == ContainerState.CONTAINER_CREATED) {
            removeContainer(r.id);
            r.id = null;
            r.status = null;
        }
    }

    /**
     * Kills a running container whose definition changed or whose liveness or startup probe failed; true when it is
     * still running afterwards.
     */
    private boolean keepRunning(ObjectNode p, JsonNode c, Ctr r) {
        String hash = r.status.getAnnotationsOrDefault(Specs.CONTAINER_HASH, "");
        ProbeRunner live = r.probe(ProbeRunner.Kind.LIVENESS);
        ProbeRunner startup = r.probe(ProbeRunner.Kind.STARTUP);
        String why = null;
        JsonNode probe = null;
        if (!hash.isEmpty() && !hash.equals(Specs.hash(c))) {
            why = "Container " + r.name + " definition changed, will be restarted";
        } else if (live != null && Boolean.FALSE.equals(live.result())) {
            why = "Container " + r.name + " failed liveness probe, will be restarted";
            probe = c.path("livenessProbe");
        } else if (startup != null && Boolean.FALSE.equals(startup.result())) {
            why = "Container " + r.name + " failed startup probe, will be restarted";
            probe = c.path("startupProbe");
        }
        if (why == null) return true;
        long grace = gracePeriod(p);
        if (probe != null && probe.path("terminationGracePeriodSeconds").isNumber()) grace = probe.path("terminationGracePeriodSeconds").asLong();
        killContainer(p, c, r, grace, why);
        refresh(p);
        return r.running();
    }

    private void runContainers(ObjectNode p) {
        String policy = restartPolicy(p);
        for (JsonNode c : p.path("spec").path("containers")) {
            Ctr r = ctr(p, c.path("name").asText());
            if (unknown(r)) continue;
            if (r.running() && keepRunning(p, c, r)) continue;
            dropCreated(r);
            if (r.exited()) {
                int code = r.status.getExitCode();
                boolean restart = policy.equals("Always") || policy.equals("OnFailure") && code != 0;
                if (!restart) continue;
            }
            startContainer(p, c, r);
        }
    }

    /** kubelet's back-off key: the pod and the container. */
    private String backoffKey(String container) {
        return uid + "/" + container;
    }

    /** Creates and starts a new instance of {@code c} unless back-off or an image or config problem says wait. */
    private void startContainer(ObjectNode p, JsonNode c, Ctr r) {
        String name = r.name;
        if (r.exited()) {
            String key = backoffKey(name);
            if (m.backoff.inBackoffSince(key, r.exitSeenAt)) {
                Duration d = m.backoff.get(key);
                r.waitingReason = "CrashLoopBackOff";
                r.waitingMessage = "back-off " + Backoff.goString(d) + " restarting failed container=" + name + " pod=" + podRef();
                m.events.warning(p, r.fieldPath(), "BackOff", "Back-off restarting failed container " + name + " in pod " + podRef());
                nextWake = earliest(nextWake, m.backoff.until(key, r.exitSeenAt));
                return;
            }
            m.backoff.next(key);
        }
        if (!ensureImage(p, c, r)) return;
        String nonRoot = verifyRunAsNonRoot(p, c);
        if (nonRoot != null) {
            r.waitingReason = "CreateContainerConfigError";
            r.waitingMessage = nonRoot;
            m.events.warning(p, r.fieldPath(), "Failed", "Error: " + nonRoot);
            nextWake = earliest(nextWake, m.config.clock().instant().plusSeconds(10));
            return;
        }
        // with no earlier instance in the runtime (a reboot, a re-created sandbox) kubelet counts on from the log
        // files (calcRestartCountByLogDir), so restartCount still grows and 0.log is not overwritten
        int restartCount = r.id == null && r.lastTerminatedId == null ? Math.max(r.restartCount, nextAttemptFromLogs(p, name))
                : r.restartCount + 1;
        List<PodVolumes.Env> env;
        List<PodVolumes.Mount> mounts;
        ContainerConfig cfg;
        try {
            env = m.volumes.env(p, c, podIP, m.config.hostIPs());
            mounts = m.volumes.mounts(p, c, env);
            Path hosts = Specs.hostNetwork(p) ? null : m.config.podDir(uid).resolve("etc-hosts");
            Path term = m.specs.terminationFile(uid, name, restartCount);
            cfg = m.specs.container(p, c, r.init, restartCount, env, mounts, hosts, term);
        } catch (PodVolumes.Failure e) {
            r.waitingReason = e.reason();
            r.waitingMessage = e.getMessage();
            m.events.warning(p, r.fieldPath(), "Failed", "Error: " + e.getMessage());
            nextWake = earliest(nextWake, m.config.clock().instant().plusSeconds(2));
            return;
        } catch (IOException e) {
            r.waitingReason = "CreateContainerConfigError";
            r.waitingMessage = e.toString();
            nextWake = earliest(nextWake, m.config.clock().instant().plusSeconds(2));
            return;
        }
        String id;
        // container creates and starts wait their turn (first come, first served): a burst of pods otherwise shares the
        // runtime so thinly that every pod starts late
        m.containerStarts.acquireUninterruptibly();
        try {
            try {
                Files.createDirectories(Path.of(m.specs.sandbox(p, sandboxAttempt).getLogDirectory()).resolve(name));
                id = m.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(sandboxId).setConfig(cfg)
                        .setSandboxConfig(m.specs.sandbox(p, sandboxAttempt)).build()).getContainerId();
            } catch (CriException | IOException e) {
                String msg = e instanceof CriException ce ? ce.statusMessage() : e.toString();
                r.waitingReason = "CreateContainerError";
                r.waitingMessage = msg;
                m.events.warning(p, r.fieldPath(), "Failed", "Error: " + msg);
                nextWake = earliest(nextWake, m.config.clock().instant().plusSeconds(2));
                return;
            }
            m.events.normal(p, r.fieldPath(), "Created", "Created container: " + name);
            // the instance being replaced becomes lastState; the one before it is removed (kubelet keeps one dead instance)
            if (r.id != null) {
                if (r.lastTerminatedId != null) removeContainer(r.lastTerminatedId);
                r.lastTerminated = r.terminated != null ? r.terminated : r.status != null ? terminatedState(r.status, p) : null;
                r.lastTerminatedId = r.id;
            }
            r.id = id;
            r.restartCount = restartCount;
            r.terminated = null;
            r.exitSeenAt = null;
            r.adoptedReady = null;
            r.waitingReason = null;
            r.waitingMessage = null;
            try {
                m.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
            } catch (CriException e) {
                r.status = containerStatus(id);
                r.waitingReason = "RunContainerError";
                r.waitingMessage = e.statusMessage();
                m.events.warning(p, r.fieldPath(), "Failed", "Error: " + e.statusMessage());
                if (r.status != null && r.status.getState() == ContainerState.CONTAINER_EXITED) {
                    r.terminated = terminatedState(r.status, p);
                    r.exitSeenAt = m.config.clock().instant();
                }
                return;
            }
        } finally {
            m.containerStarts.release();
        }
        m.events.normal(p, r.fieldPath(), "Started", "Started container " + name);
        r.status = containerStatus(id);
        JsonNode postStart = c.path("lifecycle").path("postStart");
        if (!postStart.isMissingNode() && !postStart.isNull() && r.running()) {
            Prober.Result res = m.prober.run(postStart, c, id, podIP, (int) Math.max(MIN_GRACE, gracePeriod(p)));
            if (!res.success()) {
                // kubelet leaves the hook's output out of the event: it may hold secrets
                m.events.warning(p, r.fieldPath(), "FailedPostStartHook", "PostStartHook failed");
                killContainer(p, c, r, gracePeriod(p), "FailedPostStartHook");
                r.status = containerStatus(id);
                return;
            }
        }
        startProbes(p, r, false);
    }

    private static Instant earliest(Instant a, Instant b) {
        return a == null || b.isBefore(a) ? b : a;
    }

    /**
     * runAsNonRoot (container's, else the pod's): the effective user must not be 0 — the runAsUser given, else the
     * image's numeric user (kubelet's verifyRunAsNonRoot); returns kubelet's error text or null.
     */
    private String verifyRunAsNonRoot(JsonNode p, JsonNode c) {
        JsonNode sc = c.path("securityContext");
        JsonNode psc = p.path("spec").path("securityContext");
        boolean nonRoot = sc.has("runAsNonRoot") ? sc.path("runAsNonRoot").asBoolean() : psc.path("runAsNonRoot").asBoolean(false);
        if (!nonRoot) return null;
        String where = " (pod: \"" + podRef() + "\", container: " + c.path("name").asText() + ")";
        JsonNode user = sc.has("runAsUser") ? sc.get("runAsUser") : psc.get("runAsUser");
        if (user != null && user.isNumber()) return user.asLong() == 0 ? "container's runAsUser breaks non-root policy" + where : null;
        io.k3j.agent.cri.v1.Image img;
        try {
            img = m.images.imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(c.path("image").asText())).build())
                    .getImage();
        } catch (CriException e) {
            return null;
        }
        if (img.hasUid()) return img.getUid().getValue() == 0 ? "container has runAsNonRoot and image will run as root" + where : null;
        String name = img.getUsername();
        if (name.isEmpty()) return "container has runAsNonRoot and image will run as root" + where;
        return "container has runAsNonRoot and image has non-numeric user (" + name + "), cannot verify user is non-root" + where;
    }

    /** Image present? (ImageStatus; PullImage only when missing, allowed by policy and by the agent.) */
    private boolean ensureImage(ObjectNode p, JsonNode c, Ctr r) {
        String image = c.path("image").asText();
        String policy = c.path("imagePullPolicy").asText(image.endsWith(":latest") || !image.contains(":") ? "Always" : "IfNotPresent");
        boolean present;
        try {
            present = m.images.imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(image)).build()).hasImage();
        } catch (CriException e) {
            present = false;
        }
        boolean pull = policy.equals("Always") && m.config.allowPull() || !present && !policy.equals("Never");
        if (!pull && present) {
            m.events.normal(p, r.fieldPath(), "Pulled", "Container image \"" + image + "\" already present on machine");
            return true;
        }
        if (!present && policy.equals("Never")) {
            String msg = "Container image \"" + image + "\" is not present with pull policy of Never";
            r.waitingReason = "ErrImageNeverPull";
            r.waitingMessage = msg;
            m.events.warning(p, r.fieldPath(), "ErrImageNeverPull", msg);
            m.events.warning(p, r.fieldPath(), "Failed", "Error: ErrImageNeverPull");
            nextWake = earliest(nextWake, m.config.clock().instant().plusSeconds(10));
            return false;
        }
        String key = "pull/" + backoffKey(r.name);
        if (m.backoff.inBackoffSince(key, m.config.clock().instant())) {
            r.waitingReason = "ImagePullBackOff";
            r.waitingMessage = "Back-off pulling image \"" + image + "\"";
            m.events.normal(p, r.fieldPath(), "BackOff", r.waitingMessage);
            nextWake = earliest(nextWake, m.config.clock().instant().plusSeconds(1));
            return false;
        }
        if (!m.config.allowPull()) {
            // no registry may be asked (tests, air-gapped sites): the image must have been imported
            m.backoff.next(key);
            String msg = "Failed to pull image \"" + image + "\": image is not present and pulling is disabled on this node";
            r.waitingReason = "ErrImagePull";
            r.waitingMessage = msg;
            m.events.warning(p, r.fieldPath(), "Failed", msg);
            m.events.warning(p, r.fieldPath(), "Failed", "Error: ErrImagePull");
            nextWake = earliest(nextWake, m.config.clock().instant().plusSeconds(1));
            return false;
        }
        m.events.normal(p, r.fieldPath(), "Pulling", "Pulling image \"" + image + "\"");
        long t0 = System.nanoTime();
        try {
            m.images.pullImage(PullImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(image))
                    .setSandboxConfig(m.specs.sandbox(p, sandboxAttempt)).build());
        } catch (CriException e) {
            m.backoff.next(key);
            r.waitingReason = "ErrImagePull";
            r.waitingMessage = "Failed to pull image \"" + image + "\": " + e.statusMessage();
            m.events.warning(p, r.fieldPath(), "Failed", r.waitingMessage);
            m.events.warning(p, r.fieldPath(), "Failed", "Error: ErrImagePull");
            nextWake = earliest(nextWake, m.config.clock().instant().plusSeconds(1));
            return false;
        }
        m.events.normal(p, r.fieldPath(), "Pulled", "Successfully pulled image \"" + image + "\" in "
                + Duration.ofNanos(System.nanoTime() - t0).toMillis() + "ms");
        return true;
    }

    private void startProbes(ObjectNode p, Ctr r, boolean adopted) {
        r.stopProbes();
        JsonNode c = spec(p, r.name);
        if (c == null || r.id == null) return;
        long started = System.nanoTime();
        if (adopted && r.status != null && r.status.getStartedAt() > 0) {
            long ago = System.currentTimeMillis() * 1_000_000L - r.status.getStartedAt();
            started -= Math.max(0, ago);
        }
        if (c.has("startupProbe")) {
            r.probes.add(new ProbeRunner(ProbeRunner.Kind.STARTUP, c.get("startupProbe"), c, r.id, m.prober, r, adopted ? Boolean.TRUE : null, started));
        }
        if (c.has("livenessProbe")) {
            r.probes.add(new ProbeRunner(ProbeRunner.Kind.LIVENESS, c.get("livenessProbe"), c, r.id, m.prober, r, Boolean.TRUE, started));
        }
        if (c.has("readinessProbe")) {
            Boolean initial = adopted && Boolean.TRUE.equals(r.adoptedReady) ? Boolean.TRUE : null;
            r.probes.add(new ProbeRunner(ProbeRunner.Kind.READINESS, c.get("readinessProbe"), c, r.id, m.prober, r, initial, started));
        }
    }

    private static JsonNode spec(JsonNode p, String name) {
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode c : p.path("spec").path(list)) if (c.path("name").asText().equals(name)) return c;
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // termination

    private long gracePeriod(JsonNode p) {
        JsonNode d = p.path("metadata").get("deletionGracePeriodSeconds");
        if (d != null && d.isNumber()) return d.asLong();
        // gone from the API without a graceful deletion (forced): nobody waits for it, kubelet's minimum applies
        if (removed) return 0;
        return p.path("spec").path("terminationGracePeriodSeconds").asLong(30);
    }

    /** Stops one running container: preStop hook within the grace period, then StopContainer (SIGTERM, SIGKILL). */
    private void killContainer(ObjectNode p, JsonNode c, Ctr r, long grace, String message) {
        if (r.id == null) return;
        r.stopProbes();
        if (message != null) m.events.normal(p, r.fieldPath(), "Killing", message);
        long start = System.nanoTime();
        JsonNode preStop = c == null ? null : c.path("lifecycle").get("preStop");
        if (preStop != null && r.running() && grace > 0) {
            Prober.Result res = runBounded(() -> m.prober.run(preStop, c, r.id, podIP, (int) grace), grace);
            if (res != null && !res.success()) m.events.warning(p, r.fieldPath(), "FailedPreStopHook", "PreStopHook failed");
        }
        long left = grace - TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        try {
            m.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(r.id).setTimeout(Math.max(MIN_GRACE, left)).build());
        } catch (CriException e) {
            if (!e.notFound()) throw e;
        }
    }

    private static Prober.Result runBounded(java.util.function.Supplier<Prober.Result> hook, long seconds) {
        java.util.concurrent.CompletableFuture<Prober.Result> f = new java.util.concurrent.CompletableFuture<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                f.complete(hook.get());
            } catch (RuntimeException e) {
                f.complete(Prober.Result.fail(e.toString()));
            }
        });
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            t.interrupt();
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return Prober.Result.fail(e.getCause().toString());
        }
    }

    /** Stops all running containers in parallel, each within the grace period, then the sandbox. */
    private void killPod(ObjectNode p, long grace, String message) {
        List<Thread> stops = new ArrayList<>();
        for (Ctr r : containers.values()) {
            r.stopProbes();
            if (!r.running() && !(r.status != null && r.status.getState() == ContainerState.CONTAINER_CREATED)) continue;
            JsonNode c = spec(p, r.name);
            stops.add(Thread.ofVirtual().start(() -> killContainer(p, c, r, grace, message != null ? message : "Stopping container " + r.name)));
        }
        for (Thread t : stops) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (sandboxId != null) {
            try {
                m.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(sandboxId).build());
            } catch (CriException e) {
                if (!e.notFound()) throw e;
            }
        }
    }

    /** Deletion or removal: stop everything within the grace period, report, finalize the API object, clean up. */
    private void terminate(ObjectNode p) {
        refresh(p);
        killPod(p, Math.max(0, gracePeriod(p)), null);
        refresh(p);
        if (finalPhase == null) {
            String ph = phase(p);
            finalPhase = ph.equals("Pending") || ph.equals("Running") ? terminalPhaseAfterKill() : ph;
        }
        String ns = p.path("metadata").path("namespace").asText();
        String name = p.path("metadata").path("name").asText();
        if (!removed) {
            report(p);
            m.status.flush(uid);
            ObjectNode opts = Json.object();
            opts.put("apiVersion", "v1").put("kind", "DeleteOptions").put("gracePeriodSeconds", 0);
            opts.putObject("preconditions").put("uid", uid);
            finalizeDeletion(ns, name, opts);
        }
        for (Ctr r : containers.values()) {
            if (r.id != null) removeContainer(r.id);
            if (r.lastTerminatedId != null) removeContainer(r.lastTerminatedId);
        }
        if (sandboxId != null) removeSandbox(sandboxId);
        for (PodSandbox b : m.runtime.listPodSandbox(ListPodSandboxRequest.newBuilder()
                .setFilter(PodSandboxFilter.newBuilder().putLabelSelector(Specs.POD_UID, uid)).build()).getItemsList()) {
            removeSandbox(b.getId());
        }
        try {
            m.volumes.cleanup(uid);
        } catch (RuntimeException e) {
            // a volume that will not unmount must not keep the pod's worker alive; its directory stays behind, logged
            LOG.log(System.Logger.Level.WARNING, "cleaning up the volumes of " + name() + " failed: " + e.getMessage());
        }
        m.backoff.forget(uid + "/");
        m.backoff.forget("pull/" + uid + "/");
        deleteTree(m.config.podDir(uid));
        m.cleanupCgroups(Resources.cgroupParent(m.config.cgroupRoot(), Resources.qosClass(p), uid));
        if (removed) m.status.forget(uid);
    }

    /**
     * DELETE with grace 0 and the uid as precondition, as kubelet finalizes a pod it has stopped. While the server
     * cannot be reached the worker keeps trying (its pod is stopped already; nothing else is waiting for it).
     */
    private void finalizeDeletion(String ns, String name, ObjectNode opts) {
        boolean logged = false;
        while (!stopped && !removed) {
            try {
                m.status.flush(uid);
                m.kube.delete("/api/v1/namespaces/" + ns + "/pods/" + name, opts);
                return;
            } catch (ApiException e) {
                if (e.code() == 404 || e.code() == 409) return;
                LOG.log(System.Logger.Level.WARNING, "deleting pod " + name() + " failed: " + e.getMessage());
            } catch (KubeClient.Unreachable e) {
                if (!logged) LOG.log(System.Logger.Level.INFO, "pod {0} stopped; its deletion is sent when the server answers", name());
                logged = true;
            }
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** A pod stopped by deletion: Succeeded if every container ended with 0, Failed otherwise (kubelet 1.27+). */
    private String terminalPhaseAfterKill() {
        boolean anyFailed = false;
        for (Ctr r : containers.values()) {
            if (r.init) continue;
            if (r.exited() && r.status.getExitCode() != 0 || r.status == null) anyFailed = true;
        }
        return anyFailed ? "Failed" : "Succeeded";
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // best effort: a leftover directory holds no resources
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // runtime helpers

    private ContainerStatus containerStatus(String id) {
        try {
            return m.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build()).getStatus();
        } catch (CriException e) {
            if (e.notFound()) return null;
            throw e;
        }
    }

    private PodSandboxStatus sandboxStatus(String id) {
        try {
            return m.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build()).getStatus();
        } catch (CriException e) {
            if (e.notFound()) return null;
            throw e;
        }
    }

    /** One past the highest {@code <n>.log} in the container's log folder; 0 when there is none. */
    private int nextAttemptFromLogs(JsonNode p, String container) {
        Path dir = m.config.logDir(p.path("metadata").path("namespace").asText(), p.path("metadata").path("name").asText(), uid)
                .resolve(container);
        int next = 0;
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (!n.endsWith(".log")) continue;
                try {
                    next = Math.max(next, Integer.parseInt(n.substring(0, n.length() - 4)) + 1);
                } catch (NumberFormatException e) {
                    // not a log of ours (rotated files are <n>.log.<timestamp>)
                }
            }
        } catch (IOException e) {
            // no folder: the container never ran here
        }
        return next;
    }

    private void removeContainer(String id) {
        try {
            m.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build());
        } catch (CriException e) {
            if (!e.notFound()) LOG.log(System.Logger.Level.WARNING, "removing container " + id + ": " + e.getMessage());
        }
    }

    private void removeSandbox(String id) {
        try {
            m.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
            m.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        } catch (CriException e) {
            if (!e.notFound()) LOG.log(System.Logger.Level.WARNING, "removing sandbox " + id + ": " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // status

    private static String time(long nanos) {
        return nanos <= 0 ? null : Instant.ofEpochSecond(nanos / 1_000_000_000L).toString();
    }

    /** state.terminated of an exited instance, with its termination message (file, or log tail on error if asked). */
    private ObjectNode terminatedState(ContainerStatus s, JsonNode p) {
        ObjectNode t = Json.object();
        t.put("exitCode", s.getExitCode());
        String reason = s.getReason();
        if (reason.isEmpty()) reason = s.getExitCode() == 0 ? "Completed" : "Error";
        t.put("reason", reason);
        // the runtime's message, then what the container left in its termination-message file (kubelet joins them)
        String message = s.getMessage();
        String own = terminationMessage(s, reason);
        if (!own.isEmpty()) message = message.isEmpty() ? own : message + ": " + own;
        if (!message.isEmpty()) t.put("message", message);
        String started = time(s.getStartedAt());
        t.put("startedAt", started);
        t.put("finishedAt", time(s.getFinishedAt()));
        t.put("containerID", "containerd://" + s.getId());
        return t;
    }

    private String terminationMessage(ContainerStatus s, String reason) {
        String file = s.getAnnotationsOrDefault(Specs.TERMINATION_HOST_FILE, "");
        String msg = "";
        if (!file.isEmpty()) {
            try {
                byte[] b = Files.readAllBytes(Path.of(file));
                msg = new String(b, 0, Math.min(b.length, MAX_TERMINATION_MESSAGE), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IOException e) {
                msg = "";
            }
        }
        if (msg.isEmpty() && s.getExitCode() != 0 && !reason.equals("ContainerCannotRun")
                && s.getAnnotationsOrDefault(Specs.TERMINATION_POLICY, "File").equals("FallbackToLogsOnError")) {
            msg = Logs.tail(Path.of(s.getLogPath()), 80, 2048);
        }
        return msg;
    }

    private ObjectNode containerStatusJson(JsonNode p, JsonNode c, Ctr r, String defaultWaiting) {
        ObjectNode o = Json.object();
        o.put("name", r.name);
        ObjectNode state = o.putObject("state");
        ObjectNode last = Json.object();
        if (r.lastTerminated != null) last.set("terminated", r.lastTerminated.deepCopy());
        boolean ready = false;
        boolean started = false;
        if (r.waitingReason != null) {
            ObjectNode w = state.putObject("waiting").put("reason", r.waitingReason);
            if (r.waitingMessage != null && !r.waitingMessage.isEmpty()) w.put("message", r.waitingMessage);
            if (r.terminated != null) {
                last.removeAll();
                last.set("terminated", r.terminated.deepCopy());
            }
        } else if (r.status == null) {
            state.putObject("waiting").put("reason", defaultWaiting);
        } else if (r.running()) {
            state.putObject("running").put("startedAt", time(r.status.getStartedAt()));
            started = r.started();
            ready = r.ready();
        } else if (r.exited()) {
            state.set("terminated", r.terminated != null ? r.terminated.deepCopy() : terminatedState(r.status, p));
            if (r.init && r.status.getExitCode() == 0) ready = true;
        } else {
            // created but not running: kubelet reports an empty waiting state
            state.putObject("waiting");
        }
        o.set("lastState", last);
        o.put("ready", ready);
        o.put("restartCount", r.restartCount);
        o.put("image", r.status != null && !r.status.getImage().getImage().isEmpty() ? r.status.getImage().getImage() : c.path("image").asText());
        o.put("imageID", r.status != null ? r.status.getImageRef() : "");
        if (r.id != null) o.put("containerID", "containerd://" + r.id);
        o.put("started", started);
        // RecursiveReadOnlyMounts (on by default since 1.31) makes kubelet list the mounts; this runtime does not do
        // recursive read-only mounts, so read-only ones say Disabled
        if (c.path("volumeMounts").size() > 0) {
            ArrayNode vms = o.putArray("volumeMounts");
            for (JsonNode vm : c.path("volumeMounts")) {
                ObjectNode v = vms.addObject().put("name", vm.path("name").asText()).put("mountPath", vm.path("mountPath").asText());
                if (vm.path("readOnly").asBoolean(false)) v.put("readOnly", true).put("recursiveReadOnly", "Disabled");
            }
        }
        return o;
    }

    /** The phase from the containers' states (kubelet's getPhase). */
    private String phase(JsonNode p) {
        if (finalPhase != null) return finalPhase;
        String policy = restartPolicy(p);
        boolean initPending = false;
        for (JsonNode c : p.path("spec").path("initContainers")) {
            Ctr r = containers.get(c.path("name").asText());
            if (initDone) break;
            if (sidecar(c)) {
                if (r != null && r.started()) continue;
                initPending = true;
                break;
            }
            if (r != null && r.exited() && r.status.getExitCode() == 0) continue;
            if (r != null && r.exited() && policy.equals("Never")) return "Failed";
            initPending = true;
            break;
        }
        if (initPending) return "Pending";
        int running = 0;
        int waiting = 0;
        int stopped = 0;
        int succeeded = 0;
        for (JsonNode c : p.path("spec").path("containers")) {
            Ctr r = containers.get(c.path("name").asText());
            if (r == null || r.status == null) {
                if (r != null && r.lastTerminated != null) stopped++;
                else waiting++;
            } else if (r.running()) {
                running++;
            } else if (r.exited()) {
                stopped++;
                if (r.status.getExitCode() == 0) succeeded++;
            } else {
                waiting++;
            }
        }
        if (waiting > 0) return "Pending";
        if (running > 0) return "Running";
        if (stopped > 0) {
            if (policy.equals("Always")) return "Running";
            if (stopped == succeeded) return "Succeeded";
            if (policy.equals("Never")) return "Failed";
            return "Running";
        }
        return "Pending";
    }

    private ObjectNode condition(String type, boolean status, String reason, String message) {
        ObjectNode prev = conditions.get(type);
        String st = status ? "True" : "False";
        String ltt = prev != null && prev.path("status").asText().equals(st) && prev.hasNonNull("lastTransitionTime")
                ? prev.path("lastTransitionTime").asText()
                : m.config.clock().instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        ObjectNode c = Json.object();
        c.put("type", type).put("status", st).putNull("lastProbeTime").put("lastTransitionTime", ltt);
        if (reason != null) c.put("reason", reason);
        if (message != null) c.put("message", message);
        conditions.put(type, c);
        return c;
    }

    private void report(ObjectNode p) {
        String phase = phase(p);
        boolean terminal = phase.equals("Succeeded") || phase.equals("Failed");
        boolean hasInit = p.path("spec").path("initContainers").size() > 0;
        String defaultWaiting = hasInit ? "PodInitializing" : "ContainerCreating";
        ObjectNode st = Json.object();
        st.put("phase", phase);
        if (statusReason != null) st.put("reason", statusReason).put("message", statusMessage);
        ArrayNode conds = st.putArray("conditions");
        boolean network = sandboxReady && (Specs.hostNetwork(p) || !podIP.isEmpty());
        conds.add(condition("PodReadyToStartContainers", network && !terminal, null, null));
        List<String> incompleteInit = new ArrayList<>();
        List<String> sidecarsUnready = new ArrayList<>();
        ArrayNode initStatuses = Json.array();
        for (JsonNode c : p.path("spec").path("initContainers")) {
            Ctr r = ctr((ObjectNode) p, c.path("name").asText());
            boolean done = initDone || (sidecar(c) ? r.started() : r.exited() && r.status.getExitCode() == 0);
            if (!done) incompleteInit.add(r.name);
            ObjectNode cs = containerStatusJson(p, c, r, defaultWaiting);
            if (sidecar(c) && !cs.path("ready").asBoolean()) sidecarsUnready.add(r.name);
            initStatuses.add(cs);
        }
        boolean initialized = incompleteInit.isEmpty() || phase.equals("Succeeded");
        conds.add(condition("Initialized", initialized, initialized ? (phase.equals("Succeeded") && hasInit ? "PodCompleted" : null)
                : "ContainersNotInitialized", initialized ? null : "containers with incomplete status: [" + String.join(" ", incompleteInit) + "]"));
        // sidecars count for readiness (KEP-753) and come first in the message, as in the pod's spec
        List<String> unready = new ArrayList<>(sidecarsUnready);
        ArrayNode statuses = Json.array();
        for (JsonNode c : p.path("spec").path("containers")) {
            Ctr r = ctr((ObjectNode) p, c.path("name").asText());
            ObjectNode cs = containerStatusJson(p, c, r, hasInit && !initialized ? "PodInitializing" : "ContainerCreating");
            if (!cs.path("ready").asBoolean()) unready.add(r.name);
            statuses.add(cs);
        }
        boolean containersReady = unready.isEmpty() && initialized && !terminal;
        boolean gatesReady = true;
        List<String> gates = new ArrayList<>();
        for (JsonNode g : p.path("spec").path("readinessGates")) {
            String type = g.path("conditionType").asText();
            JsonNode have = null;
            for (JsonNode c : p.path("status").path("conditions")) if (c.path("type").asText().equals(type)) have = c;
            if (have == null || !have.path("status").asText().equals("True")) {
                gatesReady = false;
                gates.add(type);
            }
        }
        String notReadyReason = terminal ? "PodCompleted" : !initialized ? "ContainersNotInitialized" : "ContainersNotReady";
        String notReadyMessage = terminal ? null : !initialized
                ? "containers with incomplete status: [" + String.join(" ", incompleteInit) + "]"
                : "containers with unready status: [" + String.join(" ", unready) + "]";
        boolean ready = containersReady && gatesReady;
        String readyMessage = notReadyMessage;
        String readyReason = notReadyReason;
        if (containersReady && !gatesReady) {
            readyReason = "ReadinessGatesNotReady";
            readyMessage = "corresponding condition of pod readiness gate \"" + gates.get(0) + "\" does not exist.";
        }
        conds.add(condition("Ready", ready, ready ? null : readyReason, ready ? null : readyMessage));
        conds.add(condition("ContainersReady", containersReady, containersReady ? null : notReadyReason, containersReady ? null : notReadyMessage));
        // kubelet keeps the scheduler's PodScheduled and adds it for pods created with spec.nodeName
        JsonNode scheduled = null;
        for (JsonNode c : p.path("status").path("conditions")) if (c.path("type").asText().equals("PodScheduled")) scheduled = c;
        if (scheduled != null) {
            // without its null fields: the patch's nulls delete them on the server, and the echo would differ from
            // this status once more (a second, needless patch per pod)
            ObjectNode copy = scheduled.deepCopy();
            copy.properties().removeIf(f -> f.getValue().isNull());
            conds.add(copy);
        } else {
            conds.add(condition("PodScheduled", true, null, null));
        }
        if (!m.config.hostIPs().isEmpty()) {
            st.put("hostIP", m.config.hostIPs().get(0));
            ArrayNode hips = st.putArray("hostIPs");
            for (String ip : m.config.hostIPs()) hips.addObject().put("ip", ip);
        }
        if (!podIP.isEmpty()) {
            st.put("podIP", podIP);
            ArrayNode pips = st.putArray("podIPs");
            for (String ip : podIPs) pips.addObject().put("ip", ip);
        }
        if (startTime != null) st.put("startTime", startTime.toString());
        if (hasInit) st.set("initContainerStatuses", initStatuses);
        st.set("containerStatuses", statuses);
        st.put("qosClass", Resources.qosClass(p));
        JsonNode meta = p.path("metadata");
        m.status.set(meta.path("namespace").asText(), meta.path("name").asText(), uid, st, null);
        m.published(uid, st);
    }
}
