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
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Core (v1) resources other than pods, and events.k8s.io Events. */
final class CorePrinters {
    private CorePrinters() {}

    static final TablePrinter SERVICES = new SimplePrinter(List.of(
            Cells.name(),
            col("Type", "string", Descriptions.of("core.ServiceSpec.type")),
            col("Cluster-IP", "string", Descriptions.of("core.ServiceSpec.clusterIP")),
            col("External-IP", "string", Descriptions.of("core.ServiceSpec.externalIPs")),
            col("Port(s)", "string", Descriptions.of("core.ServiceSpec.ports")),
            Cells.age(),
            wide("Selector", "string", Descriptions.of("core.ServiceSpec.selector"))),
            (svc, now) -> {
                String clusterIP = "<none>";
                List<JsonNode> ips = items(svc, "spec", "clusterIPs");
                if (!ips.isEmpty()) {
                    clusterIP = ips.get(0).asText();
                } else if (!text(svc, "spec", "clusterIP").isEmpty()) {
                    // Objects written before dual-stack defaulting carry only clusterIP.
                    clusterIP = text(svc, "spec", "clusterIP");
                }
                List<String> ports = new ArrayList<>();
                for (JsonNode p : items(svc, "spec", "ports")) {
                    long nodePort = integer(p, "nodePort");
                    ports.add(integer(p, "port") + (nodePort > 0 ? ":" + nodePort : "") + "/" + text(p, "protocol"));
                }
                String portText = ports.isEmpty() ? "<none>" : String.join(",", ports);
                return Cells.row(name(svc), text(svc, "spec", "type"), clusterIP, externalIP(svc), portText, age(svc, now),
                        Cells.formatLabels(Cells.stringMap(svc, "spec", "selector")));
            });

    private static String externalIP(ObjectNode svc) {
        List<String> externalIPs = new ArrayList<>();
        for (JsonNode ip : items(svc, "spec", "externalIPs")) externalIPs.add(ip.asText());
        switch (text(svc, "spec", "type")) {
            case "ClusterIP", "NodePort" -> {
                return externalIPs.isEmpty() ? "<none>" : String.join(",", externalIPs);
            }
            case "LoadBalancer" -> {
                String lb = loadBalancerIngress(at(svc, "status", "loadBalancer"));
                if (!externalIPs.isEmpty()) {
                    List<String> all = new ArrayList<>();
                    if (!lb.isEmpty()) all.addAll(List.of(lb.split(",")));
                    all.addAll(externalIPs);
                    return String.join(",", all);
                }
                return lb.isEmpty() ? "<pending>" : lb;
            }
            case "ExternalName" -> {
                return text(svc, "spec", "externalName");
            }
            default -> {
                return "<unknown>";
            }
        }
    }

    /** loadBalancerStatusStringer (wide): distinct IPs, else hostnames; Go's set order is random, ours is first-seen. */
    static String loadBalancerIngress(JsonNode status) {
        Set<String> result = new LinkedHashSet<>();
        for (JsonNode ing : items(status, "ingress")) {
            if (!text(ing, "ip").isEmpty()) {
                result.add(text(ing, "ip"));
            } else if (!text(ing, "hostname").isEmpty()) {
                result.add(text(ing, "hostname"));
            }
        }
        return String.join(",", result);
    }

