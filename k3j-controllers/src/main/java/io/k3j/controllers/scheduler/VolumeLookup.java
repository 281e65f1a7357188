package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The storage objects the volume filter reads, as listers would serve them. Implementations must be fast
 * (an informer cache), as the filter runs once per pod and claim.
 */
public interface VolumeLookup {

    /** The PersistentVolumeClaim {@code namespace/name}, or null when it does not exist. */
    ObjectNode claim(String namespace, String name);

    /** The PersistentVolume {@code name}, or null when it does not exist. */
    ObjectNode volume(String name);

    /**
     * The {@code volumeBindingMode} of StorageClass {@code name} ("Immediate" or "WaitForFirstConsumer"),
     * or null when the class does not exist.
     */
    String bindingMode(String storageClassName);

    /** A lookup that knows no storage objects (every claim is missing). */
    VolumeLookup NONE = new VolumeLookup() {
        @Override
        public ObjectNode claim(String namespace, String name) {
            return null;
        }

        @Override
        public ObjectNode volume(String name) {
            return null;
        }

        @Override
        public String bindingMode(String storageClassName) {
            return null;
        }
    };
}
