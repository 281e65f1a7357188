package io.k3j.controllers.batch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.common.Owners;
import io.k3j.controllers.common.Pods;
import io.k3j.controllers.runtime.InformerFactory;
import io.k3j.controllers.runtime.SharedInformer;
import io.k3j.controllers.testing.FakeClock;
import io.k3j.controllers.testing.FakeKubelet;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.TestCluster;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class JobControllerTest {
    static final FakeClock CLOCK = new FakeClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    static TestCluster cluster;
    static FakeNodes nodes;
    static FakeKubelet kubelet;
    static TestBinder binder;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(List.of(JobController::new), c -> c.withClock(CLOCK));
        nodes = new FakeNodes(cluster.api());
        nodes.add("n1");
        nodes.add("n2");
        // pods say what they do through a label of their template
        kubelet = new FakeKubelet(cluster.api()).manage("n1", "n2").behavior(p -> switch (Json.text(Meta.labels(p), "outcome")) {
            case "fail" -> FakeKubelet.Outcome.FAIL;
            case "run" -> FakeKubelet.Outcome.RUN;
            default -> FakeKubelet.Outcome.SUCCEED;
        });
        binder = new TestBinder(cluster.api(), List.of("n1", "n2"));
    }

    @AfterAll
    static void stop() {
        binder.close();
        kubelet.close();
        nodes.close();
        cluster.close();
    }

    static String job(String name, String specExtra, String outcome) {
        return """
                apiVersion: batch/v1
                kind: Job
                metadata: {name: %s, namespace: default}
                spec:
                  %s
                  template:
                    metadata: {labels: {outcome: %s}}
                    spec:
                      restartPolicy: Never
                      containers: [{name: c, image: busybox}]
                """.formatted(name, specExtra.replace("\n", "\n  "), outcome);
    }

    static ObjectNode getJob(String name) {
        return cluster.get("batch", "v1", "jobs", "default", name);
    }

    static boolean condition(String job, String type) {
        ObjectNode j = getJob(job);
        return j != null && JobStatuses.isTrue(j, type);
    }

    static List<ObjectNode> podsOf(String job) {
        return cluster.list("", "v1", "pods", "default").stream()
                .filter(p -> Json.text(Meta.labels(p), "batch.kubernetes.io/job-name").equals(job)).toList();
    }

    static List<String> eventReasons(String name) {
        return cluster.list("", "v1", "events", "default").stream()
                .filter(e -> e.path("involvedObject").path("name").asText().equals(name))
                .map(e -> e.path("reason").asText() + ": " + e.path("message").asText()).toList();
    }

    @Test
    @DisplayName("a Job of 3 completions with parallelism 2 completes, never running more than 2 pods at once")
    void completionsAndParallelism() {
        Set<String> active = ConcurrentHashMap.newKeySet();
        AtomicInteger maxActive = new AtomicInteger();
        try (InformerFactory f = new InformerFactory(cluster.api().objects().cache(), Duration.ZERO)) {
            SharedInformer inf = f.informer(cluster.type("", "v1", "pods"));
            inf.addHandler(new SharedInformer.Handler() {
                void see(ObjectNode p) {
                    if (!Json.text(Meta.labels(p), "batch.kubernetes.io/job-name").equals("three")) return;
                    if (Pods.active(p)) active.add(Meta.uid(p));
                    else active.remove(Meta.uid(p));
                    maxActive.accumulateAndGet(active.size(), Math::max);
                }

                @Override
                public void onAdd(ObjectNode obj) {
                    see(obj);
                }

                @Override
                public void onUpdate(ObjectNode o, ObjectNode n) {
                    see(n);
                }

                @Override
                public void onDelete(ObjectNode obj) {
                    active.remove(Meta.uid(obj));
                }
            });
            f.start();
            cluster.create(job("three", "completions: 3\nparallelism: 2", "succeed"));
            cluster.await("job three complete", Duration.ofSeconds(30), () -> condition("three", "Complete"));
        }
        ObjectNode j = getJob("three");
        JsonNode st = j.get("status");
        assertThat(st.path("succeeded").asInt()).isEqualTo(3);
        assertThat(st.path("failed").asInt()).isZero();
        assertThat(st.path("active").asInt()).isZero();
        assertThat(st.hasNonNull("completionTime")).isTrue();
        assertThat(st.hasNonNull("startTime")).isTrue();
        assertThat(JobStatuses.isTrue(j, "SuccessCriteriaMet")).isTrue();
        assertThat(JobStatuses.condition(j, "Complete").path("reason").asText()).isEqualTo("CompletionsReached");
        assertThat(maxActive.get()).isBetween(1, 2);
        List<ObjectNode> pods = podsOf("three");
        assertThat(pods).hasSize(3);
        cluster.await("tracking finalizers removed", Duration.ofSeconds(10),
                () -> podsOf("three").stream().noneMatch(JobController::hasFinalizer));
        for (ObjectNode p : pods) {
            assertThat(Owners.controlledBy(p, j)).isTrue();
            assertThat(Json.text(Meta.labels(p), "batch.kubernetes.io/controller-uid")).isEqualTo(Meta.uid(j));
            assertThat(Meta.name(p)).startsWith("three-");
        }
        cluster.await("events", Duration.ofSeconds(10), () -> eventReasons("three").contains("Completed: Job completed"));
        assertThat(eventReasons("three")).anyMatch(e -> e.startsWith("SuccessfulCreate: Created pod: three-"));
    }

    @Test
    @DisplayName("a Job whose pods keep failing fails with BackoffLimitExceeded once failures pass backoffLimit, backing off between tries")
    void backoffLimit() {
        cluster.create(job("flaky", "backoffLimit: 2", "fail"));
        cluster.await("first failure counted", Duration.ofSeconds(20), () -> {
            ObjectNode j = getJob("flaky");
            return j != null && j.path("status").path("failed").asInt() == 1;
        });
        // the replacement waits 10 s on the controller's clock
        sleep(500);
        assertThat(podsOf("flaky")).hasSize(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition("flaky", "Failed") && System.nanoTime() < deadline) {
            CLOCK.advance(Duration.ofSeconds(30));
            sleep(150);
        }
        ObjectNode j = getJob("flaky");
        assertThat(JobStatuses.isTrue(j, "Failed")).isTrue();
        assertThat(JobStatuses.condition(j, "Failed").path("reason").asText()).isEqualTo("BackoffLimitExceeded");
        assertThat(JobStatuses.isTrue(j, "FailureTarget")).isTrue();
        assertThat(j.path("status").path("failed").asInt()).isEqualTo(3);
        assertThat(podsOf("flaky")).hasSize(3);
        cluster.await("event", Duration.ofSeconds(10),
                () -> eventReasons("flaky").contains("BackoffLimitExceeded: Job has reached the specified backoff limit"));
    }

    @Test
    @DisplayName("a Job running past activeDeadlineSeconds on the controller's clock fails with DeadlineExceeded and its pods are deleted")
    void activeDeadline() {
        cluster.create(job("slow", "activeDeadlineSeconds: 60\nparallelism: 2\ncompletions: 4", "run"));
        cluster.await("two pods running", Duration.ofSeconds(20), () -> {
            ObjectNode j = getJob("slow");
            return j != null && j.path("status").path("ready").asInt() == 2;
        });
        sleep(300);
        assertThat(condition("slow", "Failed")).isFalse();
        CLOCK.advance(Duration.ofSeconds(61));
        cluster.await("job failed", Duration.ofSeconds(20), () -> condition("slow", "Failed"));
        ObjectNode j = getJob("slow");
        assertThat(JobStatuses.condition(j, "Failed").path("reason").asText()).isEqualTo("DeadlineExceeded");
        assertThat(JobStatuses.condition(j, "Failed").path("message").asText()).isEqualTo("Job was active longer than specified deadline");
        assertThat(j.path("status").path("active").asInt()).isZero();
        assertThat(j.path("status").path("terminating").asInt()).isZero();
        assertThat(j.path("status").path("failed").asInt()).isEqualTo(2);
        cluster.await("pods gone", Duration.ofSeconds(10), () -> podsOf("slow").isEmpty());
    }

    @Test
    @DisplayName("an Indexed Job completes every index once, with index annotations, labels, hostnames and completedIndexes 0-2")
    void indexed() {
        cluster.create(job("idx", "completions: 3\nparallelism: 3\ncompletionMode: Indexed", "succeed"));
        cluster.await("indexed job complete", Duration.ofSeconds(30), () -> condition("idx", "Complete"));
        ObjectNode j = getJob("idx");
        assertThat(j.path("status").path("completedIndexes").asText()).isEqualTo("0-2");
        assertThat(j.path("status").path("succeeded").asInt()).isEqualTo(3);
        List<ObjectNode> pods = podsOf("idx");
        assertThat(pods).hasSize(3);
        Set<String> hostnames = ConcurrentHashMap.newKeySet();
        for (ObjectNode p : pods) {
            String ix = Json.text(p.path("metadata").get("annotations"), JobController.INDEX_KEY);
            assertThat(Json.text(Meta.labels(p), JobController.INDEX_KEY)).isEqualTo(ix);
            assertThat(Meta.name(p)).startsWith("idx-" + ix + "-");
            hostnames.add(Json.text(p.get("spec"), "hostname"));
            assertThat(p.path("spec").path("containers").get(0).path("env").toString()).contains("JOB_COMPLETION_INDEX");
        }
        assertThat(hostnames).containsExactlyInAnyOrder("idx-0", "idx-1", "idx-2");
    }

    @Test
    @DisplayName("a podFailurePolicy FailJob rule on exit code 1 fails the Job at the first such failure")
    void podFailurePolicyFailJob() {
        cluster.create(job("pfp", """
                backoffLimit: 6
                podFailurePolicy:
                  rules:
                  - action: Ignore
                    onExitCodes: {operator: In, values: [42]}
                  - action: FailJob
                    onExitCodes: {operator: In, values: [1]}""", "fail"));
        cluster.await("job failed", Duration.ofSeconds(20), () -> condition("pfp", "Failed"));
        ObjectNode j = getJob("pfp");
        JsonNode failed = JobStatuses.condition(j, "Failed");
        assertThat(failed.path("reason").asText()).isEqualTo("PodFailurePolicy");
        assertThat(failed.path("message").asText()).matches("Container c for pod default/pfp-[a-z0-9]{5} failed with exit code 1 matching FailJob rule at index 1");
        assertThat(j.path("status").path("failed").asInt()).isEqualTo(1);
        assertThat(podsOf("pfp")).hasSize(1);
    }

    @Test
    @DisplayName("a suspended Job creates no pods until resumed")
    void suspend() {
        cluster.create(job("later", "suspend: true", "succeed"));
        cluster.await("suspended condition", Duration.ofSeconds(10), () -> condition("later", "Suspended"));
        assertThat(podsOf("later")).isEmpty();
        assertThat(getJob("later").path("status").hasNonNull("startTime")).isFalse();
        cluster.api().modify(cluster.type("batch", "v1", "jobs"), "default", "later", "", o -> {
            ((ObjectNode) o.get("spec")).put("suspend", false);
            return o;
        });
        cluster.await("resumed job complete", Duration.ofSeconds(20), () -> condition("later", "Complete"));
        assertThat(JobStatuses.condition(getJob("later"), "Suspended").path("reason").asText()).isEqualTo("JobResumed");
    }

    @Test
    @DisplayName("kubectl wait --for=condition=complete returns once the Job completes")
    void kubectlWait() throws Exception {
        cluster.create(job("waited", "completions: 2", "succeed"));
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/kubectl", "--kubeconfig", cluster.kubeconfig().toString(), "wait",
                "--for=condition=complete", "job/waited", "--timeout=30s").redirectErrorStream(true);
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var in = p.getInputStream()) {
            in.transferTo(out);
        }
        assertThat(p.waitFor(40, TimeUnit.SECONDS)).isTrue();
        assertThat(out.toString()).contains("job.batch/waited condition met");
        assertThat(p.exitValue()).isZero();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
