package io.k3j.apiserver.registry;

/**
 * Options of a delete, as in metav1.DeleteOptions.
 *
 * @param gracePeriodSeconds null for the object's default
 * @param propagationPolicy  null, "Orphan", "Background" or "Foreground"
 */
public record DeleteOptions(Long gracePeriodSeconds, String propagationPolicy, String preconditionUid,
                            String preconditionResourceVersion, boolean dryRun) {
    public static final DeleteOptions DEFAULT = new DeleteOptions(null, null, null, null, false);
}
