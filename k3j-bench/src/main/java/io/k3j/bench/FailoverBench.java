package io.k3j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.k3j.store.etcd.EtcdCluster;
import io.k3j.store.etcd.EtcdStatus;
import io.k3j.store.etcd.EtcdTls;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Failover time of an HA cluster: {@code k3j cluster create --servers 3 --agents 0} (embedded etcd on every server, the
 * load balancer spreading the API port over them), writers creating ConfigMaps continuously through the load
 * balancer's API port, and {@code kill -9} of one server's process (its etcd member dies with it) several times,
 * alternately the etcd leader and a non-leader. Each kill is timed to the first acknowledged write among those sent
 * after it (issue 7's "kill → first successful write"); the killed server is started again with {@code k3j node start}
 * and must be back (its etcd member serving, the members agreeing on a leader) before the next kill. At the end every
 * acknowledged write must be there. The cluster is deleted whatever happens.
 */
final class FailoverBench {

    static final double BAR_SECONDS = 5;
    /** Writers: with one, a write stuck until its timeout hides the moment the API came back. */
    private static final int WRITERS = 4;
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    private FailoverBench() {
    }

    /** One acknowledged write: when it was sent and when its 201 arrived (nanoTime). */
    private record Ack(String name, long sent, long acked) {
    }

    private record Kill(String victim, boolean leader, long resumedMillis, int failedWrites, double restartSeconds) {
    }

    /** Where the nodes' logs of a kill slower than the bar are copied (--logs DIR), or null. */
    private static Path logsDir;

    static void run(Env env, int kills, int timeoutSeconds, Path logs) throws Exception {
        logsDir = logs;
        Path jar = env.repo().resolve("k3j-cli/target/k3j.jar");
        if (!Files.isRegularFile(jar)) throw new IOException("no " + jar + ": build it first (./k3j-bench-run builds it)");
        Path dir = env.freshDir("failover");
        String name = "fo" + HexFormat.of().formatHex(random(2));
        List<String> servers = List.of("k3j-" + name + "-server-0", "k3j-" + name + "-server-1", "k3j-" + name + "-server-2");
        System.out.printf("== failover: k3j cluster create %s --servers 3 --agents 0, %d writers through the load balancer, %d kill -9 "
                + "(etcd leader, non-leader, ...); %s%n", name, WRITERS, kills, Machine.load());
        Set<Long> before = allPids();
        try {
            long t0 = System.nanoTime();
            k3j(jar, dir, "cluster", "create", name, "--servers", "3", "--agents", "0", "--api-port", "127.0.0.1:" + Env.freePort(),
                    "--timeout", timeoutSeconds + "s");
            System.out.printf("  cluster create: %.1f s; %s%n", (System.nanoTime() - t0) / 1e9, Machine.load());
            measure(env, jar, dir, name, servers, kills, timeoutSeconds);
        } finally {
            long t0 = System.nanoTime();
            try {
                k3j(jar, dir, "cluster", "delete", name);
                System.out.printf("  cluster delete: %.1f s%n", (System.nanoTime() - t0) / 1e9);
            } catch (IOException e) {
                System.out.println("  cluster delete failed: " + e.getMessage());
            }
            List<String> left = leftovers(dir.resolve(name).toString(), name, before);
            System.out.println(left.isEmpty() ? "  nothing left behind (processes, network namespaces)" : "  LEFT BEHIND: " + left);
        }
    }

    private static void measure(Env env, Path jar, Path dir, String name, List<String> servers, int kills, int timeoutSeconds) throws Exception {
        Path cluster = dir.resolve(name);
        AdminCredentials cred = AdminCredentials.load(dir.resolve("kubeconfig"));
        // a loaded machine (load 40 on 2 CPUs) makes even a connect through the load balancer miss 5 s now and then
        Map<String, String> ips = retry(() -> nodeIps(cred));
        System.out.println("  servers: " + ips);
        HttpClient admin = Http.client(cred.sslContext(), HttpClient.Version.HTTP_1_1);
        retry(() -> {
            Env.createNamespace(admin, cred.server(), "failover");
            return null;
        });

        ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger seq = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            writers.add(Thread.ofPlatform().name("failover-writer-" + w).start(() -> write(cred, seq, acks, failed, stop)));
        }
        List<Kill> results = new ArrayList<>();
        String lastVictim = null;
        try {
            Thread.sleep(3000);
            if (acks.isEmpty()) throw new IOException("no write acknowledged in the first 3 s: " + failed.get() + " failed");
            for (int k = 0; k < kills; k++) {
                boolean killLeader = k % 2 == 0;
                String leader = leader(cluster, servers, ips);
                String victim = killLeader ? leader : pickNonLeader(servers, leader, lastVictim);
                long pid = Long.parseLong(Files.readString(cluster.resolve("nodes").resolve(victim).resolve("node.pid")).strip());
                int failedBefore = failed.get();
                // the server's JVM and its etcd member (a child that would follow by its parent-death signal a moment
                // later) die together, as when the machine goes: a write still committed by a dying leader is not a failover
                ProcessHandle node = ProcessHandle.of(pid).orElseThrow(() -> new IOException(victim + " (pid " + pid + ") is not running"));
                List<ProcessHandle> tree = new ArrayList<>(node.descendants().toList());
                tree.add(node);
                long killed = System.nanoTime();
                java.time.Instant killedAt = java.time.Instant.now(); // to line up with the etcd logs' timestamps
                tree.forEach(ProcessHandle::destroyForcibly);
                long resumed = -1;
                for (long until = killed + TimeUnit.SECONDS.toNanos(60); resumed < 0 && System.nanoTime() < until; Thread.sleep(20)) {
                    resumed = acks.stream().filter(a -> a.sent > killed).mapToLong(Ack::acked).min().orElse(-1);
                }
                long resumedMillis = resumed < 0 ? -1 : (resumed - killed) / 1_000_000;
                Thread.sleep(2000); // writes keep going on the two servers left
                int failedWrites = failed.get() - failedBefore;
                if (logsDir != null && (resumedMillis < 0 || resumedMillis > BAR_SECONDS * 1000)) keepLogs(cluster, servers, k + 1);
                long restarting = System.nanoTime();
                k3j(jar, dir, "node", "start", victim);
                awaitBack(cluster, servers, ips, victim, timeoutSeconds);
                double restartSeconds = (System.nanoTime() - restarting) / 1e9;
                Kill r = new Kill(victim, killLeader, resumedMillis, failedWrites, restartSeconds);
                results.add(r);
                lastVictim = victim;
                System.out.printf("  kill %d at %s: %s (%s, pid %d): first write sent after the kill acknowledged %s after it; %d writes failed meanwhile; "
                        + "back (node start + etcd member serving) %.1f s later; %s%n", k + 1, killedAt, victim, killLeader ? "etcd leader" : "not the leader", pid,
                        resumedMillis < 0 ? "NEVER (60 s)" : resumedMillis + " ms", failedWrites, restartSeconds, Machine.load());
                Thread.sleep(2000);
            }
        } finally {
            stop.set(true);
            for (Thread t : writers) t.join(30_000);
        }
        // every acknowledged write is there, read back through the load balancer
        Set<String> present = retry(() -> configMaps(admin, cred.server()));
        admin.close();
        List<String> lost = acks.stream().map(Ack::name).filter(n -> !present.contains(n)).sorted().toList();
        double[] resumed = results.stream().mapToDouble(r -> r.resumedMillis < 0 ? Double.POSITIVE_INFINITY : r.resumedMillis / 1000.0).toArray();
        double worst = java.util.Arrays.stream(resumed).max().orElse(Double.NaN);
        double median = Stats.median(resumed);
        System.out.printf("RESULT failover: kill -9 -> first acknowledged write sent after it, %d kills: %s s; median %.2f s, worst %.2f s (bar <= %.0f s: %s); "
                        + "%d writes acknowledged, %d lost%s; %d writes failed or timed out (%.0f s timeout) in all%n",
                results.size(), results.stream().map(r -> String.format("%.2f%s", r.resumedMillis / 1000.0, r.leader ? "(L)" : "")).toList(),
                median, worst, BAR_SECONDS, worst <= BAR_SECONDS ? "MET" : "MISSED",
                acks.size(), lost.size(), lost.isEmpty() ? "" : " " + lost.subList(0, Math.min(20, lost.size())), failed.get(),
                (double) WRITE_TIMEOUT.toSeconds());
        if (!lost.isEmpty()) throw new IOException(lost.size() + " acknowledged writes lost");
    }

    private interface Step<T> {
        T run() throws IOException, InterruptedException;
    }

    /** Runs a setup or check step again on I/O failures, for up to a minute. */
    private static <T> T retry(Step<T> step) throws IOException, InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                return step.run();
            } catch (IOException e) {
                if (System.nanoTime() > until) throw e;
                Thread.sleep(1000);
            }
        }
    }

    /** One writer: ConfigMap creates one after the other; a fresh connection after any failure. */
    private static void write(AdminCredentials cred, AtomicInteger seq, ConcurrentLinkedQueue<Ack> acks, AtomicInteger failed, AtomicBoolean stop) {
        HttpClient http = Http.client(cred.sslContext(), HttpClient.Version.HTTP_1_1);
        URI url = cred.server().resolve("/api/v1/namespaces/failover/configmaps");
        while (!stop.get()) {
            String name = "w-" + seq.getAndIncrement();
            HttpRequest req = HttpRequest.newBuilder(url).timeout(WRITE_TIMEOUT)
                    .header("Content-Type", "application/json").header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name
                            + "\"},\"data\":{\"k\":\"" + name + "\"}}")).build();
            long sent = System.nanoTime();
            try {
                HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 201) {
                    acks.add(new Ack(name, sent, System.nanoTime()));
                    continue;
                }
                failed.incrementAndGet();
            } catch (IOException e) {
                failed.incrementAndGet();
                http.close();
                http = Http.client(cred.sslContext(), HttpClient.Version.HTTP_1_1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            sleep(50); // refused at once (a 5xx): don't spin
        }
        http.close();
    }

    private static Set<String> configMaps(HttpClient http, URI server) throws IOException, InterruptedException {
        Set<String> names = ConcurrentHashMap.newKeySet();
        String cont = "";
        do {
            URI u = server.resolve("/api/v1/namespaces/failover/configmaps?limit=5000" + (cont.isEmpty() ? "" : "&continue=" + cont));
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(u).timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IOException("listing configmaps: " + r.statusCode() + " " + r.body());
            JsonNode list = JSON.readTree(r.body());
            list.path("items").forEach(i -> names.add(i.path("metadata").path("name").asText()));
            cont = list.path("metadata").path("continue").asText("");
        } while (!cont.isEmpty());
        return names;
    }

    /** Node name → InternalIP, from the API. */
    private static Map<String, String> nodeIps(AdminCredentials cred) throws IOException, InterruptedException {
        HttpClient http = Http.client(cred.sslContext(), HttpClient.Version.HTTP_1_1);
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(cred.server().resolve("/api/v1/nodes")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IOException("listing nodes: " + r.statusCode() + " " + r.body());
            Map<String, String> ips = new TreeMap<>();
            for (JsonNode n : JSON.readTree(r.body()).path("items")) {
                for (JsonNode a : n.path("status").path("addresses")) {
                    if (a.path("type").asText().equals("InternalIP")) ips.put(n.path("metadata").path("name").asText(), a.path("address").asText());
                }
            }
            return ips;
        } finally {
            http.close();
        }
    }

    /** The server whose etcd member leads, as every running member answering {@code status} agrees. */
    private static String leader(Path cluster, List<String> servers, Map<String, String> ips) throws IOException, InterruptedException {
        IOException last = null;
        for (int attempt = 0; attempt < 50; attempt++) {
            try {
                return leaderOnce(cluster, servers, ips);
            } catch (IOException | RuntimeException e) {
                last = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
                Thread.sleep(200);
            }
        }
        throw last;
    }

    private static String leaderOnce(Path cluster, List<String> servers, Map<String, String> ips) throws IOException {
        EtcdTls tls = tls(cluster, servers);
        Long leaderId = null;
        String leader = null;
        for (String s : servers) {
            EtcdStatus st = EtcdCluster.status(URI.create("https://" + ips.get(s) + ":2379"), tls);
            if (leaderId != null && st.leaderId() != leaderId) throw new IOException("members disagree on the leader");
            leaderId = st.leaderId();
            if (st.isLeader()) leader = s;
        }
        if (leader == null) throw new IOException("no member is the leader");
        return leader;
    }

    /** After {@code k3j node start}: every member serves again and they agree on one leader. */
    private static void awaitBack(Path cluster, List<String> servers, Map<String, String> ips, String victim, int timeoutSeconds)
            throws IOException, InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        Exception last = null;
        while (System.nanoTime() < until) {
            try {
                leaderOnce(cluster, servers, ips);
                return;
            } catch (IOException | RuntimeException e) {
                last = e;
            }
            Thread.sleep(200);
        }
        throw new IOException(victim + " not back within " + timeoutSeconds + " s: " + last);
    }

    /** The etcd client certificate of a running server (any: they share the cluster's etcd CA). */
    private static EtcdTls tls(Path cluster, List<String> servers) throws IOException {
        for (String s : servers) {
            Path t = cluster.resolve("nodes").resolve(s).resolve("data/server/tls/etcd");
            if (Files.isRegularFile(t.resolve("client.key"))) {
                return new EtcdTls(t.resolve("server-ca.crt"), t.resolve("client.crt"), t.resolve("client.key"));
            }
        }
        throw new IOException("no etcd client certificate under " + cluster.resolve("nodes"));
    }

    /** Copies every server's node log and etcd log (the killed one's too: its files outlive it) for a slow kill. */
    private static void keepLogs(Path cluster, List<String> servers, int kill) throws IOException {
        Path to = logsDir.resolve("kill-" + kill);
        Files.createDirectories(to);
        for (String s : servers) {
            Path node = cluster.resolve("nodes").resolve(s);
            for (Path f : List.of(node.resolve("node.log"), node.resolve("data/server/db/etcd.log"))) {
                if (Files.isRegularFile(f)) Files.copy(f, to.resolve(s + "-" + f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        System.out.println("  kill " + kill + " was slower than the bar: the servers' logs are in " + to);
    }

    /** A server other than the leader, and other than the one killed last when there is a choice. */
    private static String pickNonLeader(List<String> servers, String leader, String lastVictim) {
        List<String> others = servers.stream().filter(s -> !s.equals(leader)).toList();
        return others.stream().filter(s -> !s.equals(lastVictim)).findFirst().orElse(others.getFirst());
    }

    /** {@code java -jar k3j.jar ARGS} with the bench's cluster folder and kubeconfig; its output on failure. */
    private static void k3j(Path jar, Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("K3J_CLUSTER_DIR", dir.toString());
        pb.environment().put("KUBECONFIG", dir.resolve("kubeconfig").toString());
        Process p = pb.start();
        Processes.track(p);
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) out.append(l).append('\n');
        }
        int exit = p.waitFor();
        Processes.forget(p);
        if (exit != 0) throw new IOException("k3j " + String.join(" ", args) + " exited " + exit + ":\n" + out);
    }

    private static Set<Long> allPids() {
        Set<Long> pids = ConcurrentHashMap.newKeySet();
        ProcessHandle.allProcesses().forEach(p -> pids.add(p.pid()));
        return pids;
    }

    /** Processes naming the cluster's folder, and network namespaces of its nodes, still there after delete. */
    private static List<String> leftovers(String marker, String name, Set<Long> before) {
        List<String> left = new ArrayList<>();
        ProcessHandle.allProcesses().filter(p -> !before.contains(p.pid())).forEach(p -> {
            String cmdline = Machine.read("/proc/" + p.pid() + "/cmdline");
            if (cmdline.replace('\0', ' ').contains(marker)) left.add("process " + p.pid());
        });
        try (var netns = Files.list(Path.of("/run/netns"))) {
            netns.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("k3j-" + name + "-"))
                    .forEach(f -> left.add("netns " + f));
        } catch (IOException noNetnsDir) {
            // none at all
        }
        return left;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }
}
