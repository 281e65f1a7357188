package io.k3j.controllers.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.InformerFactory;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Plays the kubelets of fake nodes: a pod bound to one of them starts (Running, Ready, a pod IP), or runs to
 * completion, as {@link #behavior} says; a pod being deleted is stopped and removed for good, as the kubelet
 * confirms a graceful deletion. Only pods on nodes {@link #manage}d are touched.
 */
public final class FakeKubelet implements AutoCloseable {
    /** What a pod's containers do. */
    public enum Outcome { RUN, SUCCEED, FAIL, STAY_PENDING }

    private final ApiClient api;
    private final ResourceType pods;
    private final InformerFactory informers;
    private final Set<String> nodes = ConcurrentHashMap.newKeySet();
    private final Set<String> started = ConcurrentHashMap.newKeySet();
    private final AtomicInteger ips = new AtomicInteger(1);
    private volatile Function<ObjectNode, Outcome> behavior = p -> Outcome.RUN;
    private final java.util.concurrent.ExecutorService workers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

    public FakeKubelet(ApiClient api) {
        this.api = api.as("fake-kubelet");
        this.pods = api.type("", "v1", "pods");
        this.informers = new InformerFactory(api.objects().cache(), Duration.ZERO);
        SharedInformer inf = informers.informer(pods);
        inf.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                consider(obj);
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                consider(newObj);
            }

            @Override
            public void onDelete(ObjectNode obj) {
                started.remove(Meta.uid(obj));
            }
        });
        informers.start();
    }

    /** Starts acting as the kubelet of {@code node}. */
    public FakeKubelet manage(String... names) {
        nodes.addAll(Set.of(names));
        return this;
    }

    /** Decides what each newly bound pod does (default: runs forever). */
    public FakeKubelet behavior(Function<ObjectNode, Outcome> b) {
        this.behavior = b;
        return this;
    }

    private void consider(ObjectNode pod) {
        String node = Json.text(pod.get("spec"), "nodeName");
        if (node.isEmpty() || !nodes.contains(node)) return;
        String uid = Meta.uid(pod);
        if (Meta.deleting(pod)) {
            workers.submit(() -> finishDeletion(pod));
            return;
        }
        String phase = Json.text(pod.get("status"), "phase");
        if (!phase.isEmpty() && !phase.equals("Pending")) return;
        if (!started.add(uid)) return;
        Outcome outcome = behavior.apply(pod);
        if (outcome == Outcome.STAY_PENDING) return;
        workers.submit(() -> start(pod, outcome));
    }

    private void start(ObjectNode pod, Outcome outcome) {
        String now = Meta.timestamp(api.clock().instant());
        int n = ips.getAndIncrement();
        String ip = "10.42." + (n / 250) + "." + (n % 250 + 2);
        try {
            api.modify(pods, Meta.namespace(pod), Meta.name(pod), "status", p -> {
                if (!Meta.uid(p).equals(Meta.uid(pod))) throw ApiException.conflict("", "pods", Meta.name(pod), "replaced");
                ObjectNode s = Json.obj(p, "status");
                boolean running = outcome == Outcome.RUN;
                s.put("phase", switch (outcome) {
                    case RUN -> "Running";
                    case SUCCEED -> "Succeeded";
                    default -> "Failed";
                });
                s.put("hostIP", "127.0.0.1").put("podIP", ip).put("startTime", now);
                s.putArray("podIPs").addObject().put("ip", ip);
                s.putArray("hostIPs").addObject().put("ip", "127.0.0.1");
                ArrayNode conds = s.putArray("conditions");
                for (String t : new String[] {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
                    boolean ok = t.equals("Initialized") || t.equals("PodScheduled") || running;
                    ObjectNode c = conds.addObject().put("type", t).put("status", ok ? "True" : "False");
                    c.putNull("lastProbeTime");
                    c.put("lastTransitionTime", now);
                    if (!ok) c.put("reason", "PodCompleted");
                }
                ArrayNode cs = s.putArray("containerStatuses");
                for (JsonNode c : p.path("spec").path("containers")) {
                    ObjectNode st = cs.addObject();
                    st.put("name", c.path("name").asText()).put("ready", running).put("restartCount", 0).put("started", running)
                            .put("image", c.path("image").asText()).put("imageID", "").put("containerID", "fake://" + Meta.uid(p));
                    ObjectNode state = st.putObject("state");
                    if (running) state.putObject("running").put("startedAt", now);
                    else state.putObject("terminated").put("exitCode", outcome == Outcome.SUCCEED ? 0 : 1)
                            .put("reason", outcome == Outcome.SUCCEED ? "Completed" : "Error").put("startedAt", now).put("finishedAt", now);
                }
                return p;
            });
        } catch (ApiException e) {
            // deleted or replaced meanwhile
        }
    }

    private void finishDeletion(ObjectNode pod) {
        try {
            api.objects().delete(pods, Meta.namespace(pod), Meta.name(pod), new DeleteOptions(0L, null, Meta.uid(pod), null, false));
        } catch (ApiException e) {
            // already gone
        }
    }

    @Override
    public void close() {
        informers.close();
        workers.shutdownNow();
    }
}
