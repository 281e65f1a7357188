package io.k3j.controllers;

/**
 * A controller run by the {@link ControllerManager}: built (registering its informer handlers) before the
 * informers start, started once they have synced, closed when leadership ends or the server stops.
 */
public interface ManagedController extends AutoCloseable {
    /** Starts the workers; the informers have delivered their first listing. */
    void start();

    @Override
    void close();

    /** Builds a controller from the shared context. */
    @FunctionalInterface
    interface Factory {
        ManagedController create(ControllerContext ctx);
    }
}
