package io.k3j.controllers.endpoints;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.select.LabelSelector;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.util.function.Consumer;

/** Turns a pod's changes into the keys of the Services that select it now or selected it before. */
final class PodToServices implements SharedInformer.Handler {
    private final SharedInformer services;
    private final Consumer<String> enqueue;

    PodToServices(SharedInformer services, Consumer<String> enqueue) {
        this.services = services;
        this.enqueue = enqueue;
    }

    @Override
    public void onAdd(ObjectNode pod) {
        enqueueFor(pod, null);
    }

    @Override
    public void onUpdate(ObjectNode oldPod, ObjectNode newPod) {
        if (oldPod == newPod) {
            enqueueFor(newPod, null);
            return;
        }
        enqueueFor(newPod, oldPod);
    }

    @Override
    public void onDelete(ObjectNode pod) {
        enqueueFor(pod, null);
    }

    private void enqueueFor(ObjectNode pod, ObjectNode old) {
        for (ObjectNode svc : services.list(Meta.namespace(pod))) {
            LabelSelector sel = ServicePods.selector(svc);
            if (sel == null) continue;
            if (sel.matches(ServicePods.labelsOf(pod)) || (old != null && sel.matches(ServicePods.labelsOf(old)))) enqueue.accept(Keys.of(svc));
        }
    }
}
