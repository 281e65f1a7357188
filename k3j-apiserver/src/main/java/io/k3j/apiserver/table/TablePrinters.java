package io.k3j.apiserver.table;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * Printers for built-in resources, as registered by kube-apiserver (pkg/printers/internalversion), the
 * default NAME / CREATED AT printer for everything else, and CRD printers.
 */
public final class TablePrinters {
    private TablePrinters() {}

    private static final Map<String, TablePrinter> BUILT_IN = Map.ofEntries(
            Map.entry("/pods", new PodPrinter()),
            Map.entry("/services", CorePrinters.SERVICES),
            Map.entry("/nodes", CorePrinters.NODES),
            Map.entry("/namespaces", CorePrinters.NAMESPACES),
            Map.entry("/configmaps", CorePrinters.CONFIG_MAPS),
            Map.entry("/secrets", CorePrinters.SECRETS),
            Map.entry("/serviceaccounts", CorePrinters.SERVICE_ACCOUNTS),
            Map.entry("/endpoints", CorePrinters.ENDPOINTS),
            Map.entry("/events", CorePrinters.EVENTS),
            Map.entry("/persistentvolumes", CorePrinters.PERSISTENT_VOLUMES),
            Map.entry("/persistentvolumeclaims", CorePrinters.PERSISTENT_VOLUME_CLAIMS),
            Map.entry("/resourcequotas", CorePrinters.RESOURCE_QUOTAS),
            Map.entry("/replicationcontrollers", WorkloadPrinters.REPLICATION_CONTROLLERS),
            Map.entry("apps/deployments", WorkloadPrinters.DEPLOYMENTS),
            Map.entry("apps/replicasets", WorkloadPrinters.REPLICA_SETS),
            Map.entry("apps/statefulsets", WorkloadPrinters.STATEFUL_SETS),
            Map.entry("apps/daemonsets", WorkloadPrinters.DAEMON_SETS),
            Map.entry("apps/controllerrevisions", WorkloadPrinters.CONTROLLER_REVISIONS),
            Map.entry("batch/jobs", WorkloadPrinters.JOBS),
            Map.entry("batch/cronjobs", WorkloadPrinters.CRON_JOBS),
            Map.entry("events.k8s.io/events", CorePrinters.EVENTS_K8S_IO),
            Map.entry("discovery.k8s.io/endpointslices", ClusterPrinters.ENDPOINT_SLICES),
            Map.entry("coordination.k8s.io/leases", ClusterPrinters.LEASES),
            Map.entry("networking.k8s.io/ingresses", ClusterPrinters.INGRESSES),
            Map.entry("networking.k8s.io/ingressclasses", ClusterPrinters.INGRESS_CLASSES),
            Map.entry("networking.k8s.io/networkpolicies", ClusterPrinters.NETWORK_POLICIES),
            Map.entry("rbac.authorization.k8s.io/rolebindings", ClusterPrinters.ROLE_BINDINGS),
            Map.entry("rbac.authorization.k8s.io/clusterrolebindings", ClusterPrinters.CLUSTER_ROLE_BINDINGS),
            Map.entry("storage.k8s.io/storageclasses", ClusterPrinters.STORAGE_CLASSES),
            Map.entry("policy/poddisruptionbudgets", ClusterPrinters.POD_DISRUPTION_BUDGETS),
            Map.entry("node.k8s.io/runtimeclasses", ClusterPrinters.RUNTIME_CLASSES),
            Map.entry("admissionregistration.k8s.io/mutatingwebhookconfigurations", ClusterPrinters.WEBHOOK_CONFIGURATIONS),
            Map.entry("admissionregistration.k8s.io/validatingwebhookconfigurations", ClusterPrinters.WEBHOOK_CONFIGURATIONS));

    /**
     * The printer kube-apiserver uses for a built-in resource ({@code group} "" for the core group,
     * {@code resource} plural and lower case), or {@link #defaultPrinter()} when it has none (Roles,
     * ClusterRoles, LimitRanges, CustomResourceDefinitions, ...).
     */
    public static TablePrinter forResource(String group, String resource) {
        TablePrinter p = BUILT_IN.get((group == null ? "" : group) + "/" + resource);
        return p != null ? p : DefaultPrinter.INSTANCE;
    }

    /** NAME and CREATED AT (RFC 3339), the generic convertor of k8s.io/apiserver. */
    public static TablePrinter defaultPrinter() {
        return DefaultPrinter.INSTANCE;
    }

    /**
     * The printer of one served version of a CRD, given that version's {@code additionalPrinterColumns}
     * (null, missing or empty: NAME and AGE).
     *
     * @throws IllegalArgumentException when a column's jsonPath does not parse
     *     ({@code unrecognized column definition "<path>"}); CRD validation should have refused it
     */
    public static TablePrinter forCustomResource(JsonNode additionalPrinterColumns) {
        return CustomResourcePrinter.of(additionalPrinterColumns);
    }
}
