package io.k3j.controllers.batch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.common.Owners;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.testing.FakeClock;
import io.k3j.controllers.testing.FakeKubelet;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.TestCluster;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The CronJob and TTL-after-finished controllers, with the Job controller running what they create, on a fake clock. */
class CronJobControllerTest {
    static final FakeClock CLOCK = new FakeClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    static TestCluster cluster;
    static FakeNodes nodes;
    static FakeKubelet kubelet;
    static TestBinder binder;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of(JobController::new, CronJobController::new, TtlAfterFinishedController::new),
                c -> c.withClock(CLOCK));
        nodes = new FakeNodes(cluster.api());
        nodes.add("n1");
        kubelet = new FakeKubelet(cluster.api()).manage("n1").behavior(p -> switch (Json.text(Meta.labels(p), "outcome")) {
            case "run" -> FakeKubelet.Outcome.RUN;
            case "fail" -> FakeKubelet.Outcome.FAIL;
            default -> FakeKubelet.Outcome.SUCCEED;
        });
        binder = new TestBinder(cluster.api(), List.of("n1"));
    }

    @AfterAll
    static void stop() {
        binder.close();
        kubelet.close();
        nodes.close();
        cluster.close();
    }

    static ObjectNode cronJob(String name, String schedule, String extra, String outcome) {
        return cluster.create("""
                apiVersion: batch/v1
                kind: CronJob
                metadata: {name: %s, namespace: default}
                spec:
                  schedule: "%s"
                  %s
                  jobTemplate:
                    spec:
                      template:
                        metadata: {labels: {outcome: %s}}
                        spec:
                          restartPolicy: Never
                          containers: [{name: c, image: busybox}]
                """.formatted(name, schedule, extra.replace("\n", "\n  "), outcome));
    }

    /**
     * CronJobs count schedule times from their creationTimestamp, which the API server stamps on the real clock;
     * earlier tests moved the fake clock far ahead, so each test starts it again just before the real now.
     */
    @BeforeEach
    void rewind() {
        CLOCK.set(Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(5));
    }

    /** Moves the fake clock to {@code t} unless it is already later (several cron jobs share it). */
    static void advanceTo(Instant t) {
        Instant now = CLOCK.instant();
        if (t.isAfter(now)) CLOCK.advance(Duration.between(now, t));
    }

    static Instant nextMinute(Instant t) {
        return t.truncatedTo(ChronoUnit.MINUTES).plus(Duration.ofMinutes(1));
    }

    static List<ObjectNode> jobsOf(String cronJob) {
        return cluster.list("batch", "v1", "jobs", "default").stream().filter(j -> {
            JsonNode ref = Owners.controllerRef(j);
            return ref != null && ref.path("name").asText().equals(cronJob) && !Meta.deleting(j);
        }).toList();
    }

    static ObjectNode getCj(String name) {
        return cluster.get("batch", "v1", "cronjobs", "default", name);
    }

    static List<String> events(String name) {
        return cluster.list("", "v1", "events", "default").stream()
                .filter(e -> e.path("involvedObject").path("name").asText().equals(name))
                .map(e -> e.path("reason").asText() + ": " + e.path("message").asText()).toList();
    }

    static void delete(String name) {
        cluster.api().deleteIfExists(cluster.type("batch", "v1", "cronjobs"), "default", name, null, "Background");
    }

    @Test
    @DisplayName("a CronJob starts a Job named after the scheduled minute when the fake clock reaches it, and records its success")
    void fires() {
        ObjectNode cj = cronJob("tick", "* * * * *", "", "succeed");
        try {
            Instant created = Pods.created(cj);
            Instant at = nextMinute(Instant.ofEpochMilli(Math.max(created.toEpochMilli(), CLOCK.millis())));
            JobControllerTest.sleep(300);
            assertThat(jobsOf("tick")).isEmpty();
            advanceTo(at.plusSeconds(2));
            String name = "tick-" + at.getEpochSecond() / 60;
            cluster.await("job " + name, Duration.ofSeconds(10), () -> cluster.get("batch", "v1", "jobs", "default", name) != null);
            ObjectNode job = cluster.get("batch", "v1", "jobs", "default", name);
            assertThat(Owners.controlledBy(job, cj)).isTrue();
            assertThat(Json.text(job.path("metadata").get("annotations"), CronJobController.SCHEDULED_TIMESTAMP))
                    .isEqualTo(java.time.format.DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(at.atZone(java.time.ZoneId.systemDefault())));
            cluster.await("last schedule time", Duration.ofSeconds(10),
                    () -> getCj("tick").path("status").path("lastScheduleTime").asText().equals(Meta.timestamp(at)));
            cluster.await("job done and recorded", Duration.ofSeconds(20), () -> {
                JsonNode st = getCj("tick").path("status");
                return st.hasNonNull("lastSuccessfulTime") && st.path("active").isEmpty();
            });
            assertThat(events("tick")).contains("SuccessfulCreate: Created job " + name);
        } finally {
            delete("tick");
        }
    }

    @Test
    @DisplayName("concurrencyPolicy Forbid skips a run while the previous Job is still running")
    void forbid() {
        ObjectNode cj = cronJob("solo", "* * * * *", "concurrencyPolicy: Forbid", "run");
        try {
            Instant first = nextMinute(Instant.ofEpochMilli(Math.max(Pods.created(cj).toEpochMilli(), CLOCK.millis())));
            advanceTo(first.plusSeconds(1));
            cluster.await("first job", Duration.ofSeconds(10), () -> jobsOf("solo").size() == 1);
            cluster.await("active", Duration.ofSeconds(10), () -> getCj("solo").path("status").path("active").size() == 1);
            advanceTo(first.plusSeconds(61));
            cluster.await("skip event", Duration.ofSeconds(10), () -> events("solo")
                    .contains("JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid"));
            assertThat(jobsOf("solo")).hasSize(1);
        } finally {
            delete("solo");
        }
    }

    @Test
    @DisplayName("concurrencyPolicy Replace deletes the running Job and starts the new one")
    void replace() {
        ObjectNode cj = cronJob("swap", "* * * * *", "concurrencyPolicy: Replace", "run");
        try {
            Instant first = nextMinute(Instant.ofEpochMilli(Math.max(Pods.created(cj).toEpochMilli(), CLOCK.millis())));
            advanceTo(first.plusSeconds(1));
            String firstName = "swap-" + first.getEpochSecond() / 60;
            cluster.await("first job", Duration.ofSeconds(10), () -> cluster.get("batch", "v1", "jobs", "default", firstName) != null);
            Instant second = first.plusSeconds(60);
            advanceTo(second.plusSeconds(1));
            String secondName = "swap-" + second.getEpochSecond() / 60;
            cluster.await("second job replaces the first", Duration.ofSeconds(15), () -> {
                List<String> names = jobsOf("swap").stream().map(Meta::name).toList();
                return names.equals(List.of(secondName));
            });
            cluster.await("status names the new job", Duration.ofSeconds(10), () -> {
                JsonNode act = getCj("swap").path("status").path("active");
                return act.size() == 1 && act.get(0).path("name").asText().equals(secondName);
            });
            assertThat(events("swap")).contains("SuccessfulDelete: Deleted job " + firstName);
        } finally {
            delete("swap");
        }
    }

    @Test
    @DisplayName("finished Jobs beyond successfulJobsHistoryLimit are deleted, oldest first")
    void historyLimits() {
        ObjectNode cj = cronJob("hist", "* * * * *", "successfulJobsHistoryLimit: 2\nfailedJobsHistoryLimit: 1", "succeed");
        try {
            Instant t = nextMinute(Instant.ofEpochMilli(Math.max(Pods.created(cj).toEpochMilli(), CLOCK.millis())));
            List<String> names = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Instant at = t.plusSeconds(60L * i);
                String name = "hist-" + at.getEpochSecond() / 60;
                names.add(name);
                advanceTo(at.plusSeconds(1));
                cluster.await("job " + name + " complete", Duration.ofSeconds(20), () -> {
                    ObjectNode j = cluster.get("batch", "v1", "jobs", "default", name);
                    return j != null && JobStatuses.isTrue(j, "Complete");
                });
            }
            cluster.await("only the two newest kept", Duration.ofSeconds(15),
                    () -> jobsOf("hist").stream().map(Meta::name).sorted().toList().equals(names.subList(2, 4)));
        } finally {
            delete("hist");
        }
    }

    @Test
    @DisplayName("spec.timeZone is honoured: 09:00 in Asia/Tokyo runs at 00:00 UTC")
    void timeZone() {
        ObjectNode cj = cronJob("tokyo", "0 9 * * *", "timeZone: Asia/Tokyo", "succeed");
        try {
            Instant from = Instant.ofEpochMilli(Math.max(Pods.created(cj).toEpochMilli(), CLOCK.millis()));
            Instant midnightUtc = from.truncatedTo(ChronoUnit.DAYS).plus(Duration.ofDays(1));
            advanceTo(midnightUtc.minusSeconds(30));
            JobControllerTest.sleep(300);
            assertThat(jobsOf("tokyo")).isEmpty();
            advanceTo(midnightUtc.plusSeconds(1));
            String name = "tokyo-" + midnightUtc.getEpochSecond() / 60;
            cluster.await("job at 09:00 Tokyo", Duration.ofSeconds(10), () -> cluster.get("batch", "v1", "jobs", "default", name) != null);
            ObjectNode job = cluster.get("batch", "v1", "jobs", "default", name);
            assertThat(Json.text(job.path("metadata").get("annotations"), CronJobController.SCHEDULED_TIMESTAMP))
                    .endsWith("T09:00:00+09:00");
        } finally {
            delete("tokyo");
        }
    }

    @Test
    @DisplayName("after more than 100 missed start times only the most recent runs, with the kube warning")
    void tooManyMissed() {
        ObjectNode cj = cronJob("late", "* * * * *", "", "succeed");
        try {
            Instant from = nextMinute(Instant.ofEpochMilli(Math.max(Pods.created(cj).toEpochMilli(), CLOCK.millis())));
            // stop the controller seeing intermediate times: jump 150 minutes at once
            advanceTo(from.plus(Duration.ofMinutes(150)).plusSeconds(5));
            Instant mostRecent = from.plus(Duration.ofMinutes(150));
            String name = "late-" + mostRecent.getEpochSecond() / 60;
            cluster.await("job of the most recent time", Duration.ofSeconds(10),
                    () -> cluster.get("batch", "v1", "jobs", "default", name) != null);
            assertThat(jobsOf("late")).hasSize(1);
            cluster.await("warning", Duration.ofSeconds(10), () -> events("late").contains(
                    "TooManyMissedTimes: too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"));
        } finally {
            delete("late");
        }
    }

    @Test
    @DisplayName("kubectl create job --from=cronjob/x makes a Job from the template that runs to completion")
    void kubectlCreateFromCronJob() throws Exception {
        cronJob("manual", "0 0 1 1 *", "", "succeed");
        try {
            ProcessBuilder pb = new ProcessBuilder("/usr/bin/kubectl", "--kubeconfig", cluster.kubeconfig().toString(), "create", "job",
                    "by-hand", "--from=cronjob/manual").redirectErrorStream(true);
            Process p = pb.start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (var in = p.getInputStream()) {
                in.transferTo(out);
            }
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(out.toString()).contains("job.batch/by-hand created");
            cluster.await("manual job complete", Duration.ofSeconds(20), () -> {
                ObjectNode j = cluster.get("batch", "v1", "jobs", "default", "by-hand");
                return j != null && JobStatuses.isTrue(j, "Complete");
            });
            ObjectNode j = cluster.get("batch", "v1", "jobs", "default", "by-hand");
            assertThat(Json.text(j.path("metadata").get("annotations"), "cronjob.kubernetes.io/instantiate")).isEqualTo("manual");
            assertThat(Owners.controlledBy(j, getCj("manual"))).isTrue();
        } finally {
            delete("manual");
        }
    }

    @Test
    @DisplayName("a finished Job with ttlSecondsAfterFinished is deleted, with its pods, once the clock passes the TTL")
    void ttlAfterFinished() {
        cluster.create("""
                apiVersion: batch/v1
                kind: Job
                metadata: {name: brief, namespace: default}
                spec:
                  ttlSecondsAfterFinished: 100
                  template:
                    spec:
                      restartPolicy: Never
                      containers: [{name: c, image: busybox}]
                """);
        cluster.await("job complete", Duration.ofSeconds(20), () -> {
            ObjectNode j = cluster.get("batch", "v1", "jobs", "default", "brief");
            return j != null && JobStatuses.isTrue(j, "Complete");
        });
        CLOCK.advance(Duration.ofSeconds(50));
        JobControllerTest.sleep(400);
        assertThat(cluster.get("batch", "v1", "jobs", "default", "brief")).isNotNull();
        CLOCK.advance(Duration.ofSeconds(51));
        cluster.await("job deleted", Duration.ofSeconds(15), () -> cluster.get("batch", "v1", "jobs", "default", "brief") == null);
        assertThat(cluster.list("", "v1", "pods", "default").stream()
                .filter(p -> Json.text(Meta.labels(p), "job-name").equals("brief"))).isEmpty();
    }
}
