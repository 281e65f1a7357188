package io.k3j.controllers.runtime;

import java.time.Duration;

/** Brings the world in line with one object's desired state. */
@FunctionalInterface
public interface Reconciler {
    /**
     * Reconciles the object under {@code key}.
     *
     * @return when to look at the key again even if nothing changes (a deadline, a delay), or null
     * @throws Exception to have the key retried after its backoff
     */
    Duration reconcile(String key) throws Exception;
}
