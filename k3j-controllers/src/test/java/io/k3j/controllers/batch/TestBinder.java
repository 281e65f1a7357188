package io.k3j.controllers.batch;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.ListOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.runtime.ApiClient;
import java.util.List;

/** Stands in for the scheduler in these tests: binds every pending pod to the given nodes in turn. */
final class TestBinder implements AutoCloseable {
    private final Thread thread;
    private volatile boolean closed;

    TestBinder(ApiClient api, List<String> nodes) {
        ApiClient binder = api.as("test-binder");
        ResourceType pods = api.type("", "v1", "pods");
        thread = Thread.ofVirtual().name("test-binder").start(() -> {
            int next = 0;
            while (!closed) {
                try {
                    for (ObjectNode p : api.objects().list(pods, null, ListOptions.ALL).items()) {
                        if (!Json.text(p.get("spec"), "nodeName").isEmpty() || Meta.deleting(p)) continue;
                        try {
                            binder.bind(Meta.namespace(p), Meta.name(p), Meta.uid(p), nodes.get(next++ % nodes.size()));
                        } catch (ApiException e) {
                            // deleted or bound meanwhile
                        }
                    }
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // the server is closing
                }
            }
        });
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
