package io.k3j.apiserver.table;

import static io.k3j.apiserver.table.Cells.age;
import static io.k3j.apiserver.table.Cells.at;
import static io.k3j.apiserver.table.Cells.col;
import static io.k3j.apiserver.table.Cells.integer;
import static io.k3j.apiserver.table.Cells.items;
import static io.k3j.apiserver.table.Cells.name;
import static io.k3j.apiserver.table.Cells.text;
import static io.k3j.apiserver.table.Cells.wide;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** Discovery, coordination, networking, RBAC bindings, storage classes, policy and admission resources. */
final class ClusterPrinters {
    private ClusterPrinters() {}

    static final TablePrinter ENDPOINT_SLICES = new SimplePrinter(List.of(
            Cells.name(),
            col("AddressType", "string", Descriptions.of("discovery.EndpointSlice.addressType")),
            col("Ports", "string", Descriptions.of("discovery.EndpointSlice.ports")),
            col("Endpoints", "string", Descriptions.of("discovery.EndpointSlice.endpoints")),
            Cells.age()),
            (es, now) -> {
                List<String> ports = new ArrayList<>();
                int portCount = 0;
                for (JsonNode p : items(es, "ports")) {
                    if (ports.size() < 3) {
                        JsonNode port = at(p, "port");
                        JsonNode pname = at(p, "name");
                        ports.add(port != null ? Long.toString(port.longValue()) : pname != null ? pname.asText() : "*");
                    }
                    portCount++;
                }
                List<String> addrs = new ArrayList<>();
                int addrCount = 0;
                for (JsonNode ep : items(es, "endpoints")) {
                    for (JsonNode a : items(ep, "addresses")) {
                        if (addrs.size() < 3) addrs.add(a.asText());
                        addrCount++;
                    }
                }
                return Cells.row(name(es), text(es, "addressType"), Cells.listWithMore(ports, portCount, 3),
                        Cells.listWithMore(addrs, addrCount, 3), age(es, now));
            });

    static final TablePrinter LEASES = new SimplePrinter(List.of(
            Cells.name(), col("Holder", "string", Descriptions.of("coordination.LeaseSpec.holderIdentity")), Cells.age()),
            (l, now) -> Cells.row(name(l), text(l, "spec", "holderIdentity"), age(l, now)));

