package io.k3j.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The scheduler and workload controllers against fake nodes (Node objects with Leases, no kubelets).
 * <ul>
 * <li>{@code schedule}: {@code pods} pods are created while all {@code nodes} nodes are cordoned, so they wait
 *     unschedulable; then every node is uncordoned and the clock runs until the watch has seen every pod
 *     bound. Throughput = pods / (last binding seen − first uncordon request sent); the 100 uncordons go out at once. This isolates scheduling from the
 *     HTTP create rate.</li>
 * <li>{@code deploy}: one Deployment of {@code replicas} replicas created on schedulable nodes; time from the
 *     create request until the watch has seen every pod bound (ReplicaSet controller + scheduler).</li>
 * <li>{@code objects}: {@code deployments} Deployments whose pods add up to {@code objects} bound pods; VmRSS of
 *     the server once all are bound and the server has idled 60 s (read every 10 s), then the live heap after a
 *     full collection ({@code GC.class_histogram}) and VmRSS after it.</li>
 * </ul>
 */
final class SchedulerBench {
    static final double TARGET_PODS_PER_SECOND = 1000;
    static final double TARGET_DEPLOY_SECONDS = 10;
    static final long TARGET_RSS_MB = 400;

    private SchedulerBench() {
    }

    static void schedule(Env env, int nodes, int pods, int clients) throws Exception {
        System.out.printf("== schedule: %d pods onto %d fake nodes (created while cordoned, then uncordoned); server JVM flags: %s%n",
                pods, nodes, env.describeJavaOpts());
        try (K3jServer s = env.startServer("schedule")) {
            AdminCredentials cred = s.credentials();
            URI server = cred.server();
            HttpClient http = Http.client(cred.sslContext(), HttpClient.Version.HTTP_2);
            Env.createNamespace(http, server, "schedbench");
            try (FakeNodes fake = FakeNodes.register(http, server, nodes, true)) {
                Load.Result created = Load.run(pods, clients, () -> Http.client(cred.sslContext(), HttpClient.Version.HTTP_2),
                        i -> Env.json(server.resolve("/api/v1/namespaces/schedbench/pods"), pod(i)), 201, false);
                System.out.println("  pod creates (all nodes cordoned): " + created.summary());
                try (BindWatch watch = new BindWatch(http, server, "schedbench", pods)) {
                    long w0 = System.nanoTime();
                    while (watch.unschedulable() < pods && System.nanoTime() - w0 < 120_000_000_000L) Thread.sleep(100);
                    System.out.printf("  %d pods marked unschedulable after %.1f s%n", watch.unschedulable(), (System.nanoTime() - w0) / 1e9);
                    Thread.sleep(1000); // the scheduler's queue is idle
                    if (watch.bound() != 0) throw new IOException(watch.bound() + " pods were bound to cordoned nodes");
                    long cpu0 = Machine.cpuNanos(s.pid());
                    long t0 = System.nanoTime();
                    fake.uncordonAll();
                    long uncordoned = System.nanoTime();
                    if (!watch.await(120)) throw new IOException("only " + watch.bound() + " of " + pods + " pods bound within 120 s");
                    double seconds = (watch.lastBindNanos() - t0) / 1e9;
                    double firstAfter = (watch.firstBindNanos() - t0) / 1e9;
                    long cpu = Machine.cpuNanos(s.pid()) - cpu0;
                    double rate = pods / seconds;
                    System.out.printf("  uncordoning %d nodes took %.2f s; first binding seen %.2f s after the first uncordon; server CPU %.1f s%n",
                            nodes, (uncordoned - t0) / 1e9, firstAfter, cpu / 1e9);
                    System.out.println("  " + fake.healthSummary() + "; pods deleted: " + watch.deleted() + "; watch taken up again: " + watch.rewatches() + " (after a relist: " + watch.relists() + ")");
                    System.out.printf("RESULT schedule %d pods on %d nodes: %.0f pods/s (%.2f s from the first uncordon request to the last binding seen), target >= %.0f pods/s, "
                            + "ratio %.2fx of target -> %s%n", pods, nodes, rate, seconds, TARGET_PODS_PER_SECOND, rate / TARGET_PODS_PER_SECOND,
                            verdict(rate >= TARGET_PODS_PER_SECOND, fake));
                }
            }
            http.close();
        }
    }

