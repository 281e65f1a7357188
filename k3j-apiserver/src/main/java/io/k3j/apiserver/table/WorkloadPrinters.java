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
import io.k3j.api.ApiException;
import io.k3j.api.select.LabelSelector;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs, ReplicationControllers, ControllerRevisions. */
final class WorkloadPrinters {
    private WorkloadPrinters() {}

    private static List<Object> withContainers(List<Object> row, JsonNode podSpec) {
        row.addAll(Cells.containers(podSpec));
        return row;
    }

    static final TablePrinter DEPLOYMENTS = new SimplePrinter(List.of(
            Cells.name(),
            col("Ready", "string", "Number of the pod with ready state"),
            col("Up-to-date", "string", Descriptions.of("extensions.DeploymentStatus.updatedReplicas")),
            col("Available", "string", Descriptions.of("extensions.DeploymentStatus.availableReplicas")),
            Cells.age(),
            wide("Containers", "string", Cells.CONTAINERS),
            wide("Images", "string", Cells.IMAGES),
            wide("Selector", "string", Descriptions.of("extensions.DeploymentSpec.selector"))),
            (d, now) -> {
                String selector;
                try {
                    selector = LabelSelector.fromJson(at(d, "spec", "selector")).toString();
                } catch (ApiException e) {
                    selector = "<invalid>";
                }
                List<Object> row = Cells.row(name(d),
                        integer(d, "status", "readyReplicas") + "/" + integer(d, "spec", "replicas"),
                        integer(d, "status", "updatedReplicas"), integer(d, "status", "availableReplicas"), age(d, now));
                withContainers(row, at(d, "spec", "template", "spec"));
                row.add(selector);
                return row;
            });

    static final TablePrinter REPLICA_SETS = new SimplePrinter(List.of(
            Cells.name(),
            col("Desired", "integer", Descriptions.of("extensions.ReplicaSetSpec.replicas")),
            col("Current", "integer", Descriptions.of("extensions.ReplicaSetStatus.replicas")),
            col("Ready", "integer", Descriptions.of("extensions.ReplicaSetStatus.readyReplicas")),
            Cells.age(),
            wide("Containers", "string", Cells.CONTAINERS),
            wide("Images", "string", Cells.IMAGES),
            wide("Selector", "string", Descriptions.of("extensions.ReplicaSetSpec.selector"))),
            (rs, now) -> {
                List<Object> row = Cells.row(name(rs), integer(rs, "spec", "replicas"), integer(rs, "status", "replicas"),
                        integer(rs, "status", "readyReplicas"), age(rs, now));
                withContainers(row, at(rs, "spec", "template", "spec"));
                row.add(Cells.formatLabelSelector(at(rs, "spec", "selector")));
                return row;
            });

    static final TablePrinter REPLICATION_CONTROLLERS = new SimplePrinter(List.of(
            Cells.name(),
            col("Desired", "integer", Descriptions.of("core.ReplicationControllerSpec.replicas")),
            col("Current", "integer", Descriptions.of("core.ReplicationControllerStatus.replicas")),
            col("Ready", "integer", Descriptions.of("core.ReplicationControllerStatus.readyReplicas")),
            Cells.age(),
            wide("Containers", "string", Cells.CONTAINERS),
            wide("Images", "string", Cells.IMAGES),
            wide("Selector", "string", Descriptions.of("core.ReplicationControllerSpec.selector"))),
            (rc, now) -> {
                List<Object> row = Cells.row(name(rc), integer(rc, "spec", "replicas"), integer(rc, "status", "replicas"),
                        integer(rc, "status", "readyReplicas"), age(rc, now));
                withContainers(row, at(rc, "spec", "template", "spec"));
                row.add(Cells.formatLabels(Cells.stringMap(rc, "spec", "selector")));
                return row;
            });

    static final TablePrinter STATEFUL_SETS = new SimplePrinter(List.of(
            Cells.name(),
            col("Ready", "string", "Number of the pod with ready state"),
            Cells.age(),
            wide("Containers", "string", Cells.CONTAINERS),
            wide("Images", "string", Cells.IMAGES)),
            (s, now) -> withContainers(Cells.row(name(s),
                    integer(s, "status", "readyReplicas") + "/" + integer(s, "spec", "replicas"), age(s, now)),
                    at(s, "spec", "template", "spec")));

    static final TablePrinter DAEMON_SETS = new SimplePrinter(List.of(
            Cells.name(),
            col("Desired", "integer", Descriptions.of("extensions.DaemonSetStatus.desiredNumberScheduled")),
            col("Current", "integer", Descriptions.of("extensions.DaemonSetStatus.currentNumberScheduled")),
            col("Ready", "integer", Descriptions.of("extensions.DaemonSetStatus.numberReady")),
            col("Up-to-date", "integer", Descriptions.of("extensions.DaemonSetStatus.updatedNumberScheduled")),
            col("Available", "integer", Descriptions.of("extensions.DaemonSetStatus.numberAvailable")),
            col("Node Selector", "string", Descriptions.of("core.PodSpec.nodeSelector")),
            Cells.age(),
            wide("Containers", "string", Cells.CONTAINERS),
            wide("Images", "string", Cells.IMAGES),
            wide("Selector", "string", Descriptions.of("extensions.DaemonSetSpec.selector"))),
            (ds, now) -> {
                List<Object> row = Cells.row(name(ds), integer(ds, "status", "desiredNumberScheduled"),
                        integer(ds, "status", "currentNumberScheduled"), integer(ds, "status", "numberReady"),
                        integer(ds, "status", "updatedNumberScheduled"), integer(ds, "status", "numberAvailable"),
                        Cells.formatLabels(Cells.stringMap(ds, "spec", "template", "spec", "nodeSelector")), age(ds, now));
                withContainers(row, at(ds, "spec", "template", "spec"));
                row.add(Cells.formatLabelSelector(at(ds, "spec", "selector")));
                return row;
            });