    static final TablePrinter INGRESSES = new SimplePrinter(List.of(
            Cells.name(),
            col("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
            col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
            col("Address", "string", "Address is a list containing ingress points for the load-balancer"),
            col("Ports", "string", "Ports of TLS configurations that open"),
            Cells.age()),
            (ing, now) -> {
                JsonNode cls = at(ing, "spec", "ingressClassName");
                List<JsonNode> rules = items(ing, "spec", "rules");
                List<String> hosts = new ArrayList<>();
                boolean more = false;
                for (JsonNode rule : rules) {
                    if (hosts.size() == 3) more = true;
                    if (!more && !text(rule, "host").isEmpty()) hosts.add(text(rule, "host"));
                }
                String hostText = hosts.isEmpty() ? "*"
                        : more ? String.join(",", hosts) + " + " + (rules.size() - 3) + " more..." : String.join(",", hosts);
                String ports = items(ing, "spec", "tls").isEmpty() ? "80" : "80, 443";
                return Cells.row(name(ing), cls == null ? "<none>" : cls.asText(), hostText,
                        CorePrinters.loadBalancerIngress(at(ing, "status", "loadBalancer")), ports, age(ing, now));
            });

    static final TablePrinter INGRESS_CLASSES = new SimplePrinter(List.of(
            Cells.name(),
            col("Controller", "string", "Controller that is responsible for handling this class"),
            col("Parameters", "string", "A reference to a resource with additional parameters"),
            Cells.age()),
            (ic, now) -> {
                JsonNode p = at(ic, "spec", "parameters");
                String parameters = "<none>";
                if (p != null) {
                    parameters = text(p, "kind");
                    if (at(p, "apiGroup") != null) parameters += "." + text(p, "apiGroup");
                    parameters += "/" + text(p, "name");
                }
                return Cells.row(name(ic), text(ic, "spec", "controller"), parameters, age(ic, now));
            });

    static final TablePrinter NETWORK_POLICIES = new SimplePrinter(List.of(
            Cells.name(), col("Pod-Selector", "string", Descriptions.of("extensions.NetworkPolicySpec.podSelector")), Cells.age()),
            // spec.podSelector is a struct, not a pointer: absent means the empty selector.
            (np, now) -> Cells.row(name(np), Cells.formatLabelSelector(
                    at(np, "spec", "podSelector") == null ? io.k3j.api.Json.object() : at(np, "spec", "podSelector")), age(np, now)));

    static final TablePrinter ROLE_BINDINGS = bindings("roleBinding", Descriptions.of("rbac.RoleBinding.roleRef"));
    static final TablePrinter CLUSTER_ROLE_BINDINGS = bindings("clusterRoleBinding", Descriptions.of("rbac.ClusterRoleBinding.roleRef"));

    private static TablePrinter bindings(String what, String roleDoc) {
        return new SimplePrinter(List.of(
                Cells.name(),
                col("Role", "string", roleDoc),
                Cells.age(),
                wide("Users", "string", "Users in the " + what),
                wide("Groups", "string", "Groups in the " + what),
                wide("ServiceAccounts", "string", "ServiceAccounts in the " + what)),
                (rb, now) -> {
                    List<String> users = new ArrayList<>();
                    List<String> groups = new ArrayList<>();
                    List<String> sas = new ArrayList<>();
                    for (JsonNode s : items(rb, "subjects")) {
                        switch (text(s, "kind")) {
                            case "ServiceAccount" -> sas.add(text(s, "namespace") + "/" + text(s, "name"));
                            case "User" -> users.add(text(s, "name"));
                            case "Group" -> groups.add(text(s, "name"));
                            default -> { }
                        }
                    }
                    return Cells.row(name(rb), text(rb, "roleRef", "kind") + "/" + text(rb, "roleRef", "name"), age(rb, now),
                            String.join(", ", users), String.join(", ", groups), String.join(", ", sas));
                });
    }

    static final TablePrinter STORAGE_CLASSES = new SimplePrinter(List.of(
            Cells.name(),
            col("Provisioner", "string", Descriptions.of("storage.StorageClass.provisioner")),
            col("ReclaimPolicy", "string", Descriptions.of("storage.StorageClass.reclaimPolicy")),
            col("VolumeBindingMode", "string", Descriptions.of("storage.StorageClass.volumeBindingMode")),
            col("AllowVolumeExpansion", "string", Descriptions.of("storage.StorageClass.allowVolumeExpansion")),
            Cells.age()),
            (sc, now) -> {
                String name = name(sc);
                if (isDefaultClass(sc)) name += " (default)";
                JsonNode reclaim = at(sc, "reclaimPolicy");
                JsonNode binding = at(sc, "volumeBindingMode");
                return Cells.row(name, text(sc, "provisioner"), reclaim == null ? "Delete" : reclaim.asText(),
                        binding == null ? "Immediate" : binding.asText(), Cells.bool(sc, "allowVolumeExpansion"), age(sc, now));
            });

    private static boolean isDefaultClass(ObjectNode sc) {
        return text(sc, "metadata", "annotations", "storageclass.kubernetes.io/is-default-class").equals("true")
                || text(sc, "metadata", "annotations", "storageclass.beta.kubernetes.io/is-default-class").equals("true");
    }

    static final TablePrinter POD_DISRUPTION_BUDGETS = new SimplePrinter(List.of(
            Cells.name(),
            col("Min Available", "string", "The minimum number of pods that must be available."),
            col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
            col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
            Cells.age()),
            (pdb, now) -> {
                JsonNode min = at(pdb, "spec", "minAvailable");
                JsonNode max = at(pdb, "spec", "maxUnavailable");
                return Cells.row(name(pdb), min == null ? "N/A" : min.asText(), max == null ? "N/A" : max.asText(),
                        integer(pdb, "status", "disruptionsAllowed"), age(pdb, now));
            });

    static final TablePrinter RUNTIME_CLASSES = new SimplePrinter(List.of(
            Cells.name(), col("Handler", "string", ""), Cells.age()),
            (rc, now) -> Cells.row(name(rc), text(rc, "handler"), age(rc, now)));

    static final TablePrinter WEBHOOK_CONFIGURATIONS = new SimplePrinter(List.of(
            Cells.name(),
            col("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration"),
            Cells.age()),
            (wh, now) -> Cells.row(name(wh), (long) Cells.size(wh, "webhooks"), age(wh, now)));
}
