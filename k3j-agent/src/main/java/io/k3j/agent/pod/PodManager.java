package io.k3j.agent.pod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.cri.CriException;
import io.k3j.agent.cri.ImageService;
import io.k3j.agent.cri.RuntimeService;
import io.k3j.agent.cri.v1.Container;
import io.k3j.agent.cri.v1.ContainerFilter;
import io.k3j.agent.cri.v1.ListContainersRequest;
import io.k3j.agent.cri.v1.ListPodSandboxRequest;
import io.k3j.agent.cri.v1.PodSandbox;
import io.k3j.agent.cri.v1.RemoveContainerRequest;
import io.k3j.agent.cri.v1.RemovePodSandboxRequest;
import io.k3j.agent.cri.v1.StopContainerRequest;
import io.k3j.agent.cri.v1.StopPodSandboxRequest;
import io.k3j.agent.kube.KubeClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * Runs the pods bound to this node (kubelet's pod workers and PLEG). The pod source — an informer on pods with
 * {@code fieldSelector=spec.nodeName=<node>}, or the agent's offline cache — calls {@link #apply} for every pod it
 * sees and {@link #remove} when one disappears, then {@link #sourceSynced()} once its first list is in. Each pod gets
 * a worker on its own virtual thread; a relist of the runtime every {@link PodConfig#plegPeriod()} wakes the workers
 * whose containers changed state.
 *
 * <p>On {@link #start()} nothing is stopped: containers already in the runtime are adopted by the workers of their
 * pods (matched by the io.kubernetes.pod.uid label). Sandboxes of pods the source does not know are removed only after
 * {@link #sourceSynced()} — while the server cannot be reached the cached pods are the desired state.
 *
 * <p>Eviction under node pressure is not done here yet: an evictor would call {@link #evict(String, String, String)}.
 */
public final class PodManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PodManager.class.getName());

    final PodConfig config;
    final RuntimeService runtime;
    final ImageService images;
    final KubeClient kube;
    final PodVolumes volumes;
    final PodEvents events;
    final StatusManager status;
    final Specs specs;
    final Prober prober;
    final Backoff backoff;

    /**
     * Sandboxes being created, and containers being created and started, at once (each FIFO). Without a bound a burst
     * of pods shares the CPUs among all their runtime calls and every pod becomes Running at the very end; bounded,
     * they start in arrival order, one stage of a pod overlapping the other stage of the next.
     */
    final Semaphore sandboxStarts = new Semaphore(RUNTIME_STARTS, true);
    final Semaphore containerStarts = new Semaphore(RUNTIME_STARTS, true);
    static final int RUNTIME_STARTS = 2 * Math.max(2, Runtime.getRuntime().availableProcessors());

    private final Map<String, PodWorker> workers = new ConcurrentHashMap<>();
    /** Pods whose worker tore them down; ignored until the source says they are gone (kubelet's terminated pods). */
    private final Set<String> terminated = ConcurrentHashMap.newKeySet();
    private final Map<String, ObjectNode> published = new ConcurrentHashMap<>();
    private volatile boolean synced;
    private volatile boolean closed;
    private Thread pleg;

    /**
     * @param config  node facts and knobs
     * @param runtime CRI runtime service (containerd's socket)
     * @param images  CRI image service
     * @param kube    the API client: pods/status patches, events, the final DELETE of deleted pods
     * @param volumes the volume side ({@link PodVolumes#none()} without volumes)
     */
    public PodManager(PodConfig config, RuntimeService runtime, ImageService images, KubeClient kube, PodVolumes volumes) {
        this.config = Objects.requireNonNull(config, "config");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.images = Objects.requireNonNull(images, "images");
        this.kube = Objects.requireNonNull(kube, "kube");
        this.volumes = Objects.requireNonNull(volumes, "volumes");
        this.events = new PodEvents(kube, config.nodeName(), config.clock());
        this.status = new StatusManager(kube);
        this.specs = new Specs(config);
        this.prober = new Prober(runtime);
        this.backoff = new Backoff(config.clock());
    }

    /** Starts the runtime relist (PLEG). Pods are applied before or after. */
    public PodManager start() {
        pleg = Thread.ofVirtual().name("pleg").start(this::relistLoop);
        return this;
    }

    /**
     * A pod bound to this node was added or changed. Pods of other nodes are ignored; a pod this node already tore
     * down (deleted, waiting for the source's delete) is not started again.
     */
    public void apply(ObjectNode pod) {
        if (closed) return;
        if (!config.nodeName().equals(pod.path("spec").path("nodeName").asText())) return;
        String uid = pod.path("metadata").path("uid").asText();
        if (uid.isEmpty() || terminated.contains(uid)) return;
        PodWorker w = workers.get(uid);
        if (w != null) {
            // someone else changed the status (the node lifecycle controller marks pods NotReady while the node is
            // unreachable): resend ours, or the server keeps that view after the node is back
            status.observed(uid, pod.path("status"));
            w.update(pod.deepCopy());
            return;
        }
        String phase = pod.path("status").path("phase").asText("");
        if ((phase.equals("Succeeded") || phase.equals("Failed")) && !pod.path("metadata").has("deletionTimestamp") && !hasSandbox(uid)) {
            // a finished pod with nothing left in the runtime (e.g. after a reboot): nothing to run or report
            return;
        }
        PodWorker nw = new PodWorker(this, pod.deepCopy());
        if (workers.putIfAbsent(uid, nw) == null) nw.start();
        else workers.get(uid).update(pod.deepCopy());
    }

    /** The pod is gone from the API (or from the cache): its containers and sandbox are torn down. */
    public void remove(String uid) {
        terminated.remove(uid);
        published.remove(uid);
        status.forget(uid);
        PodWorker w = workers.get(uid);
        if (w != null) w.remove();
    }

    /**
     * A handler for an {@link io.k3j.agent.kube.Informer} on {@code /api/v1/pods} with
     * {@code fieldSelector=spec.nodeName=<node>}: adds and updates apply, deletes remove. Call {@link #sourceSynced()}
     * once the informer has synced.
     */
    public io.k3j.agent.kube.Informer.Handler informerHandler() {
        return new io.k3j.agent.kube.Informer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                apply(obj);
            }

            @Override
            public void onUpdate(ObjectNode old, ObjectNode obj) {
                if (!old.path("metadata").path("uid").asText().equals(obj.path("metadata").path("uid").asText())) {
                    remove(old.path("metadata").path("uid").asText());
                }
                apply(obj);
            }

            @Override
            public void onDelete(ObjectNode obj) {
                remove(obj);
            }
        };
    }

    /**
     * A handler for an {@link io.k3j.agent.kube.Informer} on configmaps or secrets ({@code /api/v1/configmaps},
     * {@code /api/v1/secrets}, all namespaces or one): when an object some pod of this node mounts (a configMap or
     * secret volume, or a projected source) is added, changed or deleted, that pod's volumes are refreshed at once
     * rather than at the next periodic refresh. The handler keeps nothing; the volume side fetches the new contents.
     *
     * @param resource {@code configmaps} or {@code secrets}
     */
    public io.k3j.agent.kube.Informer.Handler volumeSourceHandler(String resource) {
        boolean secrets = switch (resource) {
            case "configmaps" -> false;
            case "secrets" -> true;
            default -> throw new IllegalArgumentException("not a volume source: " + resource);
        };
        return new io.k3j.agent.kube.Informer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                changed(obj);
            }

            @Override
            public void onUpdate(ObjectNode old, ObjectNode obj) {
                changed(obj);
            }

            @Override
            public void onDelete(ObjectNode obj) {
                changed(obj);
            }

            private void changed(ObjectNode obj) {
                volumeSourceChanged(secrets, obj.path("metadata").path("namespace").asText(), obj.path("metadata").path("name").asText());
            }
        };
    }

    /** Wakes the workers of the pods that mount the configMap (or secret) namespace/name, their volumes marked stale. */
    void volumeSourceChanged(boolean secret, String namespace, String name) {
        if (closed) return;
        for (Map.Entry<String, PodWorker> e : workers.entrySet()) {
            ObjectNode pod = e.getValue().pod();
            if (!namespace.equals(pod.path("metadata").path("namespace").asText())) continue;
            if (!mounts(pod, secret, name)) continue;
            volumes.invalidate(e.getKey());
            e.getValue().signal();
        }
    }

    /** Whether a pod's volumes (configMap/secret, projected sources) refer to the object. */
    static boolean mounts(JsonNode pod, boolean secret, String name) {
        for (JsonNode v : pod.path("spec").path("volumes")) {
            if (secret ? v.path("secret").path("secretName").asText().equals(name) : v.path("configMap").path("name").asText().equals(name)) {
                return true;
            }
            for (JsonNode src : v.path("projected").path("sources")) {
                if (src.path(secret ? "secret" : "configMap").path("name").asText().equals(name)) return true;
            }
        }
        return false;
    }

    /**
     * As {@link #remove(String)} with the pod's last state: a pod force-deleted from the API (grace 0) is stopped with
     * kubelet's minimum grace period of 2 s rather than its spec's.
     */
    public void remove(ObjectNode pod) {
        String uid = pod.path("metadata").path("uid").asText();
        PodWorker w = workers.get(uid);
        if (w != null && pod.path("metadata").has("deletionTimestamp")) w.update(pod.deepCopy());
        remove(uid);
    }

    /** The source has delivered its first full list: runtime sandboxes of unknown pods may now be removed. */
    public void sourceSynced() {
        synced = true;
    }

    /** The last status this node computed for a pod (for the kubelet API), if it runs here. */
    public Optional<ObjectNode> status(String uid) {
        ObjectNode s = published.get(uid);
        return s == null ? Optional.empty() : Optional.of(s.deepCopy());
    }

    /** Uids of the pods with a worker. */
    public Set<String> pods() {
        return Set.copyOf(workers.keySet());
    }

    /**
     * Evicts a pod under node pressure, as kubelet's eviction manager does: its containers are killed without a grace
     * period, it is reported as phase Failed with {@code reason} (Evicted) and {@code message}, and it is not started
     * again. Its controller, if any, makes a replacement.
     */
    public void evict(String uid, String reason, String message) {
        PodWorker w = workers.get(uid);
        if (w != null) w.evict(reason, message);
    }

    /** The pods with a worker that haven't finished (nor are being evicted), for the eviction manager. */
    public List<ObjectNode> activePods() {
        List<ObjectNode> out = new ArrayList<>();
        // kubelet's active pods: terminal ones hold no resources to reclaim (and an evicted pod must not be picked again)
        for (PodWorker w : workers.values()) if (!w.terminal()) out.add(w.pod());
        return out;
    }

    void published(String uid, ObjectNode st) {
        published.put(uid, st);
    }

    /** Called by a worker that has torn its pod down. */
    void finished(PodWorker w) {
        terminated.add(w.uid);
        workers.remove(w.uid, w);
    }

    private boolean hasSandbox(String uid) {
        try {
            return runtime.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(io.k3j.agent.cri.v1.PodSandboxFilter.newBuilder()
                    .putLabelSelector(Specs.POD_UID, uid)).build()).getItemsCount() > 0;
        } catch (CriException e) {
            return true;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // PLEG

    private void relistLoop() {
        Map<String, String> last = new HashMap<>();
        int round = 0;
        while (!closed) {
            try {
                Thread.sleep(config.plegPeriod().toMillis());
            } catch (InterruptedException e) {
                return;
            }
            try {
                Map<String, StringBuilder> now = new HashMap<>();
                List<Container> cs = runtime.listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.getDefaultInstance()).build())
                        .getContainersList();
                for (Container c : cs) {
                    now.computeIfAbsent(c.getLabelsOrDefault(Specs.POD_UID, ""), u -> new StringBuilder())
                            .append(c.getId()).append(':').append(c.getStateValue()).append(';');
                }
                List<PodSandbox> boxes = runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
                for (PodSandbox b : boxes) {
                    now.computeIfAbsent(b.getLabelsOrDefault(Specs.POD_UID, ""), u -> new StringBuilder())
                            .append(b.getId()).append(':').append(b.getStateValue()).append(';');
                }
                Set<String> uids = new HashSet<>(now.keySet());
                uids.addAll(last.keySet());
                Map<String, String> next = new HashMap<>();
                for (String uid : uids) {
                    String fp = now.containsKey(uid) ? now.get(uid).toString() : "";
                    next.put(uid, fp);
                    if (!fp.equals(last.getOrDefault(uid, ""))) {
                        PodWorker w = workers.get(uid);
                        if (w != null) w.signal();
                    }
                }
                last = next;
                if (synced && ++round % 10 == 0) removeOrphans(cs, boxes);
            } catch (CriException e) {
                LOG.log(System.Logger.Level.DEBUG, "relist failed: {0}", e.getMessage());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "relist failed", e);
            }
        }
    }

    /** Sandboxes and containers of pods nobody wants (kubelet's housekeeping); only after the source synced. */
    private void removeOrphans(List<Container> cs, List<PodSandbox> boxes) {
        for (PodSandbox b : boxes) {
            String uid = b.getLabelsOrDefault(Specs.POD_UID, "");
            if (workers.containsKey(uid)) continue;
            LOG.log(System.Logger.Level.INFO, "removing sandbox {0} of unknown pod {1}", b.getId(), uid);
            for (Container c : cs) {
                if (!c.getPodSandboxId().equals(b.getId())) continue;
                try {
                    runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(c.getId()).setTimeout(2).build());
                    runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(c.getId()).build());
                } catch (CriException e) {
                    if (!e.notFound()) LOG.log(System.Logger.Level.WARNING, "removing container " + c.getId() + ": " + e.getMessage());
                }
            }
            try {
                runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(b.getId()).build());
                runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(b.getId()).build());
            } catch (CriException e) {
                if (!e.notFound()) LOG.log(System.Logger.Level.WARNING, "removing sandbox " + b.getId() + ": " + e.getMessage());
            }
        }
    }

    /** Removes a torn-down pod's cgroup directories (runc leaves the parents it created). */
    void cleanupCgroups(String parent) {
        Path root = Path.of("/sys/fs/cgroup");
        try (var controllers = Files.list(root)) {
            controllers.forEach(c -> {
                try {
                    Files.deleteIfExists(Path.of(c + parent));
                } catch (java.io.IOException e) {
                    // busy or not there: leftovers are empty directories
                }
            });
        } catch (java.io.IOException e) {
            // no cgroup fs visible
        }
    }

    /**
     * Stops the workers, the relist, status and event writers. Containers keep running: a new PodManager on this
     * runtime adopts them.
     */
    @Override
    public void close() {
        closed = true;
        if (pleg != null) pleg.interrupt();
        for (PodWorker w : workers.values()) w.stop();
        for (PodWorker w : workers.values()) {
            try {
                w.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        prober.close();
        status.close();
        events.close();
    }
}