    static final TablePrinter NODES = new SimplePrinter(List.of(
            Cells.name(),
            col("Status", "string", "The status of the node"),
            col("Roles", "string", "The roles of the node"),
            Cells.age(),
            col("Version", "string", Descriptions.of("core.NodeSystemInfo.kubeletVersion")),
            wide("Internal-IP", "string", Descriptions.of("core.NodeStatus.addresses")),
            wide("External-IP", "string", Descriptions.of("core.NodeStatus.addresses")),
            wide("OS-Image", "string", Descriptions.of("core.NodeSystemInfo.osImage")),
            wide("Kernel-Version", "string", Descriptions.of("core.NodeSystemInfo.kernelVersion")),
            wide("Container-Runtime", "string", Descriptions.of("core.NodeSystemInfo.containerRuntimeVersion"))),
            (node, now) -> {
                List<String> status = new ArrayList<>();
                JsonNode ready = null;
                for (JsonNode c : items(node, "status", "conditions")) {
                    if (text(c, "type").equals("Ready")) ready = c; // the last one wins, as in Go's map
                }
                if (ready != null) status.add(text(ready, "status").equals("True") ? "Ready" : "NotReady");
                if (status.isEmpty()) status.add("Unknown");
                if (Cells.bool(node, "spec", "unschedulable")) status.add("SchedulingDisabled");
                // Go's set order is random; sorted is one of its orders and stable.
                Set<String> roles = new TreeSet<>();
                Cells.stringMap(node, "metadata", "labels").forEach((k, v) -> {
                    if (k.startsWith("node-role.kubernetes.io/")) {
                        String role = k.substring("node-role.kubernetes.io/".length());
                        if (!role.isEmpty()) roles.add(role);
                    } else if (k.equals("kubernetes.io/role") && !v.isEmpty()) {
                        roles.add(v);
                    }
                });
                return Cells.row(name(node), String.join(",", status), roles.isEmpty() ? "<none>" : String.join(",", roles),
                        age(node, now), text(node, "status", "nodeInfo", "kubeletVersion"),
                        address(node, "InternalIP"), address(node, "ExternalIP"),
                        orUnknown(text(node, "status", "nodeInfo", "osImage")),
                        orUnknown(text(node, "status", "nodeInfo", "kernelVersion")),
                        orUnknown(text(node, "status", "nodeInfo", "containerRuntimeVersion")));
            });

    private static String address(ObjectNode node, String type) {
        for (JsonNode a : items(node, "status", "addresses")) {
            if (text(a, "type").equals(type)) return text(a, "address");
        }
        return "<none>";
    }

    private static String orUnknown(String s) {
        return s.isEmpty() ? "<unknown>" : s;
    }

    static final TablePrinter NAMESPACES = new SimplePrinter(List.of(
            Cells.name(), col("Status", "string", "The status of the namespace"), Cells.age()),
            (ns, now) -> Cells.row(name(ns), text(ns, "status", "phase"), age(ns, now)));

    static final TablePrinter CONFIG_MAPS = new SimplePrinter(List.of(
            Cells.name(), col("Data", "string", Descriptions.of("core.ConfigMap.data")), Cells.age()),
            (cm, now) -> Cells.row(name(cm), (long) (Cells.size(cm, "data") + Cells.size(cm, "binaryData")), age(cm, now)));

    static final TablePrinter SECRETS = new SimplePrinter(List.of(
            Cells.name(),
            col("Type", "string", Descriptions.of("core.Secret.type")),
            col("Data", "string", Descriptions.of("core.Secret.data")),
            Cells.age()),
            (s, now) -> Cells.row(name(s), text(s, "type"), (long) Cells.size(s, "data"), age(s, now)));

    static final TablePrinter SERVICE_ACCOUNTS = new SimplePrinter(List.of(
            Cells.name(), col("Secrets", "string", Descriptions.of("core.ServiceAccount.secrets")), Cells.age()),
            (sa, now) -> Cells.row(name(sa), (long) Cells.size(sa, "secrets"), age(sa, now)));

    static final TablePrinter ENDPOINTS = new SimplePrinter(List.of(
            Cells.name(), col("Endpoints", "string", Descriptions.of("core.Endpoints.subsets")), Cells.age()),
            (ep, now) -> Cells.row(name(ep), formatEndpoints(ep), age(ep, now)));

    private static String formatEndpoints(ObjectNode ep) {
        List<JsonNode> subsets = items(ep, "subsets");
        if (subsets.isEmpty()) return "<none>";
        List<String> list = new ArrayList<>();
        int max = 3;
        boolean more = false;
        int count = 0;
        for (JsonNode ss : subsets) {
            List<JsonNode> addresses = items(ss, "addresses");
            List<JsonNode> ports = items(ss, "ports");
            if (ports.isEmpty()) {
                // Headless services may have no ports.
                count += addresses.size();
                for (JsonNode a : addresses) {
                    if (list.size() == max) {
                        more = true;
                        break;
                    }
                    list.add(text(a, "ip"));
                }
                continue;
            }
            for (JsonNode port : ports) {
                count += addresses.size();
                for (JsonNode a : addresses) {
                    if (list.size() == max) {
                        more = true;
                        break;
                    }
                    list.add(joinHostPort(text(a, "ip"), integer(port, "port")));
                }
            }
        }
        String ret = String.join(",", list);
        return more ? ret + " + " + (count - max) + " more..." : ret;
    }

