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
import io.k3j.controllers.common.PodTemplates;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.Indexers;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Job controller (kube's pkg/controller/job): runs a Job's pods to {@code completions} successes with at
 * most {@code parallelism} at a time, in NonIndexed or Indexed completion mode; fails the Job past
 * {@code backoffLimit} pod failures, past {@code activeDeadlineSeconds}, or when {@code podFailurePolicy} says
 * so; recreates failed pods after an exponential backoff (10 s doubling, at most 6 min); deletes the pods of a
 * suspended Job.
 *
 * <p>Pods are tracked with the {@code batch.kubernetes.io/job-tracking} finalizer (KEP-2307): a finished pod is
 * first recorded in {@code status.uncountedTerminatedPods}, then its finalizer is removed, then it moves to the
 * succeeded/failed counters, so no pod is counted twice or lost even if the pod is deleted meanwhile. As in
 * kube ≥ 1.31 the Job first gets the interim {@code SuccessCriteriaMet}/{@code FailureTarget} condition and
 * only once no pod is left terminating the terminal {@code Complete}/{@code Failed} one.
 */
public final class JobController implements ManagedController {
    static final String TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";
    static final String INDEX_KEY = "batch.kubernetes.io/job-completion-index";
    static final Duration DEFAULT_BACKOFF = Duration.ofSeconds(10);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(6);
    private static final String BY_JOB = "job-by-name";
    private static final int MAX_CREATE_DELETE_PER_SYNC = 500;
    private static final long EXPECTATIONS_TIMEOUT_NANOS = Duration.ofMinutes(5).toNanos();

    private final ApiClient api;
    private final ResourceType jobType;
    private final ResourceType podType;
    private final SharedInformer jobs;
    private final SharedInformer pods;
    private final EventRecorder events;
    private final Clock clock;
    private final Controller controller;
    /** Pods created (by name) or deleted (by uid) that the pod informer has not shown yet, per job key. */
    private final Map<String, Expectations> expectations = new ConcurrentHashMap<>();
    /** Pods whose finalizer this controller removed, until the informer shows it gone (kube's finalizerExpectations). */
    private final Set<String> finalizersRemoved = ConcurrentHashMap.newKeySet();
    /** Consecutive counted failures since the last success and when the last was seen, per job key. */
    private final Map<String, Backoff> backoffs = new ConcurrentHashMap<>();
    /** The newest Job this controller wrote, so a sync never acts on an informer copy older than its own write. */
    private final Map<String, ObjectNode> written = new ConcurrentHashMap<>();

    private record Backoff(int failures, Instant lastFailure) {}

    private static final class Expectations {
        final Set<String> creates = ConcurrentHashMap.newKeySet();
        final Set<String> deletes = ConcurrentHashMap.newKeySet();
        volatile long since = System.nanoTime();
    }

    public JobController(ControllerContext ctx) {
        this.api = ctx.api("job-controller");
        this.jobType = api.type("batch", "v1", "jobs");
        this.podType = api.type("", "v1", "pods");
        this.jobs = ctx.informer("batch", "v1", "jobs");
        this.pods = ctx.informer("", "v1", "pods");
        this.events = ctx.events("job-controller");
        this.clock = ctx.clock();
        this.controller = new Controller("job-controller", clock, 5, this::sync);
        pods.addIndexer(BY_JOB, p -> {
            JsonNode ref = Owners.controllerRef(p);
            if (ref == null || !ref.path("kind").asText().equals("Job") || !ref.path("apiVersion").asText().startsWith("batch/")) {
                return List.of();
            }
            return List.of(Keys.of(Meta.namespace(p), ref.path("name").asText()));
        });
        jobs.addHandler(SharedInformer.Handler.onEvery(o -> controller.enqueue(Keys.of(o))));
        pods.addHandler(SharedInformer.Handler.onEvery(this::podChanged));
    }

    private void podChanged(ObjectNode pod) {
        JsonNode ref = Owners.controllerRef(pod);
        if (ref == null || !ref.path("kind").asText().equals("Job")) return;
        controller.enqueue(Keys.of(Meta.namespace(pod), ref.path("name").asText()));
    }

    @Override
    public void start() {
        controller.start();
    }

    @Override
    public void close() {
        controller.close();
    }

    // ---------------------------------------------------------------------------------------------- sync

    private Duration sync(String key) {
        String ns = Keys.namespace(key);
        String name = Keys.name(key);
        ObjectNode job = newest(key, jobs.get(key));
        List<ObjectNode> all = pods.byIndex(BY_JOB, key);
        forgetRemovedFinalizers(all);
        if (job == null) {
            // the Job is gone: its pods must not keep a finalizer nobody will remove
            for (ObjectNode p : all) releasePod(p);
            expectations.remove(key);
            backoffs.remove(key);
            written.remove(key);
            return null;
        }
        String uid = Meta.uid(job);
        List<ObjectNode> owned = new ArrayList<>();
        for (ObjectNode p : all) {
            if (Owners.controllerRef(p).path("uid").asText().equals(uid)) owned.add(p);
            else releasePod(p); // a pod of an earlier Job of the same name
        }
        if (Meta.deleting(job) || JobStatuses.finished(job)) {
            for (ObjectNode p : owned) releasePod(p);
            return null;
        }
        return new Sync(key, job, owned).run();
    }

    /** The informer's Job, or the one this controller last wrote if that is newer. */
    private ObjectNode newest(String key, ObjectNode fromInformer) {
        ObjectNode mine = written.get(key);
        if (fromInformer == null) return null;
        if (mine != null && Meta.uid(mine).equals(Meta.uid(fromInformer)) && rv(mine) > rv(fromInformer)) return mine.deepCopy();
        return fromInformer.deepCopy();
    }

    private static long rv(JsonNode obj) {
        try {
            return Long.parseLong(Meta.resourceVersion(obj));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private void forgetRemovedFinalizers(List<ObjectNode> observed) {
        for (ObjectNode p : observed) {
            if (!hasFinalizer(p)) finalizersRemoved.remove(Meta.uid(p));
        }
    }

    static boolean hasFinalizer(JsonNode pod) {
        return Meta.finalizers(pod).contains(TRACKING_FINALIZER);
    }

    /** Removes the tracking finalizer (a no-op when it is not there or the pod is gone). */
    private void releasePod(ObjectNode pod) {
        if (!hasFinalizer(pod) || finalizersRemoved.contains(Meta.uid(pod))) return;
        removeFinalizer(pod);
    }

    private void removeFinalizer(ObjectNode pod) {
        String podUid = Meta.uid(pod);
        try {
            api.modify(podType, Meta.namespace(pod), Meta.name(pod), "", p -> {
                if (!Meta.uid(p).equals(podUid)) throw ApiException.conflict("", "pods", Meta.name(pod), "replaced");
                List<String> f = Meta.finalizers(p);
                f.remove(TRACKING_FINALIZER);
                Meta.setFinalizers(p, f);
                return p;
            });
        } catch (ApiException e) {
            if (e.code() != 404 && e.code() != 409) throw e;
        }
        finalizersRemoved.add(podUid);
    }

    private boolean expectationsSatisfied(String key) {
        Expectations ex = expectations.get(key);
        if (ex == null) return true;
        String ns = Keys.namespace(key);
        ex.creates.removeIf(n -> pods.get(ns, n) != null);
        ex.deletes.removeIf(u -> {
            for (ObjectNode p : pods.byIndex(BY_JOB, key)) {
                if (Meta.uid(p).equals(u)) return Meta.deleting(p);
            }
            return true;
        });
        if (ex.creates.isEmpty() && ex.deletes.isEmpty()) return true;
        if (System.nanoTime() - ex.since > EXPECTATIONS_TIMEOUT_NANOS) { // a missed watch event must not wedge the Job
            expectations.remove(key);
            return true;
        }
        return false;
    }

    private Expectations expect(String key) {
        Expectations ex = expectations.computeIfAbsent(key, k -> new Expectations());
        ex.since = System.nanoTime();
        return ex;
    }

    static int completionIndex(JsonNode pod) {
        String v = Json.text(pod.path("metadata").get("annotations"), INDEX_KEY);
        if (v.isEmpty()) v = Json.text(pod.path("metadata").get("labels"), INDEX_KEY);
        if (!v.matches("[0-9]{1,9}")) return -1;
        return Integer.parseInt(v);
    }

    /** One pass over one Job: what kube's syncJob does, in the same order. */
    private final class Sync {
        final String key;
        final ObjectNode job;
        final JsonNode spec;
        final List<ObjectNode> owned;
        final ObjectNode status;
        final ObjectNode before;
        final Instant now = clock.instant();
        final boolean indexed;
        final boolean suspended;
        final Integer completions;
        final int parallelism;
        final int backoffLimit;
        final boolean onlyFailedReplaced;
        Duration requeue;

        Sync(String key, ObjectNode job, List<ObjectNode> owned) {
            this.key = key;
            this.job = job;
            this.spec = job.path("spec");
            this.owned = owned;
            this.status = JobStatuses.statusCopy(job);
            this.before = status.deepCopy();
            this.indexed = spec.path("completionMode").asText("NonIndexed").equals("Indexed");
            this.suspended = spec.path("suspend").asBoolean(false);
            this.completions = JobStatuses.intOrNull(spec, "completions");
            this.parallelism = JobStatuses.intOr(spec, "parallelism", 1);
            this.backoffLimit = JobStatuses.intOr(spec, "backoffLimit", 6);
            this.onlyFailedReplaced = spec.path("podReplacementPolicy").asText("").equals("Failed");
        }

        Duration run() {
            List<ObjectNode> active = new ArrayList<>();
            int terminating = 0;
            for (ObjectNode p : owned) {
                if (Pods.active(p)) active.add(p);
                else if (Meta.deleting(p) && !Pods.terminal(p)) terminating++;
            }
            suspension();
            if (!status.hasNonNull("startTime") && !suspended) status.put("startTime", Meta.timestamp(now));

            // pods that finished since the last pass (kube's getNewFinishedPods)
            Set<String> uncountedSucceeded = uidSet("succeeded");
            Set<String> uncountedFailed = uidSet("failed");
            List<ObjectNode> newSucceeded = new ArrayList<>();
            List<ObjectNode> newFailed = new ArrayList<>();
            List<ObjectNode> ignored = new ArrayList<>();
            String failJobMessage = null;
            for (ObjectNode p : owned) {
                String podUid = Meta.uid(p);
                if (!hasFinalizer(p) || finalizersRemoved.contains(podUid)) continue;
                if (uncountedSucceeded.contains(podUid) || uncountedFailed.contains(podUid)) continue;
                if (Pods.phase(p).equals("Succeeded")) {
                    newSucceeded.add(p);
                } else if (podFailed(p)) {
                    if (Pods.phase(p).equals("Failed") && spec.hasNonNull("podFailurePolicy")) {
                        PodFailurePolicy.Verdict v = PodFailurePolicy.evaluate(job, p);
                        if (v.action() == PodFailurePolicy.Action.IGNORE) {
                            ignored.add(p);
                            continue;
                        }
                        if (v.action() == PodFailurePolicy.Action.FAIL_JOB && failJobMessage == null) failJobMessage = v.message();
                    }
                    newFailed.add(p);
                }
            }
            BitSet succeededIndexes = indexed ? Indexes.parse(status.path("completedIndexes").asText(""), completions) : null;
            if (indexed) {
                for (ObjectNode p : newSucceeded) {
                    int ix = completionIndex(p);
                    if (ix >= 0 && ix < completions) succeededIndexes.set(ix);
                }
            }
            int succeeded = indexed ? succeededIndexes.cardinality()
                    : JobStatuses.intOr(status, "succeeded", 0) + uncountedSucceeded.size() + newSucceeded.size();
            int failed = JobStatuses.intOr(status, "failed", 0) + uncountedFailed.size() + newFailed.size();
            recordBackoff(newSucceeded, newFailed);

            // is the Job done for?
            String[] finish = null; // {type, reason, message}
            JsonNode target = JobStatuses.condition(job, "FailureTarget");
            JsonNode criteria = JobStatuses.condition(job, "SuccessCriteriaMet");
            if (target != null && target.path("status").asText().equals("True")) {
                finish = new String[] {"FailureTarget", target.path("reason").asText(""), target.path("message").asText("")};
            } else if (criteria != null && criteria.path("status").asText().equals("True")) {
                finish = new String[] {"SuccessCriteriaMet", criteria.path("reason").asText(""), criteria.path("message").asText("")};
            } else if (failJobMessage != null) {
                finish = new String[] {"FailureTarget", "PodFailurePolicy", failJobMessage};
            } else if (failed > backoffLimit || pastBackoffLimitOnFailure(active)) {
                finish = new String[] {"FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"};
            } else if (pastActiveDeadline()) {
                finish = new String[] {"FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline"};
            } else if (spec.hasNonNull("activeDeadlineSeconds") && !suspended && status.hasNonNull("startTime")) {
                Instant start = Pods.time(status.path("startTime").asText());
                if (start != null) later(Duration.between(now, start.plusSeconds(spec.get("activeDeadlineSeconds").asLong())));
            }

            int activeCount = active.size();
            if (finish != null) {
                int deleted = deletePods(active, active.size());
                activeCount -= deleted;
                terminating += deleted;
            } else {
                if (expectationsSatisfied(key)) activeCount = manage(active, succeeded, succeededIndexes, terminating);
                boolean complete = completions == null ? succeeded > 0 && activeCount == 0 : succeeded >= completions && activeCount == 0;
                if (complete) finish = new String[] {"SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"};
            }

            // record what finished before letting the pods go (KEP-2307's two-phase accounting)
            if (finish != null && finish[0].equals("FailureTarget")) {
                for (ObjectNode p : owned) {
                    String podUid = Meta.uid(p);
                    if (Pods.phase(p).equals("Succeeded") || !hasFinalizer(p) || finalizersRemoved.contains(podUid)) continue;
                    if (uncountedFailed.contains(podUid) || newFailed.contains(p) || ignored.contains(p)) continue;
                    if (indexed && (completionIndex(p) < 0 || completionIndex(p) >= completions)) continue;
                    newFailed.add(p); // when the Job is failing every pod not done is a failure
                }
            }
            for (ObjectNode p : newSucceeded) uncountedSucceeded.add(Meta.uid(p));
            for (ObjectNode p : newFailed) uncountedFailed.add(Meta.uid(p));
            status.put("active", activeCount);
            status.put("ready", (int) active.stream().filter(p -> Pods.active(p) && Pods.ready(p)).count());
            status.put("terminating", terminating);
            if (indexed) status.put("completedIndexes", Indexes.format(succeededIndexes));
            if (finish != null) JobStatuses.ensureCondition(status, finish[0], "True", finish[1], finish[2], now);
            setUncounted(uncountedSucceeded, uncountedFailed);
            ObjectNode current = writeStatus(job);

            // let the counted pods go, then move them from uncounted to the counters
            List<ObjectNode> release = new ArrayList<>(newSucceeded);
            release.addAll(newFailed);
            release.addAll(ignored);
            for (ObjectNode p : owned) {
                String podUid = Meta.uid(p);
                if ((uncountedSucceeded.contains(podUid) || uncountedFailed.contains(podUid)) && !release.contains(p)) release.add(p);
            }
            for (ObjectNode p : release) releasePod(p);
            if (!indexed) status.put("succeeded", JobStatuses.intOr(status, "succeeded", 0) + uncountedSucceeded.size());
            else status.put("succeeded", succeededIndexes.cardinality());
            status.put("failed", JobStatuses.intOr(status, "failed", 0) + uncountedFailed.size());
            setUncounted(Set.of(), Set.of());

            if (finish != null && terminating == 0) enactFinished(finish);
            writeStatus(current);
            return requeue;
        }

        private void suspension() {
            if (suspended) {
                if (JobStatuses.ensureCondition(status, "Suspended", "True", "JobSuspended", "Job suspended", now)) {
                    events.event(job, "batch/v1", "Job", "Normal", "Suspended", "Job suspended");
                }
            } else if (JobStatuses.ensureCondition(status, "Suspended", "False", "JobResumed", "Job resumed", now)) {
                events.event(job, "batch/v1", "Job", "Normal", "Resumed", "Job resumed");
                // activeDeadlineSeconds counts continuous activity: a resumed Job starts afresh
                status.put("startTime", Meta.timestamp(now));
            }
        }

        private Set<String> uidSet(String field) {
            Set<String> out = new LinkedHashSet<>();
            for (JsonNode u : status.path("uncountedTerminatedPods").path(field)) out.add(u.asText());
            return out;
        }

        private void setUncounted(Set<String> succeeded, Set<String> failed) {
            ObjectNode u = status.putObject("uncountedTerminatedPods");
            if (!succeeded.isEmpty()) succeeded.forEach(u.putArray("succeeded")::add);
            if (!failed.isEmpty()) failed.forEach(u.putArray("failed")::add);
        }

        /** Failed, or (unless only failed pods are replaced) deleted before it succeeded. */
        private boolean podFailed(ObjectNode p) {
            if (Pods.phase(p).equals("Failed")) return true;
            if (onlyFailedReplaced) return false;
            return Meta.deleting(p) && !Pods.phase(p).equals("Succeeded");
        }

        /** restartPolicy OnFailure: container restarts count against the backoff limit. */
        private boolean pastBackoffLimitOnFailure(List<ObjectNode> active) {
            if (!spec.path("template").path("spec").path("restartPolicy").asText().equals("OnFailure")) return false;
            int restarts = 0;
            for (ObjectNode p : active) {
                if (Pods.phase(p).equals("Running") || Pods.phase(p).equals("Pending")) restarts += Pods.restarts(p);
            }
            return backoffLimit == 0 ? restarts > 0 : restarts >= backoffLimit;
        }

        private boolean pastActiveDeadline() {
            if (!spec.hasNonNull("activeDeadlineSeconds") || suspended) return false;
            Instant start = Pods.time(status.path("startTime").asText(""));
            return start != null && !now.isBefore(start.plusSeconds(spec.get("activeDeadlineSeconds").asLong()));
        }

        private void later(Duration d) {
            Duration at = d.isNegative() ? Duration.ZERO : d;
            if (requeue == null || at.compareTo(requeue) < 0) requeue = at;
        }

        /** Creates or deletes pods towards the wanted number of active ones; returns the active count after. */
        private int manage(List<ObjectNode> active, int succeeded, BitSet succeededIndexes, int terminating) {
            int activeCount = active.size();
            if (suspended) return activeCount - deletePods(active, active.size());
            int wantActive;
            if (completions == null) wantActive = succeeded > 0 ? 0 : parallelism;
            else wantActive = Math.max(0, Math.min(completions - succeeded, parallelism));

            List<ObjectNode> remove = new ArrayList<>();
            if (indexed) { // pods of indexes already done, out of range, or running twice go first
                Set<Integer> seen = new HashSet<>();
                for (ObjectNode p : sortedForRemoval(active)) {
                    int ix = completionIndex(p);
                    if (ix < 0 || ix >= completions || succeededIndexes.get(ix) || !seen.add(ix)) remove.add(p);
                }
            }
            int rmAtLeast = activeCount - remove.size() - wantActive;
            if (rmAtLeast > 0) {
                for (ObjectNode p : sortedForRemoval(active)) {
                    if (rmAtLeast == 0) break;
                    if (!remove.contains(p)) {
                        remove.add(p);
                        rmAtLeast--;
                    }
                }
            }
            if (!remove.isEmpty()) return activeCount - deletePods(remove, remove.size());

            if (activeCount < wantActive) {
                Duration wait = backoffRemaining();
                if (wait.isPositive()) {
                    later(wait);
                    return activeCount;
                }
                int diff = wantActive - activeCount - (onlyFailedReplaced ? terminating : 0);
                diff = Math.min(diff, MAX_CREATE_DELETE_PER_SYNC);
                List<Integer> indexes = new ArrayList<>();
                if (indexed) {
                    Set<Integer> busy = new HashSet<>();
                    for (ObjectNode p : active) busy.add(completionIndex(p));
                    if (onlyFailedReplaced) {
                        for (ObjectNode p : owned) if (Meta.deleting(p) && !Pods.terminal(p)) busy.add(completionIndex(p));
                    }
                    for (int i = 0; i < completions && indexes.size() < diff; i++) {
                        if (!succeededIndexes.get(i) && !busy.contains(i)) indexes.add(i);
                    }
                    diff = indexes.size();
                }
                for (int i = 0; i < diff; i++) {
                    if (createPod(indexed ? indexes.get(i) : -1)) activeCount++;
                }
            }
            return activeCount;
        }

        /** kube's activePods ordering: unscheduled, pending and not-ready pods before running and ready ones, newest first. */
        private List<ObjectNode> sortedForRemoval(List<ObjectNode> active) {
            List<ObjectNode> sorted = new ArrayList<>(active);
            sorted.sort(Comparator.<ObjectNode>comparingInt(p -> Json.text(p.get("spec"), "nodeName").isEmpty() ? 0 : 1)
                    .thenComparingInt(p -> switch (Pods.phase(p)) {
                        case "Pending", "" -> 0;
                        case "Unknown" -> 1;
                        default -> 2;
                    })
                    .thenComparingInt(p -> Pods.ready(p) ? 1 : 0)
                    .thenComparing(Comparator.comparing(Pods::created).reversed()));
            return sorted;
        }

        private boolean createPod(int index) {
            JsonNode template = spec.path("template");
            ObjectNode ref = Owners.reference(job, "batch/v1", "Job");
            String jobName = Meta.name(job);
            String generateName = index >= 0 ? podPrefix(jobName + "-" + index + "-") : podPrefix(jobName + "-");
            ObjectNode pod = PodTemplates.newPod(template, ref, Meta.namespace(job), null, generateName);
            List<String> finalizers = Meta.finalizers(pod);
            if (!finalizers.contains(TRACKING_FINALIZER)) finalizers.add(TRACKING_FINALIZER);
            Meta.setFinalizers(pod, finalizers);
            if (index >= 0) {
                Json.obj(Meta.metadata(pod), "annotations").put(INDEX_KEY, Integer.toString(index));
                Json.obj(Meta.metadata(pod), "labels").put(INDEX_KEY, Integer.toString(index));
                ObjectNode podSpec = (ObjectNode) pod.get("spec");
                if (podSpec.path("hostname").asText("").isEmpty()) podSpec.put("hostname", jobName + "-" + index);
                for (String list : new String[] {"initContainers", "containers"}) {
                    for (JsonNode c : podSpec.path(list)) addIndexEnv((ObjectNode) c);
                }
            }
            try {
                ObjectNode created = api.create(podType, Meta.namespace(job), pod);
                expect(key).creates.add(Meta.name(created));
                events.event(job, "batch/v1", "Job", "Normal", "SuccessfulCreate", "Created pod: " + Meta.name(created));
                return true;
            } catch (ApiException e) {
                events.event(job, "batch/v1", "Job", "Warning", "FailedCreate", "Error creating: " + e.getMessage());
                if (e.code() == 403 && e.getMessage().contains("being terminated")) return false; // namespace terminating
                throw e;
            }
        }

        /** Deletes up to {@code max} pods; returns how many were deleted. */
        private int deletePods(List<ObjectNode> victims, int max) {
            int n = 0;
            for (ObjectNode p : victims) {
                if (n >= max) break;
                try {
                    api.delete(podType, Meta.namespace(p), Meta.name(p), new DeleteOptions(null, null, Meta.uid(p), null, false));
                    expect(key).deletes.add(Meta.uid(p));
                    events.event(job, "batch/v1", "Job", "Normal", "SuccessfulDelete", "Deleted pod: " + Meta.name(p));
                    n++;
                } catch (ApiException e) {
                    if (e.code() != 404 && e.code() != 409) throw e;
                    n++; // already gone
                }
            }
            return n;
        }

        private void recordBackoff(List<ObjectNode> newSucceeded, List<ObjectNode> newFailed) {
            Backoff b = backoffs.get(key);
            if (!newSucceeded.isEmpty() && newFailed.isEmpty()) {
                backoffs.remove(key);
            } else if (!newFailed.isEmpty()) {
                // the time the failure is seen on the controller's clock: pods' finishedAt come from other clocks
                backoffs.put(key, new Backoff((b == null ? 0 : b.failures()) + newFailed.size(), now));
            }
        }

        /** How long to wait before replacing failed pods: 10 s doubling per failure since the last success, at most 6 min. */
        private Duration backoffRemaining() {
            Backoff b = backoffs.get(key);
            if (b == null || b.failures() == 0) return Duration.ZERO;
            long seconds = DEFAULT_BACKOFF.toSeconds() << Math.min(b.failures() - 1, 20);
            Duration backoff = Duration.ofSeconds(Math.min(seconds, MAX_BACKOFF.toSeconds()));
            Duration left = backoff.minus(Duration.between(b.lastFailure(), now));
            return left.isNegative() ? Duration.ZERO : left;
        }

        private void enactFinished(String[] finish) {
            if (finish[0].equals("SuccessCriteriaMet")) {
                JobStatuses.ensureCondition(status, "Complete", "True", finish[1], finish[2], now);
                status.put("completionTime", Meta.timestamp(now));
                events.event(job, "batch/v1", "Job", "Normal", "Completed", "Job completed");
            } else {
                JobStatuses.ensureCondition(status, "Failed", "True", finish[1], finish[2], now);
                events.event(job, "batch/v1", "Job", "Warning", finish[1], finish[2]);
            }
        }

        /** Writes the status if it changed; returns the Job as now stored. */
        private ObjectNode writeStatus(ObjectNode base) {
            ObjectNode currentStatus = JobStatuses.statusCopy(base);
            if (currentStatus.equals(status)) return base;
            ObjectNode desired = base.deepCopy();
            desired.set("status", status.deepCopy());
            ObjectNode stored = api.updateStatus(jobType, desired);
            written.put(key, stored);
            return stored;
        }
    }

    private static void addIndexEnv(ObjectNode container) {
        ArrayNode env = container.has("env") && container.get("env").isArray() ? (ArrayNode) container.get("env") : container.putArray("env");
        for (JsonNode e : env) if (e.path("name").asText().equals("JOB_COMPLETION_INDEX")) return;
        ObjectNode e = env.addObject().put("name", "JOB_COMPLETION_INDEX");
        e.putObject("valueFrom").putObject("fieldRef").put("apiVersion", "v1")
                .put("fieldPath", "metadata.annotations['" + INDEX_KEY + "']");
    }

    /** generateName is cut so the server's 5-character suffix keeps the name within 63 characters. */
    private static String podPrefix(String prefix) {
        return prefix.length() > 58 ? prefix.substring(0, 58) : prefix;
    }
}
