package io.k3j.controllers.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The TTL-after-finished controller (kube's pkg/controller/ttlafterfinished): a Job with
 * {@code spec.ttlSecondsAfterFinished} is deleted, in the foreground so its pods go first, that many seconds
 * after it completed or failed, measured on the injected clock.
 */
public final class TtlAfterFinishedController implements ManagedController {
    private final ApiClient api;
    private final ResourceType jobType;
    private final SharedInformer jobs;
    private final Clock clock;
    private final Controller controller;

    public TtlAfterFinishedController(ControllerContext ctx) {
        this.api = ctx.api("ttl-after-finished-controller");
        this.jobType = api.type("batch", "v1", "jobs");
        this.jobs = ctx.informer("batch", "v1", "jobs");
        this.clock = ctx.clock();
        this.controller = new Controller("ttl-after-finished-controller", clock, 5, this::sync);
        jobs.addHandler(SharedInformer.Handler.onAddOrUpdate(this::consider));
    }

    private void consider(ObjectNode job) {
        if (!Meta.deleting(job) && job.path("spec").hasNonNull("ttlSecondsAfterFinished") && JobStatuses.finished(job)) {
            controller.enqueue(Keys.of(job));
        }
    }

    @Override
    public void start() {
        controller.start();
    }

    @Override
    public void close() {
        controller.close();
    }

    private Duration sync(String key) {
        ObjectNode job = jobs.get(key);
        if (job == null) return null;
        Duration left = timeLeft(job);
        if (left == null) return null;
        if (left.isPositive()) return left;
        // the cached Job may be stale (TTL changed, Job recreated): decide again on the newest one
        ObjectNode fresh = api.find(jobType, Keys.namespace(key), Keys.name(key)).orElse(null);
        if (fresh == null) return null;
        left = timeLeft(fresh);
        if (left == null) return null;
        if (left.isPositive()) return left;
        try {
            api.delete(jobType, Meta.namespace(fresh), Meta.name(fresh),
                    new DeleteOptions(null, "Foreground", Meta.uid(fresh), Meta.resourceVersion(fresh), false));
        } catch (ApiException e) {
            if (e.code() != 404) throw e;
        }
        return null;
    }

    /** How long until the Job expires (zero or negative: expired), or null when it never does. */
    private Duration timeLeft(ObjectNode job) {
        JsonNode ttl = job.path("spec").get("ttlSecondsAfterFinished");
        if (ttl == null || !ttl.isNumber() || Meta.deleting(job)) return null;
        Instant finished = JobStatuses.finishedAt(job);
        if (finished == null) return null;
        return Duration.between(clock.instant(), finished.plusSeconds(ttl.asLong()));
    }
}
