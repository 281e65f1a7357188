package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.InformerFactory;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for the scheduler in these tests: binds every pending pod to the node its required affinity
 * {@code metadata.name In [node]} names (how DaemonSet pods say where they belong), or round-robin to an
 * existing node when it names none. Pods for nodes that do not exist stay pending, as with the real scheduler.
 */
final class PinnedPodBinder implements AutoCloseable {
    private final ApiClient api;
    private final InformerFactory informers;
    private final SharedInformer pods;
    private final SharedInformer nodes;
    private final AtomicInteger next = new AtomicInteger();
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();

    PinnedPodBinder(ApiClient api) throws InterruptedException {
        this.api = api.as("test-binder");
        this.informers = new InformerFactory(api.objects().cache(), Duration.ZERO);
        this.pods = informers.informer(api.type("", "v1", "pods"));
        this.nodes = informers.informer(api.type("", "v1", "nodes"));
        pods.addHandler(SharedInformer.Handler.onAddOrUpdate(this::consider));
        nodes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                pods.list().forEach(PinnedPodBinder.this::consider);
            }
        });
        informers.start();
        informers.waitForSync(Duration.ofSeconds(10));
    }

    private void consider(ObjectNode pod) {
        if (!Json.text(pod.get("spec"), "nodeName").isEmpty() || Meta.deleting(pod)) return;
        String node = pinned(pod);
        if (node.isEmpty()) {
            List<String> names = new ArrayList<>(nodes.list().stream().map(Meta::name).toList());
            if (names.isEmpty()) return;
            names.sort(Comparator.naturalOrder());
            node = names.get(Math.floorMod(next.getAndIncrement(), names.size()));
        } else if (nodes.get("", node) == null) {
            return;
        }
        String target = node;
        workers.submit(() -> {
            try {
                api.bind(Meta.namespace(pod), Meta.name(pod), Meta.uid(pod), target);
            } catch (ApiException e) {
                // already bound, deleted or replaced meanwhile
                if (e.code() != 409 && e.code() != 404) System.err.println("test binder: binding " + Meta.name(pod) + ": " + e.getMessage());
            }
        });
    }

    private static String pinned(JsonNode pod) {
        for (JsonNode term : pod.path("spec").path("affinity").path("nodeAffinity").path("requiredDuringSchedulingIgnoredDuringExecution")
                .path("nodeSelectorTerms")) {
            for (JsonNode f : term.path("matchFields")) {
                if (f.path("key").asText().equals("metadata.name") && f.path("operator").asText().equals("In")) {
                    return f.path("values").path(0).asText("");
                }
            }
        }
        return "";
    }

    @Override
    public void close() {
        informers.close();
        workers.shutdownNow();
    }
}
