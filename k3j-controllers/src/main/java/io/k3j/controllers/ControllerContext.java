package io.k3j.controllers;

import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.InformerFactory;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** What every controller is built from: the API, the shared informers, the clock, the configuration. */
public final class ControllerContext {
    private final ApiClient api;
    private final InformerFactory informers;
    private final ControllerConfig config;
    private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();

    ControllerContext(ApiClient api, InformerFactory informers, ControllerConfig config) {
        this.api = api;
        this.informers = informers;
        this.config = config;
    }

    /** The API, writing as {@code fieldManager}. */
    public ApiClient api(String fieldManager) {
        return api.as(fieldManager);
    }

    /** The shared informer of a resource, by group, version and plural. */
    public SharedInformer informer(String group, String version, String plural) {
        return informers.informer(api.type(group, version, plural));
    }

    public ControllerConfig config() {
        return config;
    }

    public Clock clock() {
        return config.clock();
    }

    /** An event recorder that reports as {@code component} (closed with the controllers). */
    public EventRecorder events(String component) {
        EventRecorder r = new EventRecorder(api.as(component), component, config.identity());
        closeables.add(r);
        return r;
    }

    void closeAll() {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                // closing is best effort
            }
        }
        closeables.clear();
    }
}
