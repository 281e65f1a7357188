package io.k3j.apiserver.table;

import static io.k3j.apiserver.table.Cells.at;
import static io.k3j.apiserver.table.Cells.integer;
import static io.k3j.apiserver.table.Cells.items;
import static io.k3j.apiserver.table.Cells.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Pods: NAME READY STATUS RESTARTS AGE, wide IP NODE NOMINATED NODE READINESS GATES. STATUS is the reason
 * kubectl users know (Running, Completed, CrashLoopBackOff, Init:0/2, Init:ErrImagePull, Terminating, ...),
 * computed as printers.go printPod does, including sidecar (restartable init) containers.
 */
final class PodPrinter implements TablePrinter {

    private static final List<Column> COLUMNS = List.of(
            Cells.name(),
            Cells.col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
            Cells.col("Status", "string", "The aggregate status of the containers in this pod."),
            Cells.col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            Cells.age(),
            Cells.wide("IP", "string", Descriptions.of("core.PodStatus.podIP")),
            Cells.wide("Node", "string", Descriptions.of("core.PodSpec.nodeName")),
            Cells.wide("Nominated Node", "string", Descriptions.of("core.PodStatus.nominatedNodeName")),
            Cells.wide("Readiness Gates", "string", Descriptions.of("core.PodSpec.readinessGates")));

    @Override
    public List<Column> columns() {
        return COLUMNS;
    }

    @Override
    public List<ObjectNode> conditions(ObjectNode pod) {
        String phase = text(pod, "status", "phase");
        if (!phase.equals("Succeeded") && !phase.equals("Failed")) return List.of();
        ObjectNode c = Json.object();
        c.put("type", "Completed");
        c.put("status", "True");
        c.put("reason", phase);
        c.put("message", phase.equals("Succeeded") ? "The pod has completed successfully." : "The pod failed.");
        return List.of(c);
    }

