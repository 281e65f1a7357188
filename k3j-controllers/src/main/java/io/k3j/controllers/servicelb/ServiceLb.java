package io.k3j.controllers.servicelb;

import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;

/**
 * The server side of k3s's service load balancer and of its packaged networking components: LoadBalancer
 * Service status, Ingress status, and the removal of what a {@code --disable}d component had deployed. The node
 * side (answering the ports) is the agents' service proxy; the objects themselves are {@link PackagedManifests}.
 */
public final class ServiceLb {
    private ServiceLb() {
    }

    /** LoadBalancer Services get their nodes' addresses as status; off with {@code --disable servicelb}. */
    public static ManagedController.Factory loadBalancer() {
        return ctx -> disabled(ctx, PackagedManifests.SERVICELB) ? idle() : new ServiceLbController(ctx);
    }

    /** Ingresses of class k3j get the k3j-ingress Service's addresses; off with {@code --disable traefik}. */
    public static ManagedController.Factory ingressStatus() {
        return ctx -> disabled(ctx, PackagedManifests.TRAEFIK) ? idle() : new IngressStatusController(ctx);
    }

    /** Deletes the objects of packaged manifests switched off with {@code --disable}. */
    public static ManagedController.Factory disabledAddons() {
        return DisabledAddons::new;
    }

    private static boolean disabled(ControllerContext ctx, String component) {
        return PackagedManifests.disabled(ctx.config().disabled(), component);
    }

    /** Stands in for a switched-off controller, so the manager's list stays the same length. */
    private static ManagedController idle() {
        return new ManagedController() {
            @Override
            public void start() {
            }

            @Override
            public void close() {
            }
        };
    }
}
