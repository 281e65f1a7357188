package io.k3j.bench;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark runner: {@code ./k3j-bench-run <startup|rss|create|watch|list|...|dns|all> [--option value ...]}.
 * Every benchmark starts its own server (and etcd) processes and stops them by PID; lines starting with
 * RESULT are the figures docs/benchmarks.md records.
 */
public final class Main {

    private static final List<String> NAMES = List.of("startup", "rss", "create", "watch", "list", "schedule", "deploy", "objects", "pods", "dns", "proxy", "ingress", "cluster", "datastores", "failover", "all");

    private Main() {
    }

    /**
     * Runs the named benchmark.
     *
     * @throws IllegalArgumentException on an unknown benchmark or option
     * @throws Exception when a benchmark cannot run (server does not start, etcd missing, ...)
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !NAMES.contains(args[0])) {
            System.err.println("usage: k3j-bench-run <" + String.join("|", NAMES) + "> [--repo DIR] [--work DIR] [--java-opts 'FLAGS']\n"
                    + "  startup: --runs 5 | rss: --idle 30 --nmt | create: --count 10000 --clients 32 --connections 4 --warmup 1000 --http 2|1.1\n"
                    + "  create, list, datastores: --client netty|jdk (load generator: Netty, or one JDK HttpClient per connection) --tls openssl|jdk --load-threads 1 (Netty's)\n"
                    + "  watch: --watchers 1000 --writes 200 --interval-ms 50 --per-connection 100 --warmup-writes 20 | list: --pods 10000 --clients 32 --lists 7\n"
                    + "  schedule: --nodes 100 --pods 5000 --clients 16 | deploy: --nodes 100 --replicas 1000 | objects: --nodes 100 --deployments 10 --objects 10000 --timeout 300 (seconds to bind all) --nmt\n"
                    + "  pods: --runs 3 --sequential 5 --burst 30 --agent-java-opts 'FLAGS' --nmt (root; not part of all)\n"
                    + "  dns: --services 1000 --seconds 10 --outstanding 100 --udp-threads 1 (needs Debian's dnsperf; not part of all)\n"
                    + "  proxy: --runs 5 --services 1000 --endpoints 10 --updates 10 (root; not part of all)\n"

                    + "  ingress: --backend pod|inprocess --runs 3 --seconds 10 --connections 32 --threads 1 --proxy-threads 2 (wrk and nginx from Debian; not part of all)\n"
                    + "           pod (root): a busybox httpd pod on a real agent + containerd, --connection keep-alive|close|both (default both),\n"
                    + "           --warmup 30 (seconds of each target before the runs: the agent's JIT at a fork-per-connection pod's rate);\n"
                    + "           inprocess: a Java backend and the ingress controller in this JVM (--proxy-threads event loops)\n"
                    + "  cluster: --runs 3 --servers 1 --agents 2 (root; not part of all)\n"
                    + "  datastores: --count 5000 --clients 32 --warmup 500 --stores sqlite,etcd,postgres,mysql --http 2|1.1 --connections 4 (netty) (root; not part of all)\n"
                    + "  failover: --kills 5 --timeout 300 --logs DIR (keeps the logs of a kill slower than 5 s) (root; k3j cluster create --servers 3 --agents 0; not part of all)");
            System.exit(2);
        }
        Map<String, String> o = options(args);
        Path repo = Path.of(o.getOrDefault("repo", ".")).toAbsolutePath().normalize();
        if (!Files.isExecutable(repo.resolve("k3j"))) {
            throw new IllegalArgumentException("--repo " + repo + " (expected: the k3j checkout holding the ./k3j launcher)");
        }
        Path work = o.containsKey("work") ? Path.of(o.get("work")) : Files.createTempDirectory("k3j-bench-");
        Env env = new Env(repo, work, o.get("java-opts"));
        try {
            System.out.println("machine: " + Machine.describe());
            System.out.println("scratch: " + work);
            String name = args[0];
            boolean all = name.equals("all");
            if (all || name.equals("startup")) {
                System.out.println("  before: " + Machine.load());
                StartupBench.run(env, intOpt(o, "runs", 5));
                System.out.println("  after: " + Machine.load());
            }
            if (all || name.equals("rss")) {
                System.out.println("  before: " + Machine.load());
                RssBench.run(env, intOpt(o, "idle", 30), o.containsKey("nmt"));
                System.out.println("  after: " + Machine.load());
            }
            if (all || name.equals("create")) {
                HttpClient.Version v = "1.1".equals(o.get("http")) ? HttpClient.Version.HTTP_1_1 : HttpClient.Version.HTTP_2;
                System.out.println("  before: " + Machine.load());
                CreateBench.run(env, intOpt(o, "count", 10_000), intOpt(o, "clients", 32), intOpt(o, "connections", 4), intOpt(o, "warmup", 1000), v, LoadClient.of(o));
                System.out.println("  after: " + Machine.load());
            }
            if (all || name.equals("watch")) {
                System.out.println("  before: " + Machine.load());
                WatchBench.run(env, intOpt(o, "watchers", 1000), intOpt(o, "writes", 200), intOpt(o, "interval-ms", 50),
                        intOpt(o, "per-connection", 100), intOpt(o, "warmup-writes", 20),
                        "1.1".equals(o.get("http")) ? HttpClient.Version.HTTP_1_1 : HttpClient.Version.HTTP_2);
                System.out.println("  after: " + Machine.load());
            }
            if (all || name.equals("list")) {
                System.out.println("  before: " + Machine.load());
                ListBench.run(env, intOpt(o, "pods", 10_000), intOpt(o, "clients", 32), intOpt(o, "lists", 7), LoadClient.of(o));
                System.out.println("  after: " + Machine.load());
            }
            if (all || name.equals("schedule")) {
                System.out.println("  before: " + Machine.load());
                SchedulerBench.schedule(env, intOpt(o, "nodes", 100), intOpt(o, "pods", 5000), intOpt(o, "clients", 16));
                System.out.println("  after: " + Machine.load());
            }
            if (all || name.equals("deploy")) {
                System.out.println("  before: " + Machine.load());
                SchedulerBench.deploy(env, intOpt(o, "nodes", 100), intOpt(o, "replicas", 1000));
                System.out.println("  after: " + Machine.load());
            }
            if (all || name.equals("objects")) {
                System.out.println("  before: " + Machine.load());
                SchedulerBench.objects(env, intOpt(o, "nodes", 100), intOpt(o, "deployments", 10), intOpt(o, "objects", 10_000), intOpt(o, "timeout", 300), o.containsKey("nmt"));
                System.out.println("  after: " + Machine.load());
            }
            if (name.equals("pods")) { // needs root, containerd and a real node: run on its own only
                System.out.println("  before: " + Machine.load());
                PodBench.run(env, intOpt(o, "runs", 3), intOpt(o, "sequential", 5), intOpt(o, "burst", 30), o.get("agent-java-opts"), o.containsKey("nmt"));
                System.out.println("  after: " + Machine.load());
            }
            if (name.equals("dns")) { // needs Debian's dnsperf: run on its own only
                DnsBench.run(env, intOpt(o, "services", 1000), intOpt(o, "seconds", 10), intOpt(o, "outstanding", 100), intOpt(o, "udp-threads", 1));
            }
            if (name.equals("proxy")) { // needs root and nft; runs in-process, no server
                System.out.println("  before: " + Machine.load());
                ProxyBench.run(intOpt(o, "runs", 5), intOpt(o, "services", 1000), intOpt(o, "endpoints", 10), intOpt(o, "updates", 10));
                System.out.println("  after: " + Machine.load());
            }
            if (name.equals("ingress")) { // installs wrk when missing (root): run on its own only
                String backend = o.getOrDefault("backend", "pod");
                System.out.println("  before: " + Machine.load());
                if (backend.equals("pod")) {
                    IngressPodBench.run(env, intOpt(o, "runs", 3), intOpt(o, "seconds", 10), intOpt(o, "connections", 32),
                            intOpt(o, "threads", 1), intOpt(o, "proxy-threads", 2), o.getOrDefault("connection", "both"), intOpt(o, "warmup", 30));
                } else if (backend.equals("inprocess")) {
                    IngressBench.run(env, intOpt(o, "runs", 3), intOpt(o, "seconds", 10), intOpt(o, "connections", 32),
                            intOpt(o, "threads", 1), intOpt(o, "proxy-threads", 2));
                } else {
                    throw new IllegalArgumentException("--backend " + backend + " (expected: pod or inprocess)");
                }
                System.out.println("  after: " + Machine.load());
            }
            if (name.equals("cluster")) { // root: k3j cluster create/delete with the built jar; run on its own only
                ClusterBench.run(env, intOpt(o, "runs", 3), intOpt(o, "servers", 1), intOpt(o, "agents", 2));
            }
            if (name.equals("datastores")) { // root: private PostgreSQL, MariaDB and etcd processes; run on its own only
                DatastoreBench.run(env, intOpt(o, "count", 5000), intOpt(o, "clients", 32), intOpt(o, "warmup", 500),
                        "1.1".equals(o.get("http")) ? HttpClient.Version.HTTP_1_1 : HttpClient.Version.HTTP_2, DatastoreBench.stores(o.get("stores")), intOpt(o, "connections", 4), LoadClient.of(o));
            }
            if (name.equals("failover")) { // root: a 3-server cluster, kill -9 of servers; run on its own only
                FailoverBench.run(env, intOpt(o, "kills", 5), intOpt(o, "timeout", 300), o.containsKey("logs") ? Path.of(o.get("logs")) : null);
            }
        } finally {
            if (!o.containsKey("work")) deleteTree(work); // a scratch dir of our own: leave nothing behind, even when a case failed
        }
        System.exit(0);
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException e) {
            System.out.println("could not remove scratch dir " + dir + ": " + e.getMessage());
        }
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("option : " + a + " (expected: --name [value])");
            }
            String key = a.substring(2);
            if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                o.put(key, args[++i]);
            } else {
                o.put(key, "true");
            }
        }
        return o;
    }

    private static int intOpt(Map<String, String> o, String key, int dflt) {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        int n = Integer.parseInt(v);
        if (n < 1) {
            throw new IllegalArgumentException("--" + key + " : " + n + " (expected: >= 1)");
        }
        return n;
    }
}
