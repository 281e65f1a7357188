package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.InformerFactory;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** A stand-in scheduler for workload tests: binds every unscheduled pod to the given nodes in turn. */
final class TestBinder implements AutoCloseable {
    private final InformerFactory informers;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicInteger next = new AtomicInteger();

    TestBinder(ApiClient api, List<String> nodes) {
        ApiClient binder = api.as("test-binder");
        informers = new InformerFactory(api.objects().cache(), Duration.ZERO);
        SharedInformer pods = informers.informer(api.type("", "v1", "pods"));
        pods.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode pod) {
                if (!Json.text(pod.get("spec"), "nodeName").isEmpty() || Meta.deleting(pod)) return;
                String node = nodes.get(Math.floorMod(next.getAndIncrement(), nodes.size()));
                workers.submit(() -> {
                    try {
                        binder.bind(Meta.namespace(pod), Meta.name(pod), Meta.uid(pod), node);
                    } catch (RuntimeException e) {
                        System.err.println("test binder: " + e.getMessage()); // deleted or bound meanwhile
                    }
                });
            }
        });
        informers.start();
    }

    @Override
    public void close() {
        informers.close();
        workers.shutdownNow();
    }
}