    static final TablePrinter JOBS = new SimplePrinter(List.of(
            Cells.name(),
            col("Status", "string", "Status of the job."),
            col("Completions", "string", Descriptions.of("batch.JobStatus.succeeded")),
            col("Duration", "string", "Time required to complete the job."),
            Cells.age(),
            wide("Containers", "string", Cells.CONTAINERS),
            wide("Images", "string", Cells.IMAGES),
            wide("Selector", "string", Descriptions.of("batch.JobSpec.selector"))),
            (job, now) -> {
                long succeeded = integer(job, "status", "succeeded");
                String completions;
                if (at(job, "spec", "completions") != null) {
                    completions = succeeded + "/" + integer(job, "spec", "completions");
                } else {
                    long parallelism = integer(job, "spec", "parallelism");
                    completions = parallelism > 1 ? succeeded + "/1 of " + parallelism : succeeded + "/1";
                }
                Instant start = Cells.time(job, "status", "startTime");
                Instant completion = Cells.time(job, "status", "completionTime");
                String duration = start == null ? ""
                        : HumanDuration.format(Duration.between(start, completion == null ? now : completion));
                List<Object> row = Cells.row(name(job), jobStatus(job), completions, duration, age(job, now));
                withContainers(row, at(job, "spec", "template", "spec"));
                row.add(Cells.formatLabelSelector(at(job, "spec", "selector")));
                return row;
            });

    private static String jobStatus(ObjectNode job) {
        if (jobCondition(job, "Complete")) return "Complete";
        if (jobCondition(job, "Failed")) return "Failed";
        if (Cells.deleting(job)) return "Terminating";
        if (jobCondition(job, "Suspended")) return "Suspended";
        if (jobCondition(job, "FailureTarget")) return "FailureTarget";
        if (jobCondition(job, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
        return "Running";
    }

    // hasJobCondition: the first condition of the type decides.
    private static boolean jobCondition(ObjectNode job, String type) {
        for (JsonNode c : items(job, "status", "conditions")) {
            if (text(c, "type").equals(type)) return text(c, "status").equals("True");
        }
        return false;
    }

    static final TablePrinter CRON_JOBS = new SimplePrinter(List.of(
            Cells.name(),
            col("Schedule", "string", Descriptions.of("batch.CronJobSpec.schedule")),
            col("Timezone", "string", Descriptions.of("batch.CronJobSpec.timeZone")),
            col("Suspend", "boolean", Descriptions.of("batch.CronJobSpec.suspend")),
            col("Active", "integer", Descriptions.of("batch.CronJobStatus.active")),
            col("Last Schedule", "string", Descriptions.of("batch.CronJobStatus.lastScheduleTime")),
            Cells.age(),
            wide("Containers", "string", Cells.CONTAINERS),
            wide("Images", "string", Cells.IMAGES),
            wide("Selector", "string", Descriptions.of("batch.JobSpec.selector"))),
            (cj, now) -> {
                Instant last = Cells.time(cj, "status", "lastScheduleTime");
                JsonNode tz = at(cj, "spec", "timeZone");
                JsonNode suspend = at(cj, "spec", "suspend");
                // printBoolPtr: a string, not a boolean, despite the column type.
                String suspendText = suspend == null ? "<unset>" : suspend.asBoolean() ? "True" : "False";
                List<Object> row = Cells.row(name(cj), text(cj, "spec", "schedule"), tz == null ? "<none>" : tz.asText(),
                        suspendText, (long) items(cj, "status", "active").size(),
                        last == null ? "<none>" : Cells.since(last, now), age(cj, now));
                withContainers(row, at(cj, "spec", "jobTemplate", "spec", "template", "spec"));
                row.add(Cells.formatLabelSelector(at(cj, "spec", "jobTemplate", "spec", "selector")));
                return row;
            });

    static final TablePrinter CONTROLLER_REVISIONS = new SimplePrinter(List.of(
            Cells.name(),
            col("Controller", "string", "Controller of the object"),
            col("Revision", "string", Descriptions.of("apps.ControllerRevision.revision")),
            Cells.age()),
            (cr, now) -> {
                String controller = "<none>";
                for (JsonNode ref : items(cr, "metadata", "ownerReferences")) {
                    if (!Cells.bool(ref, "controller")) continue;
                    String apiVersion = text(ref, "apiVersion");
                    String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
                    String kind = text(ref, "kind");
                    String groupKind = group.isEmpty() ? kind : kind + "." + group;
                    controller = groupKind.isEmpty() ? text(ref, "name") : groupKind.toLowerCase() + "/" + text(ref, "name");
                    break;
                }
                return Cells.row(name(cr), controller, integer(cr, "revision"), age(cr, now));
            });
}
