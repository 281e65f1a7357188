package io.k3j.controllers;

import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.InformerFactory;
import io.k3j.controllers.runtime.LeaderElector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A set of controllers that runs on exactly one server at a time: it campaigns for a Lease in kube-system
 * (named as kube's components name theirs: {@code kube-controller-manager}, {@code kube-scheduler}) and runs
 * its controllers while it holds it. Losing the Lease stops them; winning it again starts fresh ones on fresh
 * informers, as a restarted kube-controller-manager would.
 */
public final class ControllerManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ControllerManager.class.getName());

    private final String leaseName;
    private final ApiClient api;
    private final ControllerConfig config;
    private final List<ManagedController.Factory> factories;
    private final LeaderElector elector;
    private InformerFactory informers;
    private ControllerContext context;
    private final List<ManagedController> running = new ArrayList<>();

    public ControllerManager(String leaseName, ApiClient api, ControllerConfig config, List<ManagedController.Factory> factories) {
        this.leaseName = leaseName;
        this.api = api;
        this.config = config;
        this.factories = List.copyOf(factories);
        this.elector = LeaderElector.withDefaults(api.as(leaseName), leaseName, config.identity(), new LeaderElector.Callbacks() {
            @Override
            public void startedLeading() {
                startControllers();
            }

            @Override
            public void stoppedLeading() {
                stopControllers();
            }
        });
    }

    public ControllerManager start() {
        elector.start();
        return this;
    }

    public boolean isLeader() {
        return elector.isLeader();
    }

    /** The running controllers (empty when not leading). */
    public synchronized List<ManagedController> controllers() {
        return List.copyOf(running);
    }

    private synchronized void startControllers() {
        long t0 = System.nanoTime();
        informers = new InformerFactory(api.objects().cache(), config.resync());
        context = new ControllerContext(api, informers, config);
        try {
            for (ManagedController.Factory f : factories) running.add(f.create(context));
            informers.start();
            informers.waitForSync(Duration.ofSeconds(60));
            for (ManagedController c : running) c.start();
            LOG.log(System.Logger.Level.INFO, "{0}: {1} controllers started ({2} ms)", leaseName, running.size(),
                    (System.nanoTime() - t0) / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopControllers();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, leaseName + ": starting controllers failed", e);
            stopControllers();
            throw e;
        }
    }

    private synchronized void stopControllers() {
        for (ManagedController c : running) {
            try {
                c.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "stopping a controller: {0}", e.getMessage());
            }
        }
        running.clear();
        if (context != null) context.closeAll();
        if (informers != null) informers.close();
        informers = null;
        context = null;
    }

    @Override
    public void close() {
        elector.close();
        stopControllers();
    }
}
