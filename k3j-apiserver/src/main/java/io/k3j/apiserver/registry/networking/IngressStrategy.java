package io.k3j.apiserver.registry.networking;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.apiserver.registry.core.BuiltinStrategy;
import io.k3j.apiserver.resource.ResourceType;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Ingresses, with kube-apiserver's DefaultIngressClass admission: an Ingress created without
 * {@code spec.ingressClassName} (and without the legacy {@code kubernetes.io/ingress.class} annotation) gets the
 * name of the IngressClass annotated {@code ingressclass.kubernetes.io/is-default-class: "true"}, so
 * {@code kubectl get ingress} shows its CLASS as against Kubernetes.
 */
public final class IngressStrategy extends BuiltinStrategy {
    /** The legacy annotation that names a class; an Ingress carrying it is left alone. */
    static final String LEGACY_CLASS = "kubernetes.io/ingress.class";

    private volatile Supplier<Optional<String>> defaultClass = Optional::empty;

    public IngressStrategy() {
        super(Set.of());
    }

    /** Where the default class comes from (the IngressClasses' watch cache). */
    public void useDefaultClass(Supplier<Optional<String>> lookup) {
        this.defaultClass = lookup;
    }

    @Override
    public void prepareForCreate(ResourceType type, ObjectNode obj) {
        super.prepareForCreate(type, obj);
        if (obj.path("spec").hasNonNull("ingressClassName")) return;
        if (obj.path("metadata").path("annotations").has(LEGACY_CLASS)) return;
        defaultClass.get().ifPresent(name -> {
            ObjectNode spec = obj.path("spec") instanceof ObjectNode s ? s : obj.putObject("spec");
            spec.put("ingressClassName", name);
        });
    }
}
