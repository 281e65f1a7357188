package io.k3j.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code k3j cluster create} and {@code delete} as a user runs them (root, the built k3j jar, its own cluster folder and
 * kubeconfig): wall time from the command's start to its exit — create waits until every node is Ready — and the
 * progress lines' own times for "API serving" and each node's Ready; then the memory of each node (its JVM, and
 * everything of the node: containerd, shims, pods) and of the whole cluster with its load balancer, read 10 s after
 * create returned. k3d can't run here (no Docker): its published recordings are the anchor.
 */
final class ClusterBench {

    /** k3d's own recordings, quoted in issue 6: 41 s for 1 server + 3 agents; 14–19 s for 3 + 3 on Docker. */
    static final String K3D_ANCHOR = "k3d's recordings: 41 s for 1 server + 3 agents, 14-19 s for 3 servers + 3 agents";

    private static final Pattern STEP = Pattern.compile("\\[\\s*([0-9.]+)s] (.*)");

    private ClusterBench() {
    }

    static void run(Env env, int runs, int servers, int agents) throws Exception {
        Path jar = env.repo().resolve("k3j-cli/target/k3j.jar");
        if (!Files.isRegularFile(jar)) throw new IOException("no " + jar + ": build it first (./k3j-bench-run builds it)");
        Path dir = env.freshDir("clusters");
        System.out.printf("cluster: %d run(s) of `k3j cluster create --servers %d --agents %d` then `k3j cluster delete`; %s%n",
                runs, servers, agents, Machine.load());
        List<Double> creates = new ArrayList<>();
        List<Double> deletes = new ArrayList<>();
        List<Double> totalsMiB = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            String name = "bench" + i;
            List<String> create = new ArrayList<>(List.of("cluster", "create", name, "--servers", Integer.toString(servers),
                    "--agents", Integer.toString(agents), "--api-port", "127.0.0.1:" + Env.freePort(), "--timeout", "300s"));
            Result c = k3j(env, jar, dir, create);
            if (c.exit != 0) {
                k3j(env, jar, dir, List.of("cluster", "delete", name));
                throw new IOException("cluster create failed (exit " + c.exit + "):\n" + String.join("\n", c.lines));
            }
            creates.add(c.seconds);
            System.out.printf("  run %d: create %.1f s (%s)%n", i + 1, c.seconds, milestones(c.lines));
            Thread.sleep(10_000);
            Map<String, long[]> rss = memory(dir.resolve(name));
            long total = 0;
            StringBuilder per = new StringBuilder();
            for (Map.Entry<String, long[]> e : rss.entrySet()) {
                total += e.getValue()[1];
                per.append(String.format("%s JVM %.1f / all %.1f MiB; ", e.getKey(), e.getValue()[0] / 1024.0, e.getValue()[1] / 1024.0));
            }
            totalsMiB.add(total / 1024.0);
            System.out.printf("         RSS: %swhole cluster %.1f MiB%n", per, total / 1024.0);
            Result d = k3j(env, jar, dir, List.of("cluster", "delete", name));
            if (d.exit != 0) throw new IOException("cluster delete failed (exit " + d.exit + "):\n" + String.join("\n", d.lines));
            deletes.add(d.seconds);
            System.out.printf("         delete %.1f s%n", d.seconds);
        }
        System.out.printf("  create: median %.1f s (bar %s); delete: median %.1f s (bar 5 s); whole-cluster RSS median %.0f MiB; %s%n",
                median(creates), servers == 1 ? "15 s" : "30 s", median(deletes), median(totalsMiB), K3D_ANCHOR);
        System.out.println("  after: " + Machine.load());
    }

    private record Result(int exit, double seconds, List<String> lines) {
    }

    /** Runs {@code java -jar k3j.jar ARGS} with the bench's cluster folder and kubeconfig; wall time to exit. */
    private static Result k3j(Env env, Path jar, Path dir, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("K3J_CLUSTER_DIR", dir.toString());
        pb.environment().put("KUBECONFIG", dir.resolve("kubeconfig").toString());
        long t0 = System.nanoTime();
        Process p = pb.start();
        Processes.track(p);
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) lines.add(l);
        }
        int exit = p.waitFor();
        Processes.forget(p);
        return new Result(exit, (System.nanoTime() - t0) / 1e9, lines);
    }

    /** "API 9.1 s, k3j-bench0-server-0 Ready 14.2 s, ...": the command's own progress times. */
    private static String milestones(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            Matcher m = STEP.matcher(l.strip());
            if (!m.matches()) continue;
            String what = m.group(2);
            if (what.startsWith("API of")) out.add("API " + m.group(1) + " s");
            else if (what.endsWith(" is Ready")) out.add(what.substring("node ".length(), what.length() - " is Ready".length()) + " Ready " + m.group(1) + " s");
        }
        return String.join(", ", out);
    }

    /**
     * Per node: the VmRSS of its JVM (from its pid file) and of everything of the node (found as the cluster tool finds
     * a node's leftovers: command lines naming the node's folders, or its cgroup); plus the load balancer. In KiB.
     */
    private static Map<String, long[]> memory(Path cluster) throws IOException {
        Map<String, long[]> out = new LinkedHashMap<>();
        List<Path> nodes;
        try (Stream<Path> s = Files.list(cluster.resolve("nodes"))) {
            nodes = s.sorted().toList();
        }
        for (Path node : nodes) {
            String name = node.getFileName().toString();
            long jvm = 0;
            Path pidFile = node.resolve("node.pid");
            if (Files.isRegularFile(pidFile)) jvm = rss(Long.parseLong(Files.readString(pidFile).strip()));
            long all = 0;
            for (long pid : pidsOf(node.toString(), "/run/k3j/" + name, "/k3j/" + name)) all += rss(pid);
            out.put(name, new long[] {jvm, Math.max(all, jvm)});
        }
        Path lb = cluster.resolve("lb.pid");
        if (Files.isRegularFile(lb)) {
            long r = rss(Long.parseLong(Files.readString(lb).strip()));
            out.put("loadbalancer", new long[] {r, r});
        }
        return out;
    }

    private static List<Long> pidsOf(String dir, String runDir, String cgroup) throws IOException {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String f = p.getFileName().toString();
                if (!f.chars().allMatch(Character::isDigit)) continue;
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                    String cgroups = Files.readString(p.resolve("cgroup"));
                    if (cmdline.contains(dir + "/") || cmdline.contains(runDir + "/") || cgroups.contains(cgroup + "/") || cgroups.contains(cgroup + "\n")) {
                        pids.add(Long.parseLong(f));
                    }
                } catch (IOException gone) {
                    // exited while we looked
                }
            }
        }
        return pids;
    }

    private static long rss(long pid) {
        try {
            return Machine.statusKb(pid, "VmRSS");
        } catch (IOException | RuntimeException gone) {
            return 0;
        }
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