    static void deploy(Env env, int nodes, int replicas) throws Exception {
        System.out.printf("== deploy: one Deployment of %d replicas onto %d fake nodes; server JVM flags: %s%n", replicas, nodes, env.describeJavaOpts());
        try (K3jServer s = env.startServer("deploy")) {
            AdminCredentials cred = s.credentials();
            URI server = cred.server();
            HttpClient http = Http.client(cred.sslContext(), HttpClient.Version.HTTP_2);
            Env.createNamespace(http, server, "deploybench");
            try (FakeNodes fake = FakeNodes.register(http, server, nodes, false); BindWatch watch = new BindWatch(http, server, "deploybench", replicas)) {
                Thread.sleep(500);
                long t0 = System.nanoTime();
                HttpResponse<String> r = http.send(Env.json(server.resolve("/apis/apps/v1/namespaces/deploybench/deployments"),
                        deployment("big", replicas)), HttpResponse.BodyHandlers.ofString());
                FakeNodes.expect(r, 201, "creating the deployment");
                if (!watch.await(120)) throw new IOException("only " + watch.bound() + " of " + replicas + " pods bound within 120 s");
                double seconds = (watch.lastBindNanos() - t0) / 1e9;
                System.out.printf("  first pod bound after %.2f s%n", (watch.firstBindNanos() - t0) / 1e9);
                System.out.println("  " + fake.healthSummary() + "; pods deleted: " + watch.deleted() + "; watch taken up again: " + watch.rewatches() + " (after a relist: " + watch.relists() + ")");
                System.out.printf("RESULT deploy %d replicas on %d nodes: fully bound in %.2f s, target <= %.0f s, ratio %.2fx of target -> %s%n",
                        replicas, nodes, seconds, TARGET_DEPLOY_SECONDS, seconds / TARGET_DEPLOY_SECONDS, verdict(seconds <= TARGET_DEPLOY_SECONDS, fake));
            }
            http.close();
        }
    }

