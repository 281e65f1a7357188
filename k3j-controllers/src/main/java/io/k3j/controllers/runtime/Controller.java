package io.k3j.controllers.runtime;

import io.k3j.api.ApiException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link Reconciler} over a {@link WorkQueue} with a number of workers, as client-go controllers do:
 * a key that fails comes back with backoff, one that succeeds has its backoff forgotten.
 */
public final class Controller implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Controller.class.getName());

    private final String name;
    private final Clock clock;
    private final WorkQueue queue;
    private final Reconciler reconciler;
    private final int workers;
    private final List<Thread> threads = new ArrayList<>();

    public Controller(String name, Clock clock, int workers, Reconciler reconciler) {
        this.name = name;
        this.clock = clock;
        this.queue = new WorkQueue(clock);
        this.reconciler = reconciler;
        this.workers = workers;
    }

    public String name() {
        return name;
    }

    public WorkQueue queue() {
        return queue;
    }

    public void enqueue(String key) {
        queue.add(key);
    }

    public Controller start() {
        for (int i = 0; i < workers; i++) threads.add(Thread.ofVirtual().name(name + "-" + i).start(this::work));
        return this;
    }

    private void work() {
        while (true) {
            String key;
            try {
                key = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (key == null) return;
            try {
                long started = clock.millis();
                Duration again = reconciler.reconcile(key);
                queue.forget(key);
                // the delay was measured from the clock as the reconciler read it, not from now: a sync that took a
                // while (or a test's fake clock jumping meanwhile) must not push the next look past the time it asked for
                if (again != null) queue.addAfter(key, again.minusMillis(clock.millis() - started));
            } catch (InterruptedException e) {
                return;
            } catch (ApiException e) {
                // conflicts and vanished objects are the normal life of a controller: retry quietly
                if (e.code() != 409 && e.code() != 404) LOG.log(System.Logger.Level.INFO, "{0}: syncing {1}: {2}", name, key, e.getMessage());
                queue.addRateLimited(key);
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, name + ": syncing " + key + " failed", e);
                queue.addRateLimited(key);
            } finally {
                queue.done(key);
            }
        }
    }

    @Override
    public void close() {
        queue.shutDown();
        for (Thread t : threads) t.interrupt();
    }
}
