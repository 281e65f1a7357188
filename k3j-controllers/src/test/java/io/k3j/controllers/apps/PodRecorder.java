package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.InformerFactory;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Follows every pod event of one workload (pods matching {@code filter}) in watch order and records, after each,
 * how many of its pods exist (not being deleted, not finished) and how many of those are ready.
 */
final class PodRecorder implements AutoCloseable {
    record Moment(String event, String pod, int active, int ready, List<String> images) {}

    private final InformerFactory informers;
    private final SharedInformer pods;
    private final Predicate<ObjectNode> filter;
    private final List<Moment> moments = new ArrayList<>();

    PodRecorder(ApiClient api, Predicate<ObjectNode> filter) {
        this.filter = filter;
        informers = new InformerFactory(api.objects().cache(), Duration.ZERO);
        pods = informers.informer(api.type("", "v1", "pods"));
        pods.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                record("ADDED", obj);
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                record("MODIFIED", newObj);
            }

            @Override
            public void onDelete(ObjectNode obj) {
                record("DELETED", obj);
            }
        });
        informers.start();
        try {
            informers.waitForSync(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void record(String event, ObjectNode pod) {
        // the first listing arrives one object at a time: counts are only meaningful from then on
        if (!filter.test(pod) || !pods.hasSynced()) return;
        int active = 0;
        int ready = 0;
        List<String> images = new ArrayList<>();
        for (ObjectNode p : pods.list()) {
            if (!filter.test(p) || !Pods.active(p)) continue;
            active++;
            if (Pods.ready(p)) ready++;
            images.add(p.path("spec").path("containers").path(0).path("image").asText());
        }
        moments.add(new Moment(event, Meta.name(pod), active, ready, images));
    }

    synchronized List<Moment> moments() {
        return List.copyOf(moments);
    }

    @Override
    public void close() {
        informers.close();
    }
}