    static String joinHostPort(String host, long port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    static final TablePrinter EVENTS = new SimplePrinter(eventColumns(), (ev, now) -> eventCells(
            ev, now, at(ev, "involvedObject"), text(ev, "message"), at(ev, "source"),
            Cells.time(ev, "firstTimestamp"), Cells.time(ev, "lastTimestamp"), at(ev, "count")));

    /** events.k8s.io/v1 Events print like core Events after Kubernetes' conversion of the renamed fields. */
    static final TablePrinter EVENTS_K8S_IO = new SimplePrinter(eventColumns(), (ev, now) -> eventCells(
            ev, now, at(ev, "regarding"), text(ev, "note"), at(ev, "deprecatedSource"),
            Cells.time(ev, "deprecatedFirstTimestamp"), Cells.time(ev, "deprecatedLastTimestamp"), at(ev, "deprecatedCount")));

    private static List<TablePrinter.Column> eventColumns() {
        return List.of(
                col("Last Seen", "string", Descriptions.of("core.Event.lastTimestamp")),
                col("Type", "string", Descriptions.of("core.Event.type")),
                col("Reason", "string", Descriptions.of("core.Event.reason")),
                col("Object", "string", Descriptions.of("core.Event.involvedObject")),
                wide("Subobject", "string", Descriptions.of("core.ObjectReference.fieldPath")),
                wide("Source", "string", Descriptions.of("core.Event.source")),
                col("Message", "string", Descriptions.of("core.Event.message")),
                wide("First Seen", "string", Descriptions.of("core.Event.firstTimestamp")),
                wide("Count", "string", Descriptions.of("core.Event.count")),
                new TablePrinter.Column("Name", "string", "name", Cells.NAME, 1));
    }

    private static List<Object> eventCells(ObjectNode ev, Instant now, JsonNode involved, String message, JsonNode source,
                                           Instant first, Instant last, JsonNode countNode) {
        String firstSeen = first != null ? Cells.since(first, now) : Cells.since(Cells.time(ev, "eventTime"), now);
        String lastSeen = last != null ? Cells.since(last, now) : firstSeen;
        long count = countNode != null && countNode.isNumber() ? countNode.longValue() : 0;
        JsonNode series = at(ev, "series");
        if (series != null) {
            lastSeen = Cells.since(Cells.time(series, "lastObservedTime"), now);
            count = integer(series, "count");
        } else if (count == 0) {
            count = 1; // singleton events of the new API carry no count
        }
        String kind = text(involved, "kind").toLowerCase(Locale.ROOT);
        String target = text(involved, "name").isEmpty() ? kind : kind + "/" + text(involved, "name");
        String component = firstNonEmpty(text(source, "component"), text(ev, "reportingController"));
        String instance = firstNonEmpty(text(source, "host"), text(ev, "reportingInstance"));
        String sourceText = instance.isEmpty() ? component : component + ", " + instance;
        return Cells.row(lastSeen, text(ev, "type"), text(ev, "reason"), target, text(involved, "fieldPath"), sourceText,
                message.strip(), firstSeen, count, name(ev));
    }

    private static String firstNonEmpty(String a, String b) {
        return a.isEmpty() ? b : a;
    }

    static final TablePrinter PERSISTENT_VOLUMES = new SimplePrinter(List.of(
            Cells.name(),
            col("Capacity", "string", Descriptions.of("core.PersistentVolumeSpec.capacity")),
            col("Access Modes", "string", Descriptions.of("core.PersistentVolumeSpec.accessModes")),
            col("Reclaim Policy", "string", Descriptions.of("core.PersistentVolumeSpec.persistentVolumeReclaimPolicy")),
            col("Status", "string", Descriptions.of("core.PersistentVolumeStatus.phase")),
            col("Claim", "string", Descriptions.of("core.PersistentVolumeSpec.claimRef")),
            col("StorageClass", "string", "StorageClass of the pv"),
            col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
            col("Reason", "string", Descriptions.of("core.PersistentVolumeStatus.reason")),
            Cells.age(),
            wide("VolumeMode", "string", Descriptions.of("core.PersistentVolumeSpec.volumeMode"))),
            (pv, now) -> {
                JsonNode claimRef = at(pv, "spec", "claimRef");
                String claim = claimRef == null ? "" : text(claimRef, "namespace") + "/" + text(claimRef, "name");
                String phase = Cells.deleting(pv) ? "Terminating" : text(pv, "status", "phase");
                JsonNode mode = at(pv, "spec", "volumeMode");
                JsonNode vac = at(pv, "spec", "volumeAttributesClassName");
                JsonNode ann = at(pv, "metadata", "annotations", "volume.beta.kubernetes.io/storage-class");
                String storageClass = ann != null ? ann.asText() : text(pv, "spec", "storageClassName");
                return Cells.row(name(pv), quantity(pv, "spec", "capacity", "storage"), accessModes(at(pv, "spec", "accessModes")),
                        text(pv, "spec", "persistentVolumeReclaimPolicy"), phase, claim, storageClass,
                        vac == null ? "<unset>" : vac.asText(), text(pv, "status", "reason"), age(pv, now),
                        mode == null ? "<unset>" : mode.asText());
            });

    static final TablePrinter PERSISTENT_VOLUME_CLAIMS = new SimplePrinter(List.of(
            Cells.name(),
            col("Status", "string", Descriptions.of("core.PersistentVolumeClaimStatus.phase")),
            col("Volume", "string", Descriptions.of("core.PersistentVolumeClaimSpec.volumeName")),
            col("Capacity", "string", Descriptions.of("core.PersistentVolumeClaimStatus.capacity")),
            col("Access Modes", "string", Descriptions.of("core.PersistentVolumeClaimStatus.accessModes")),
            col("StorageClass", "string", "StorageClass of the pvc"),
            col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
            Cells.age(),
            wide("VolumeMode", "string", Descriptions.of("core.PersistentVolumeClaimSpec.volumeMode"))),
            (pvc, now) -> {
                String phase = Cells.deleting(pvc) ? "Terminating" : text(pvc, "status", "phase");
                String volume = text(pvc, "spec", "volumeName");
                String capacity = "";
                String modes = "";
                if (!volume.isEmpty()) {
                    modes = accessModes(at(pvc, "status", "accessModes"));
                    capacity = quantity(pvc, "status", "capacity", "storage");
                }
                JsonNode ann = at(pvc, "metadata", "annotations", "volume.beta.kubernetes.io/storage-class");
                String storageClass = ann != null ? ann.asText() : text(pvc, "spec", "storageClassName");
                JsonNode vac = at(pvc, "spec", "volumeAttributesClassName");
                JsonNode mode = at(pvc, "spec", "volumeMode");
                return Cells.row(name(pvc), phase, volume, capacity, modes, storageClass,
                        vac == null ? "<unset>" : vac.asText(), age(pvc, now), mode == null ? "<unset>" : mode.asText());
            });

    /** A resource.Quantity as stored (the apiserver stores canonical forms); a missing one prints as "0". */
    static String quantity(JsonNode n, String... path) {
        JsonNode q = at(n, path);
        return q == null ? "0" : q.asText();
    }

    /** GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order. */
    static String accessModes(JsonNode modes) {
        Set<String> have = new java.util.HashSet<>();
        if (modes != null) modes.forEach(m -> have.add(m.asText()));
        List<String> out = new ArrayList<>();
        if (have.contains("ReadWriteOnce")) out.add("RWO");
        if (have.contains("ReadOnlyMany")) out.add("ROX");
        if (have.contains("ReadWriteMany")) out.add("RWX");
        if (have.contains("ReadWriteOncePod")) out.add("RWOP");
        return String.join(",", out);
    }

    static final TablePrinter RESOURCE_QUOTAS = new SimplePrinter(List.of(
            Cells.name(),
            Cells.age(),
            col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
            col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.")),
            (rq, now) -> {
                TreeMap<String, String> hard = new TreeMap<>(Cells.stringMap(rq, "status", "hard"));
                List<String> requests = new ArrayList<>();
                List<String> limits = new ArrayList<>();
                hard.forEach((resource, h) -> {
                    String used = quantity(rq, "status", "used", resource);
                    String[] pieces = resource.split("\\.", -1);
                    (pieces.length > 1 && pieces[0].equals("limits") ? limits : requests).add(resource + ": " + used + "/" + h);
                });
                return Cells.row(name(rq), age(rq, now), String.join(", ", requests), String.join(", ", limits));
            });
}
