package io.k3j.controllers.endpoints;

import io.k3j.controllers.ManagedController;

/** The controllers that publish where a Service's pods are: Endpoints and EndpointSlices. */
public final class EndpointControllers {
    private EndpointControllers() {
    }

    /** kube's endpoints controller: core/v1 Endpoints of every Service with a selector. */
    public static ManagedController.Factory endpoints() {
        return EndpointsController::new;
    }

    /** kube's EndpointSlice controller: discovery.k8s.io/v1 EndpointSlices of every Service with a selector. */
    public static ManagedController.Factory endpointSlices() {
        return EndpointSliceController::new;
    }
}
