package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The cluster as the scheduler sees it: nodes in a stable order (by name) with their pods, plus lookups for
 * namespace labels (affinity namespaceSelector) and storage objects. Pods can be assumed onto a node and
 * forgotten again, so a scheduling loop keeps one snapshot current instead of rebuilding it per pod.
 * Not thread-safe.
 */
public final class Snapshot {

    private final List<NodeInfo> nodes;
    private final Map<String, NodeInfo> byName = new HashMap<>();
    private final Map<String, NodeInfo> nodeOfPod = new HashMap<>();
    private final Function<String, Map<String, String>> namespaceLabels;
    private final VolumeLookup volumes;

    private Snapshot(List<NodeInfo> nodes, Function<String, Map<String, String>> namespaceLabels, VolumeLookup volumes,
                     boolean indexPods) {
        this.nodes = nodes;
        this.namespaceLabels = namespaceLabels;
        this.volumes = volumes;
        for (NodeInfo n : nodes) {
            byName.put(n.name(), n);
            if (indexPods) for (PodInfo p : n.pods()) nodeOfPod.put(key(p), n);
        }
    }

    /**
     * A snapshot of the given nodes (which may already hold pods).
     *
     * @param namespaceLabels labels of a namespace by name, null when unknown; null for "no namespace has labels"
     * @param volumes storage lookups; null for {@link VolumeLookup#NONE}
     */
    public static Snapshot of(Collection<NodeInfo> nodes, Function<String, Map<String, String>> namespaceLabels,
                              VolumeLookup volumes) {
        List<NodeInfo> list = new ArrayList<>(nodes);
        list.sort(Comparator.comparing(NodeInfo::name));
        return new Snapshot(list, namespaceLabels == null ? ns -> null : namespaceLabels,
                volumes == null ? VolumeLookup.NONE : volumes, true);
    }

    /**
     * Builds a snapshot from node and pod objects. Pods are accounted to the node named by
     * {@code spec.nodeName}; unassigned pods, pods of unknown nodes, and finished pods (phase Succeeded or
     * Failed, which hold no resources) are left out, as in kube-scheduler's cache.
     */
    public static Snapshot build(Collection<ObjectNode> nodes, Collection<ObjectNode> pods,
                                 Function<String, Map<String, String>> namespaceLabels, VolumeLookup volumes) {
        Map<String, NodeInfo> infos = new HashMap<>();
        for (ObjectNode n : nodes) {
            NodeInfo ni = NodeInfo.of(n);
            infos.put(ni.name(), ni);
        }
        for (ObjectNode p : pods) {
            String phase = Json.text(p.path("status"), "phase");
            if (phase.equals("Succeeded") || phase.equals("Failed")) continue;
            NodeInfo ni = infos.get(Json.text(p.path("spec"), "nodeName"));
            if (ni != null) ni.addPod(PodInfo.of(p));
        }
        return of(infos.values(), namespaceLabels, volumes);
    }

    /** The nodes, sorted by name (live view; do not modify). */
    public List<NodeInfo> nodes() {
        return java.util.Collections.unmodifiableList(nodes);
    }

    /** The node called {@code name}, or null. */
    public NodeInfo node(String name) {
        return byName.get(name);
    }

    /** The node {@code pod} is accounted to, or null. */
    public NodeInfo nodeOf(PodInfo pod) {
        return nodeOfPod.get(key(pod));
    }

    /**
     * Accounts {@code pod} to node {@code nodeName}, as the scheduler does after choosing it and before the
     * binding is confirmed ("assume"). A pod already accounted elsewhere is moved.
     *
     * @throws IllegalArgumentException if the node is unknown
     */
    public void assume(PodInfo pod, String nodeName) {
        NodeInfo n = byName.get(nodeName);
        if (n == null) throw new IllegalArgumentException("unknown node: " + nodeName);
        forget(pod);
        n.addPod(pod);
        nodeOfPod.put(key(pod), n);
    }

    /** Removes {@code pod} from whatever node holds it; returns whether one did. */
    public boolean forget(PodInfo pod) {
        NodeInfo n = nodeOfPod.remove(key(pod));
        return n != null && n.removePod(pod);
    }

    /** Adds a node (e.g. one that registered); replaces a node of the same name, keeping its pods. */
    public void putNode(NodeInfo node) {
        Objects.requireNonNull(node, "node");
        NodeInfo old = byName.put(node.name(), node);
        if (old != null) {
            nodes.set(nodes.indexOf(old), node);
            for (PodInfo p : old.pods()) {
                node.addPod(p);
                nodeOfPod.put(key(p), node);
            }
        } else {
            int i = 0;
            while (i < nodes.size() && nodes.get(i).name().compareTo(node.name()) < 0) i++;
            nodes.add(i, node);
        }
    }

    /** Removes a node and its pods' accounting. */
    public void removeNode(String name) {
        NodeInfo old = byName.remove(name);
        if (old == null) return;
        nodes.remove(old);
        for (PodInfo p : old.pods()) nodeOfPod.remove(key(p));
    }

    /**
     * A read-only view for simulations: everything but one node is shared, {@code replacement} stands in for
     * it. The pod index is not built (filters don't use it), which keeps a preemption dry run cheap.
     */
    Snapshot withNode(NodeInfo replacement) {
        List<NodeInfo> list = new ArrayList<>(nodes);
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).name().equals(replacement.name())) list.set(i, replacement);
        }
        return new Snapshot(list, namespaceLabels, volumes, false);
    }

    Map<String, String> namespaceLabels(String ns) {
        return namespaceLabels.apply(ns);
    }

    Function<String, Map<String, String>> namespaceLabelLookup() {
        return namespaceLabels;
    }

    VolumeLookup volumes() {
        return volumes;
    }

    private static String key(PodInfo p) {
        return p.uid().isEmpty() ? p.namespace() + "/" + p.name() : p.uid();
    }
}
