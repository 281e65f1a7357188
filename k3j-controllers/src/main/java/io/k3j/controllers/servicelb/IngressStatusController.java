package io.k3j.controllers.servicelb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Duration;

/**
 * What Traefik's {@code publishedService} does in k3s: every Ingress the k3j ingress class handles gets the
 * addresses of the ingress Service ({@code kube-system/k3j-ingress}) as {@code status.loadBalancer.ingress},
 * kept in step with it, so {@code kubectl get ingress} prints an ADDRESS. The agents' ingress listeners serve
 * the traffic; this only publishes where.
 *
 * <p>An Ingress is handled when its {@code spec.ingressClassName} is {@value PackagedManifests#INGRESS_CLASS}, or
 * when it names no class (neither the field nor the legacy {@code kubernetes.io/ingress.class} annotation) while
 * IngressClass {@value PackagedManifests#INGRESS_CLASS} is the default one. Ingresses of other classes are left to
 * their controllers.
 */
final class IngressStatusController implements ManagedController {
    static final String NAME = "ingress-status-controller";
    static final String LEGACY_CLASS = "kubernetes.io/ingress.class";
    static final String DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class";

    private final ApiClient api;
    private final ResourceType ingressesType;
    private final SharedInformer ingresses;
    private final SharedInformer classes;
    private final SharedInformer services;
    private final Controller controller;

    IngressStatusController(ControllerContext ctx) {
        this.api = ctx.api(NAME);
        this.ingressesType = api.type("networking.k8s.io", "v1", "ingresses");
        this.ingresses = ctx.informer("networking.k8s.io", "v1", "ingresses");
        this.classes = ctx.informer("networking.k8s.io", "v1", "ingressclasses");
        this.services = ctx.informer("", "v1", "services");
        this.controller = new Controller(NAME, ctx.clock(), 2, this::sync);
        ingresses.addHandler(SharedInformer.Handler.onAddOrUpdate(o -> controller.enqueue(Keys.of(o))));
        classes.addHandler(SharedInformer.Handler.onEvery(o -> {
            if (PackagedManifests.INGRESS_CLASS.equals(Meta.name(o))) enqueueAll();
        }));
        services.addHandler(SharedInformer.Handler.onEvery(o -> {
            if (PackagedManifests.INGRESS_SERVICE_KEY.equals(Keys.of(o))) enqueueAll();
        }));
    }

    @Override
    public void start() {
        controller.start();
        enqueueAll();
    }

    @Override
    public void close() {
        controller.close();
    }

    private void enqueueAll() {
        for (ObjectNode i : ingresses.list()) controller.enqueue(Keys.of(i));
    }

    private Duration sync(String key) {
        ObjectNode ing = ingresses.get(key);
        if (ing == null || Meta.deleting(ing) || !handled(ing)) return null;
        ArrayNode desired = addresses(services.get(PackagedManifests.INGRESS_SERVICE_KEY));
        JsonNode current = Json.at(ing, "status", "loadBalancer", "ingress");
        if (current == null ? desired.isEmpty() : current.equals(desired)) return null;
        api.modify(ingressesType, Keys.namespace(key), Keys.name(key), "status", cur -> {
            ObjectNode lb = Json.obj(Json.obj(cur, "status"), "loadBalancer");
            if (desired.isEmpty()) lb.remove("ingress");
            else lb.set("ingress", desired);
            return cur;
        });
        return null;
    }

    private boolean handled(JsonNode ing) {
        String className = Json.text(ing.get("spec"), "ingressClassName");
        if (!className.isEmpty()) return PackagedManifests.INGRESS_CLASS.equals(className);
        JsonNode annotations = Json.at(ing, "metadata", "annotations");
        String legacy = Json.text(annotations, LEGACY_CLASS);
        if (!legacy.isEmpty()) return PackagedManifests.INGRESS_CLASS.equals(legacy);
        ObjectNode k3j = classes.get(Keys.of("", PackagedManifests.INGRESS_CLASS));
        return k3j != null && "true".equals(Json.text(Json.at(k3j, "metadata", "annotations"), DEFAULT_CLASS));
    }

    /**
     * The Service's load balancer addresses as an Ingress carries them (IngressLoadBalancerIngress has ip and
     * hostname, no ipMode).
     */
    static ArrayNode addresses(JsonNode svc) {
        ArrayNode out = Json.array();
        if (svc == null) return out;
        for (JsonNode i : svc.path("status").path("loadBalancer").path("ingress")) {
            ObjectNode a = Json.object();
            if (!Json.text(i, "ip").isEmpty()) a.put("ip", Json.text(i, "ip"));
            if (!Json.text(i, "hostname").isEmpty()) a.put("hostname", Json.text(i, "hostname"));
            if (!a.isEmpty()) out.add(a);
        }
        return out;
    }
}
