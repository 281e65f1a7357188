package io.k3j.agent.stats;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * A summary as kubelet's {@code /stats/summary} JSON (k8s.io/kubelet/pkg/apis/stats/v1alpha1 Summary): field
 * names as there, times as metav1.Time (RFC 3339, whole seconds), unknown figures left out.
 */
final class SummaryJson {
    private SummaryJson() {
    }

    static ObjectNode render(Stats.Summary s) {
        return render(s, false);
    }

    /** @param cpuAndMemoryOnly leave file systems out ({@code ?only_cpu_and_memory=true}, what metrics-server before 0.6 asked) */
    static ObjectNode render(Stats.Summary s, boolean cpuAndMemoryOnly) {
        ObjectNode root = Json.object();
        ObjectNode node = root.putObject("node");
        node.put("nodeName", s.nodeName());
        if (s.startTime() != null) node.put("startTime", time(s.startTime()));
        Stats.Node n = s.node();
        cpu(node, n.cpu());
        memory(node, n.memory());
        if (!cpuAndMemoryOnly) {
            fs(node, "fs", n.fs());
            if (n.imageFs() != null) fs(node.putObject("runtime"), "imageFs", n.imageFs());
        }
        ArrayNode pods = root.putArray("pods");
        for (Stats.Pod p : s.pods()) {
            ObjectNode pod = pods.addObject();
            ObjectNode ref = pod.putObject("podRef");
            ref.put("name", p.name());
            ref.put("namespace", p.namespace());
            ref.put("uid", p.uid());
            if (p.startTime() != null) pod.put("startTime", time(p.startTime()));
            ArrayNode containers = pod.putArray("containers");
            Long rootfsUsed = null;
            Instant rootfsTime = null;
            for (Stats.Container c : p.containers()) {
                ObjectNode cn = containers.addObject();
                cn.put("name", c.name());
                if (c.startTime() != null) cn.put("startTime", time(c.startTime()));
                cpu(cn, c.cpu());
                memory(cn, c.memory());
                if (c.rootfs() != null && !cpuAndMemoryOnly) {
                    Stats.Fs capacity = n.fs();
                    // a writable layer shares the node's file system: its capacity and free space are the node's
                    Stats.Fs rootfs = capacity == null ? c.rootfs() : new Stats.Fs(c.rootfs().time(), capacity.availableBytes(),
                            capacity.capacityBytes(), c.rootfs().usedBytes(), capacity.inodesFree(), capacity.inodes(), c.rootfs().inodesUsed());
                    fs(cn, "rootfs", rootfs);
                    if (c.rootfs().usedBytes() != null) {
                        rootfsUsed = (rootfsUsed == null ? 0 : rootfsUsed) + c.rootfs().usedBytes();
                        rootfsTime = c.rootfs().time();
                    }
                }
            }
            cpu(pod, p.cpu());
            memory(pod, p.memory());
            if (rootfsUsed != null) {
                Stats.Fs capacity = n.fs();
                fs(pod, "ephemeral-storage", new Stats.Fs(rootfsTime, capacity == null ? null : capacity.availableBytes(),
                        capacity == null ? null : capacity.capacityBytes(), rootfsUsed, null, null, null));
            }
        }
        return root;
    }

    private static void cpu(ObjectNode parent, Stats.Cpu c) {
        if (c == null) return;
        ObjectNode o = parent.putObject("cpu");
        o.put("time", time(c.time()));
        if (c.usageNanoCores() != null) o.put("usageNanoCores", c.usageNanoCores());
        o.put("usageCoreNanoSeconds", c.usageCoreNanoSeconds());
    }

    private static void memory(ObjectNode parent, Stats.Memory m) {
        if (m == null) return;
        ObjectNode o = parent.putObject("memory");
        o.put("time", time(m.time()));
        put(o, "availableBytes", m.availableBytes());
        put(o, "usageBytes", m.usageBytes());
        o.put("workingSetBytes", m.workingSetBytes());
        put(o, "rssBytes", m.rssBytes());
        put(o, "pageFaults", m.pageFaults());
        put(o, "majorPageFaults", m.majorPageFaults());
    }

    private static void fs(ObjectNode parent, String field, Stats.Fs f) {
        if (f == null) return;
        ObjectNode o = parent.putObject(field);
        o.put("time", time(f.time()));
        put(o, "availableBytes", f.availableBytes());
        put(o, "capacityBytes", f.capacityBytes());
        put(o, "usedBytes", f.usedBytes());
        put(o, "inodesFree", f.inodesFree());
        put(o, "inodes", f.inodes());
        put(o, "inodesUsed", f.inodesUsed());
    }

    private static void put(ObjectNode o, String field, Long value) {
        if (value != null) o.put(field, value);
    }

    private static String time(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
