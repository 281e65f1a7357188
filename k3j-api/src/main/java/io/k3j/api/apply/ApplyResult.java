package io.k3j.api.apply;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The outcome of a server-side apply.
 *
 * @param object  the object to persist, with {@code metadata.managedFields} updated
 * @param changed whether anything but {@code managedFields} differs from the live object; kube-apiserver keeps the
 *                applier's timestamp when nothing changed
 */
public record ApplyResult(ObjectNode object, boolean changed) {}