    static void objects(Env env, int nodes, int deployments, int objects, int timeoutSeconds, boolean nmt) throws Exception {
        int per = objects / deployments;
        if (nmt) {
            String base = env.javaOpts() != null ? env.javaOpts() : System.getenv("K3J_JAVA_OPTS") != null ? System.getenv("K3J_JAVA_OPTS") : "";
            env = new Env(env.repo(), env.work(), (base + " -XX:NativeMemoryTracking=summary").strip());
        }
        System.out.printf("== objects: %d Deployments x %d replicas = %d bound pods on %d fake nodes, then RSS; server JVM flags: %s%n",
                deployments, per, deployments * per, nodes, env.describeJavaOpts());
        try (K3jServer s = env.startServer("objects")) {
            AdminCredentials cred = s.credentials();
            URI server = cred.server();
            HttpClient http = Http.client(cred.sslContext(), HttpClient.Version.HTTP_2);
            Env.createNamespace(http, server, "objbench");
            System.out.println("  cmdline: " + s.commandLine());
            try (FakeNodes fake = FakeNodes.register(http, server, nodes, false); BindWatch watch = new BindWatch(http, server, "objbench", deployments * per)) {
                long cpu0 = Machine.cpuNanos(s.pid());
                long t0 = System.nanoTime();
                for (int d = 0; d < deployments; d++) {
                    FakeNodes.expect(http.send(Env.json(server.resolve("/apis/apps/v1/namespaces/objbench/deployments"), deployment("d" + d, per)),
                            HttpResponse.BodyHandlers.ofString()), 201, "creating deployment d" + d);
                }
                if (!watch.await(timeoutSeconds)) {
                    throw new IOException("only " + watch.bound() + " pods bound within " + timeoutSeconds + " s; " + fake.healthSummary());
                }
                System.out.printf("  all %d pods bound after %.1f s, server CPU %.1f s; %s%n", deployments * per, (System.nanoTime() - t0) / 1e9,
                        (Machine.cpuNanos(s.pid()) - cpu0) / 1e9, Machine.load());
                // the controllers settle (deployment status, endpoints) and the server turns idle; its idle-heap trimmer runs
                // one full collection once two 3-s periods pass without a young one, so the reading is taken after 60 s
                for (int t = 10; t <= 60; t += 10) {
                    Thread.sleep(10_000);
                    System.out.printf("  %d s after the last binding: VmRSS %d kB; %s%n", t, Machine.statusKb(s.pid(), "VmRSS"), Machine.load());
                }
                for (String l : java.nio.file.Files.readAllLines(s.log())) {
                    if (l.contains("idle after")) System.out.println("  server log: " + l);
                }
                HttpResponse<String> count = http.send(HttpRequest.newBuilder(server.resolve("/api/v1/pods?limit=1"))
                        .header("Accept", "application/json").timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
                System.out.println("  pods list (limit 1) answered " + count.statusCode());
                long rss = Machine.statusKb(s.pid(), "VmRSS");
                long hwm = Machine.statusKb(s.pid(), "VmHWM");
                double mib = rss / 1024.0;
                double mb = rss * 1024 / 1e6; // the bar is in MB: 400 MB = 381 MiB
                System.out.printf("  settled: VmRSS %d kB, VmHWM %d kB, server CPU since the first create %.1f s; %s%n", rss, hwm,
                        (Machine.cpuNanos(s.pid()) - cpu0) / 1e9, Machine.load());
                System.out.println(indent(RssBench.jcmd(s.pid(), "GC.heap_info")));
                System.out.println("  live objects after a full GC (GC.class_histogram, top 25 classes):");
                System.out.println(indent(RssBench.jcmd(s.pid(), "GC.class_histogram").lines().limit(28)
                        .collect(java.util.stream.Collectors.joining("\n"))));
                System.out.println("  after that full GC:");
                System.out.println(indent(RssBench.jcmd(s.pid(), "GC.heap_info")));
                Thread.sleep(6_000); // TrimNativeHeapInterval=5000 gives freed malloc memory back
                System.out.printf("  VmRSS after the full GC: %d kB%n", Machine.statusKb(s.pid(), "VmRSS"));
                if (nmt) System.out.println(indent(RssBench.jcmd(s.pid(), "VM.native_memory", "summary")));
                System.out.println("  " + fake.healthSummary() + "; pods deleted: " + watch.deleted() + "; watch taken up again: " + watch.rewatches() + " (after a relist: " + watch.relists() + ")");
                System.out.printf("RESULT objects %d pods + %d deployments/replicasets on %d nodes: VmRSS %.0f MB (%.0f MiB), target <= %d MB, ratio %.2fx of target -> %s%n",
                        deployments * per, deployments, nodes, mb, mib, TARGET_RSS_MB, mb / TARGET_RSS_MB,
                        verdict(mb <= TARGET_RSS_MB, fake));
            }
            http.close();
        }
    }

    /** MET or MISSED; INVALID when a fake node went NotReady during the run (pods evicted: not the intended load). */
    private static String verdict(boolean met, FakeNodes fake) {
        if (fake.notReadyCount() > 0) return "INVALID (" + fake.notReadyCount() + " nodes went NotReady)";
        return met ? "MET" : "MISSED";
    }

    private static String indent(String s) {
        return s.lines().map(l -> "    | " + l).collect(java.util.stream.Collectors.joining("\n"));
    }

    static String pod(int i) {
        return "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-" + i + "\",\"labels\":{\"app\":\"sched\"}},"
                + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.10\","
                + "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"}}}]}}";
    }

    static String deployment(String name, int replicas) {
        return "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"replicas\":" + replicas
                + ",\"selector\":{\"matchLabels\":{\"app\":\"" + name + "\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"" + name + "\"}},"
                + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.10\","
                + "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"}}}]}}}}";
    }
}
