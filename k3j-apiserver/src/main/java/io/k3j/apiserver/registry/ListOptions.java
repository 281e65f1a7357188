package io.k3j.apiserver.registry;

import io.k3j.api.select.FieldSelector;
import io.k3j.api.select.LabelSelector;

/**
 * Options of a list or watch, as in metav1.ListOptions.
 *
 * @param resourceVersion      "" (most recent, consistent), "0" (any), or a revision
 * @param resourceVersionMatch "", "NotOlderThan" or "Exact"
 * @param limit                page size, 0 for all
 */
public record ListOptions(LabelSelector labels, FieldSelector fields, String resourceVersion, String resourceVersionMatch,
                          long limit, String continueToken) {
    public static final ListOptions ALL = new ListOptions(LabelSelector.EVERYTHING, FieldSelector.EVERYTHING, "", "", 0, "");
}
