package io.k3j.controllers.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.DeleteOptions;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.common.Owners;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CronJob controller (kube's pkg/controller/cronjob, the v2 controller): creates a Job named
 * {@code <cronjob>-<scheduled minutes since the epoch>} at each schedule time of {@code spec.schedule} in
 * {@code spec.timeZone} (default: the server's zone), honouring {@code concurrencyPolicy},
 * {@code startingDeadlineSeconds} and {@code suspend}; keeps {@code status.active}, {@code lastScheduleTime}
 * and {@code lastSuccessfulTime}; prunes finished Jobs beyond the history limits. A schedule missed by a down
 * controller is started once, for its most recent time; more than 100 missed times also raise a warning.
 * Requeues itself for the next schedule time on the injected clock.
 */
public final class CronJobController implements ManagedController {
    static final String SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp";
    private static final String BY_CRONJOB = "cronjob-by-name";
    /** Requeue a little after the schedule time, so the time has surely come (kube's nextScheduleDelta). */
    private static final Duration NEXT_SCHEDULE_DELTA = Duration.ofMillis(100);
    private static final int TOO_MANY_MISSED = 100;

    private final ApiClient api;
    private final ResourceType cronJobType;
    private final ResourceType jobType;
    private final SharedInformer cronJobs;
    private final SharedInformer jobs;
    private final EventRecorder events;
    private final Clock clock;
    private final Controller controller;
    private final Map<String, ObjectNode> written = new ConcurrentHashMap<>();

    public CronJobController(ControllerContext ctx) {
        this.api = ctx.api("cronjob-controller");
        this.cronJobType = api.type("batch", "v1", "cronjobs");
        this.jobType = api.type("batch", "v1", "jobs");
        this.cronJobs = ctx.informer("batch", "v1", "cronjobs");
        this.jobs = ctx.informer("batch", "v1", "jobs");
        this.events = ctx.events("cronjob-controller");
        this.clock = ctx.clock();
        this.controller = new Controller("cronjob-controller", clock, 5, this::sync);
        jobs.addIndexer(BY_CRONJOB, j -> {
            JsonNode ref = Owners.controllerRef(j);
            if (ref == null || !ref.path("kind").asText().equals("CronJob")) return List.of();
            return List.of(Keys.of(Meta.namespace(j), ref.path("name").asText()));
        });
        cronJobs.addHandler(SharedInformer.Handler.onAddOrUpdate(o -> controller.enqueue(Keys.of(o))));
        jobs.addHandler(SharedInformer.Handler.onEvery(this::jobChanged));
    }

    private void jobChanged(ObjectNode job) {
        JsonNode ref = Owners.controllerRef(job);
        if (ref != null && ref.path("kind").asText().equals("CronJob")) controller.enqueue(Keys.of(Meta.namespace(job), ref.path("name").asText()));
    }

    @Override
    public void start() {
        controller.start();
    }

    @Override
    public void close() {
        controller.close();
    }

    private Duration sync(String key) {
        ObjectNode informed = cronJobs.get(key);
        if (informed == null) {
            written.remove(key);
            return null;
        }
        ObjectNode cj = informed.deepCopy();
        ObjectNode mine = written.get(key);
        if (mine != null && Meta.uid(mine).equals(Meta.uid(cj)) && rv(mine) > rv(cj)) cj = mine.deepCopy();
        if (Meta.deleting(cj)) return null;
        String uid = Meta.uid(cj);
        List<ObjectNode> children = new ArrayList<>();
        for (ObjectNode j : jobs.byIndex(BY_CRONJOB, key)) {
            if (Owners.controllerRef(j).path("uid").asText().equals(uid)) children.add(j);
        }
        ObjectNode status = cj.get("status") instanceof ObjectNode s ? s.deepCopy() : Json.object();
        ObjectNode before = status.deepCopy();
        Duration requeue = reconcile(cj, children, status);
        cleanupFinishedJobs(cj, children, status);
        if (!status.equals(before)) {
            cj.set("status", status);
            written.put(key, api.updateStatus(cronJobType, cj));
        }
        return requeue;
    }

    private static long rv(JsonNode obj) {
        try {
            return Long.parseLong(Meta.resourceVersion(obj));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** kube's syncCronJob: the active list, then (unless suspended) the schedule; returns when to look again. */
    private Duration reconcile(ObjectNode cj, List<ObjectNode> children, ObjectNode status) {
        for (ObjectNode j : children) {
            boolean listed = inActive(status, Meta.uid(j));
            boolean finished = JobStatuses.finished(j);
            if (!listed && !finished) {
                event(cj, "Warning", "UnexpectedJob", "Saw a job that the controller did not create or forgot: " + Meta.name(j));
            } else if (listed && finished) {
                removeActive(status, Meta.uid(j));
                event(cj, "Normal", "SawCompletedJob", "Saw completed job: " + Meta.name(j) + ", condition: " + JobStatuses.finishedType(j));
            } else if (finished) {
                Instant done = Pods.time(j.path("status").path("completionTime").asText(""));
                Instant last = Pods.time(status.path("lastSuccessfulTime").asText(""));
                if (done != null && (last == null || done.isAfter(last))) status.put("lastSuccessfulTime", Meta.timestamp(done));
            }
        }
        // active Jobs that vanished (deleted by someone else)
        ArrayNode active = status.has("active") && status.get("active").isArray() ? (ArrayNode) status.get("active") : null;
        if (active != null) {
            for (int i = active.size() - 1; i >= 0; i--) {
                JsonNode ref = active.get(i);
                boolean child = children.stream().anyMatch(j -> Meta.uid(j).equals(ref.path("uid").asText()));
                if (child) continue;
                ObjectNode j = api.find(jobType, Meta.namespace(cj), ref.path("name").asText()).orElse(null);
                if (j == null || !Meta.uid(j).equals(ref.path("uid").asText())) {
                    event(cj, "Normal", "MissingJob", "Active job went missing: " + ref.path("name").asText());
                    active.remove(i);
                }
            }
            if (active.isEmpty()) status.remove("active");
        }

        JsonNode spec = cj.path("spec");
        if (spec.path("suspend").asBoolean(false)) return null;
        ZoneId zone = ZoneId.systemDefault();
        String tz = spec.path("timeZone").asText("");
        if (!tz.isEmpty()) {
            try {
                zone = ZoneId.of(tz);
            } catch (DateTimeException e) {
                event(cj, "Warning", "UnknownTimeZone", "invalid timeZone: \"" + tz + "\": unknown time zone " + tz);
                return null;
            }
        }
        String schedule = spec.path("schedule").asText("");
        if (schedule.contains("TZ") && !tz.isEmpty()) {
            event(cj, "Warning", "UnsupportedSchedule", "CRON_TZ or TZ used in schedule \"" + schedule + "\" is not officially supported, "
                    + "see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details");
        }
        CronSchedule sched;
        try {
            sched = CronSchedule.parse(schedule, zone);
        } catch (IllegalArgumentException e) {
            event(cj, "Warning", "UnparseableSchedule", "unparseable schedule: \"" + schedule + "\" : " + e.getMessage());
            return null;
        }
        Instant now = clock.instant();
        Recent recent = mostRecent(cj, status, now, sched, true);
        if (recent.tooMany) {
            event(cj, "Warning", "TooManyMissedTimes",
                    "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
        }
        Instant scheduled = recent.mostRecent;
        if (scheduled == null || scheduled.isAfter(now)) return nextDelay(cj, status, now, sched);
        if (spec.hasNonNull("startingDeadlineSeconds") && scheduled.plusSeconds(spec.get("startingDeadlineSeconds").asLong()).isBefore(now)) {
            event(cj, "Warning", "MissSchedule", "Missed scheduled time to start a job: "
                    + DateTimeFormatter.RFC_1123_DATE_TIME.format(scheduled.atZone(zone)));
            return nextDelay(cj, status, now, sched);
        }
        String jobName = jobName(cj, scheduled);
        Instant lastScheduled = Pods.time(status.path("lastScheduleTime").asText(""));
        if (inActiveByName(status, jobName) || scheduled.equals(lastScheduled)) return nextDelay(cj, status, now, sched);
        String policy = spec.path("concurrencyPolicy").asText("Allow");
        if (policy.equals("Forbid") && status.path("active").size() > 0) {
            event(cj, "Normal", "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid");
            return nextDelay(cj, status, now, sched);
        }
        if (policy.equals("Replace") && status.has("active")) {
            ArrayNode act = (ArrayNode) status.get("active");
            for (int i = act.size() - 1; i >= 0; i--) {
                JsonNode ref = act.get(i);
                deleteJob(cj, ref.path("name").asText(), ref.path("uid").asText());
                act.remove(i);
            }
            status.remove("active");
        }
        ObjectNode job = jobFromTemplate(cj, jobName, scheduled, zone);
        ObjectNode created;
        try {
            created = api.create(jobType, Meta.namespace(cj), job);
            event(cj, "Normal", "SuccessfulCreate", "Created job " + jobName);
        } catch (ApiException e) {
            if (e.code() != 409) {
                event(cj, "Warning", "FailedCreate", "Error creating job: " + e.getMessage());
                throw e;
            }
            // created by an earlier pass whose status write was lost: adopt it into the status if it is ours
            created = api.find(jobType, Meta.namespace(cj), jobName).orElse(null);
            if (created == null || !Owners.controlledBy(created, cj)) return null;
        }
        if (!inActive(status, Meta.uid(created))) {
            ArrayNode act = status.has("active") && status.get("active").isArray() ? (ArrayNode) status.get("active") : status.putArray("active");
            act.addObject().put("kind", "Job").put("namespace", Meta.namespace(created)).put("name", Meta.name(created))
                    .put("uid", Meta.uid(created)).put("apiVersion", "batch/v1").put("resourceVersion", Meta.resourceVersion(created));
        }
        status.put("lastScheduleTime", Meta.timestamp(scheduled));
        return nextDelay(cj, status, now, sched);
    }

    private record Recent(Instant earliest, Instant mostRecent, boolean tooMany) {}

    /** kube's mostRecentScheduleTime: the latest schedule time at or before now since the last one started (or creation). */
    private static Recent mostRecent(JsonNode cj, JsonNode status, Instant now, CronSchedule sched, boolean withDeadline) {
        Instant earliest = Pods.time(status.path("lastScheduleTime").asText(""));
        if (earliest == null) earliest = Pods.created(cj);
        JsonNode deadline = cj.path("spec").get("startingDeadlineSeconds");
        if (withDeadline && deadline != null && deadline.isNumber()) {
            Instant schedulingDeadline = now.minusSeconds(deadline.asLong());
            if (schedulingDeadline.isAfter(earliest)) earliest = schedulingDeadline;
        }
        Instant t1 = sched.next(earliest);
        if (t1 == null || now.isBefore(t1)) return new Recent(earliest, null, false);
        Instant t2 = sched.next(t1);
        if (t2 == null || now.isBefore(t2)) return new Recent(earliest, t1, false);
        // count missed times without walking them all: step by the interval, then correct with next()
        long between = Duration.between(t1, t2).getSeconds();
        long missed = Duration.between(t1, now).getSeconds() / Math.max(between, 1) + 1;
        Instant most = missed > 1 ? t1.plusSeconds((missed - 1) * between) : t1;
        if (most.isAfter(now)) most = t1;
        for (Instant t = sched.next(most); t != null && !t.isAfter(now); t = sched.next(t)) most = t;
        return new Recent(earliest, most, missed > TOO_MANY_MISSED);
    }

    private static Duration nextDelay(JsonNode cj, JsonNode status, Instant now, CronSchedule sched) {
        Recent r = mostRecent(cj, status, now, sched, false);
        Instant next = sched.next(r.mostRecent != null ? r.mostRecent : r.earliest);
        if (next == null) return null;
        while (!next.isAfter(now)) { // never spin on a time already past
            next = sched.next(next);
            if (next == null) return null;
        }
        return Duration.between(now, next).plus(NEXT_SCHEDULE_DELTA);
    }

    static String jobName(JsonNode cj, Instant scheduled) {
        return Meta.name(cj) + "-" + scheduled.getEpochSecond() / 60;
    }

    private static ObjectNode jobFromTemplate(ObjectNode cj, String name, Instant scheduled, ZoneId zone) {
        JsonNode template = cj.path("spec").path("jobTemplate");
        ObjectNode job = Json.object();
        job.put("apiVersion", "batch/v1").put("kind", "Job");
        ObjectNode meta = job.putObject("metadata");
        meta.put("name", name).put("namespace", Meta.namespace(cj));
        JsonNode tm = template.path("metadata");
        if (tm.get("labels") instanceof ObjectNode l) meta.set("labels", l.deepCopy());
        ObjectNode ann = tm.get("annotations") instanceof ObjectNode a ? a.deepCopy() : Json.object();
        ann.put(SCHEDULED_TIMESTAMP, DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(scheduled.truncatedTo(ChronoUnit.SECONDS).atZone(zone)));
        meta.set("annotations", ann);
        meta.putArray("ownerReferences").add(Owners.reference(cj, "batch/v1", "CronJob"));
        job.set("spec", template.path("spec").isObject() ? template.get("spec").deepCopy() : Json.object());
        return job;
    }

    /** Deletes finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest first. */
    private void cleanupFinishedJobs(ObjectNode cj, List<ObjectNode> children, ObjectNode status) {
        JsonNode spec = cj.path("spec");
        if (!spec.hasNonNull("successfulJobsHistoryLimit") && !spec.hasNonNull("failedJobsHistoryLimit")) return;
        List<ObjectNode> succeeded = new ArrayList<>();
        List<ObjectNode> failed = new ArrayList<>();
        for (ObjectNode j : children) {
            if (Meta.deleting(j)) continue;
            String t = JobStatuses.finishedType(j);
            if (JobStatuses.COMPLETE.equals(t)) succeeded.add(j);
            else if (JobStatuses.FAILED.equals(t)) failed.add(j);
        }
        if (spec.hasNonNull("successfulJobsHistoryLimit")) prune(cj, succeeded, spec.get("successfulJobsHistoryLimit").asInt(), status);
        if (spec.hasNonNull("failedJobsHistoryLimit")) prune(cj, failed, spec.get("failedJobsHistoryLimit").asInt(), status);
    }

    private void prune(ObjectNode cj, List<ObjectNode> finished, int limit, ObjectNode status) {
        if (finished.size() <= limit) return;
        // by start time, Jobs that never started last, then by name (kube's byJobStartTime)
        finished.sort(Comparator.<ObjectNode, Instant>comparing(j -> Pods.time(j.path("status").path("startTime").asText("")),
                Comparator.nullsLast(Comparator.naturalOrder())).thenComparing(Meta::name));
        for (int i = 0; i < finished.size() - limit; i++) {
            ObjectNode j = finished.get(i);
            if (deleteJob(cj, Meta.name(j), Meta.uid(j))) removeActive(status, Meta.uid(j));
        }
    }

    private boolean deleteJob(ObjectNode cj, String name, String uid) {
        try {
            api.delete(jobType, Meta.namespace(cj), name, new DeleteOptions(null, "Background", uid.isEmpty() ? null : uid, null, false));
        } catch (ApiException e) {
            if (e.code() == 404) return true;
            event(cj, "Warning", "FailedDelete", "Deleted job: " + e.getMessage());
            return false;
        }
        event(cj, "Normal", "SuccessfulDelete", "Deleted job " + name);
        return true;
    }

    private void event(ObjectNode cj, String type, String reason, String message) {
        events.event(cj, "batch/v1", "CronJob", type, reason, message);
    }

    private static boolean inActive(JsonNode status, String uid) {
        for (JsonNode r : status.path("active")) if (r.path("uid").asText().equals(uid)) return true;
        return false;
    }

    private static boolean inActiveByName(JsonNode status, String name) {
        for (JsonNode r : status.path("active")) if (r.path("name").asText().equals(name)) return true;
        return false;
    }

    private static void removeActive(ObjectNode status, String uid) {
        if (!(status.get("active") instanceof ArrayNode act)) return;
        for (int i = act.size() - 1; i >= 0; i--) if (act.get(i).path("uid").asText().equals(uid)) act.remove(i);
        if (act.isEmpty()) status.remove("active");
    }
}