    @Override
    public List<Object> cells(ObjectNode pod, Instant now) {
        List<JsonNode> initSpecs = items(pod, "spec", "initContainers");
        int totalContainers = items(pod, "spec", "containers").size();
        Set<String> restartableInit = new HashSet<>();
        for (JsonNode c : initSpecs) {
            if (text(c, "restartPolicy").equals("Always")) {
                restartableInit.add(text(c, "name"));
                totalContainers++;
            }
        }

        String phase = text(pod, "status", "phase");
        String reason = phase;
        if (!text(pod, "status", "reason").isEmpty()) reason = text(pod, "status", "reason");
        for (JsonNode cond : items(pod, "status", "conditions")) {
            if (text(cond, "type").equals("PodScheduled") && text(cond, "reason").equals("SchedulingGated")) {
                reason = "SchedulingGated";
            }
        }

        int restarts = 0;
        int restartableRestarts = 0;
        int ready = 0;
        Instant lastRestart = null;
        Instant lastRestartableRestart = null;
        boolean initializing = false;
        List<JsonNode> initStatuses = items(pod, "status", "initContainerStatuses");
        for (int i = 0; i < initStatuses.size(); i++) {
            JsonNode c = initStatuses.get(i);
            restarts += (int) integer(c, "restartCount");
            Instant finished = Cells.time(c, "lastState", "terminated", "finishedAt");
            lastRestart = later(lastRestart, finished, at(c, "lastState", "terminated") != null);
            boolean restartable = restartableInit.contains(text(c, "name"));
            if (restartable) {
                restartableRestarts += (int) integer(c, "restartCount");
                lastRestartableRestart = later(lastRestartableRestart, finished, at(c, "lastState", "terminated") != null);
            }
            JsonNode terminated = at(c, "state", "terminated");
            JsonNode waiting = at(c, "state", "waiting");
            if (terminated != null && integer(terminated, "exitCode") == 0) continue;
            if (restartable && Cells.bool(c, "started")) {
                if (Cells.bool(c, "ready")) ready++;
                continue;
            }
            if (terminated != null) {
                if (text(terminated, "reason").isEmpty()) {
                    reason = integer(terminated, "signal") != 0
                            ? "Init:Signal:" + integer(terminated, "signal")
                            : "Init:ExitCode:" + integer(terminated, "exitCode");
                } else {
                    reason = "Init:" + text(terminated, "reason");
                }
            } else if (waiting != null && !text(waiting, "reason").isEmpty() && !text(waiting, "reason").equals("PodInitializing")) {
                reason = "Init:" + text(waiting, "reason");
            } else {
                reason = "Init:" + i + "/" + initSpecs.size();
            }
            initializing = true;
            break;
        }

        if (!initializing || conditionTrue(pod, "Initialized")) {
            restarts = restartableRestarts;
            lastRestart = lastRestartableRestart;
            boolean hasRunning = false;
            List<JsonNode> statuses = items(pod, "status", "containerStatuses");
            for (int i = statuses.size() - 1; i >= 0; i--) {
                JsonNode c = statuses.get(i);
                restarts += (int) integer(c, "restartCount");
                lastRestart = later(lastRestart, Cells.time(c, "lastState", "terminated", "finishedAt"),
                        at(c, "lastState", "terminated") != null);
                JsonNode waiting = at(c, "state", "waiting");
                JsonNode terminated = at(c, "state", "terminated");
                if (waiting != null && !text(waiting, "reason").isEmpty()) {
                    reason = text(waiting, "reason");
                } else if (terminated != null && !text(terminated, "reason").isEmpty()) {
                    reason = text(terminated, "reason");
                } else if (terminated != null) {
                    reason = integer(terminated, "signal") != 0
                            ? "Signal:" + integer(terminated, "signal")
                            : "ExitCode:" + integer(terminated, "exitCode");
                } else if (Cells.bool(c, "ready") && at(c, "state", "running") != null) {
                    hasRunning = true;
                    ready++;
                }
            }
            // A pod whose last container completed but another still runs is Running (or NotReady).
            if (reason.equals("Completed") && hasRunning) {
                reason = conditionTrue(pod, "Ready") ? "Running" : "NotReady";
            }
        }

        if (Cells.deleting(pod) && text(pod, "status", "reason").equals("NodeLost")) {
            reason = "Unknown";
        } else if (Cells.deleting(pod) && !phase.equals("Succeeded") && !phase.equals("Failed")) {
            reason = "Terminating";
        }

        String restartsText = Integer.toString(restarts);
        if (restarts != 0 && lastRestart != null) {
            restartsText = restarts + " (" + Cells.since(lastRestart, now) + " ago)";
        }

        String podIP = "";
        List<JsonNode> ips = items(pod, "status", "podIPs");
        if (!ips.isEmpty()) podIP = text(ips.get(0), "ip");
        if (podIP.isEmpty()) podIP = "<none>";
        String node = text(pod, "spec", "nodeName");
        if (node.isEmpty()) node = "<none>";
        String nominated = text(pod, "status", "nominatedNodeName");
        if (nominated.isEmpty()) nominated = "<none>";

        String gates = "<none>";
        List<JsonNode> readinessGates = items(pod, "spec", "readinessGates");
        if (!readinessGates.isEmpty()) {
            int trueConditions = 0;
            for (JsonNode gate : readinessGates) {
                for (JsonNode cond : items(pod, "status", "conditions")) {
                    if (text(cond, "type").equals(text(gate, "conditionType"))) {
                        if (text(cond, "status").equals("True")) trueConditions++;
                        break;
                    }
                }
            }
            gates = trueConditions + "/" + readinessGates.size();
        }

        return Cells.row(Cells.name(pod), ready + "/" + totalContainers, reason, restartsText, Cells.age(pod, now),
                podIP, node, nominated, gates);
    }

    // metav1.Time.Before on a zero time: a terminated state without finishedAt counts as the zero time.
    private static Instant later(Instant current, Instant candidate, boolean present) {
        if (!present || candidate == null) return current;
        return current == null || current.isBefore(candidate) ? candidate : current;
    }

    private static boolean conditionTrue(ObjectNode pod, String type) {
        for (JsonNode cond : items(pod, "status", "conditions")) {
            if (text(cond, "type").equals(type) && text(cond, "status").equals("True")) return true;
        }
        return false;
    }
}
