package io.k3j.bench;

import io.k3j.agent.dns.ClusterDns;
import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.agent.kube.Informer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cluster DNS queries per second: a {@code k3j server} process with N Services, the agent's {@link ClusterDns} in
 * this JVM fed by informers over HTTPS (as in an agent), and Debian's {@code dnsperf} — the tool behind CoreDNS's
 * published figures — as a separate process sending A queries for the Services' names over UDP on loopback. A
 * warm-up run (JIT) is not measured; then a saturation run gives queries/s and dnsperf's average latency, and a
 * second run with {@code -v} gives every query's latency for p50/p99.
 */
final class DnsBench {

    /** CoreDNS (default settings) on a GCE n1-standard-2 (2 vCPUs), internal names: coredns/deployment Scaling_CoreDNS.md. */
    static final double COREDNS_QPS = 33_669;

    private DnsBench() {
    }

    static void run(Env env, int services, int seconds, int outstanding, int udpThreads) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/dnsperf"))) {
            throw new IllegalStateException("dnsperf is missing (expected /usr/bin/dnsperf: apt-get install dnsperf)");
        }
        System.out.printf("== dns: %d Services, dnsperf -q %d for %d s, %d UDP threads; server JVM flags: %s%n",
                services, outstanding, seconds, udpThreads, env.describeJavaOpts());
        Path dir = env.freshDir("dns");
        Path kubeconfig = dir.resolve("kubeconfig.yaml");
        try (K3jServer s = K3jServer.start(env.repo(), dir.resolve("data"), kubeconfig, Env.freePort(), env.javaOpts(), dir.resolve("server.log"))) {
            s.awaitReady(Duration.ofSeconds(60));
            AdminCredentials cred = s.credentials();
            HttpClient admin = Http.client(cred.sslContext(), HttpClient.Version.HTTP_2);
            Env.createNamespace(admin, cred.server(), "bench");
            admin.close();
            long t0 = System.nanoTime();
            Load.Result created = Load.run(services, 8, () -> Http.client(cred.sslContext(), HttpClient.Version.HTTP_2),
                    i -> service(cred.server(), i), 201, false);
            System.out.printf("  created %d Services in %.1f s (errors %d)%n", services, (System.nanoTime() - t0) / 1e9, created.errors());

            String[] pem = pems(kubeconfig);
            try (HttpKubeClient kube = HttpKubeClient.withClientCertificate(cred.server(), pem[0], pem[1], pem[2])) {
                Informer svcs = new Informer(kube, "/api/v1/services", Map.of(), null);
                Informer slices = new Informer(kube, "/apis/discovery.k8s.io/v1/endpointslices", Map.of(), null);
                Informer nodes = new Informer(kube, "/api/v1/nodes", Map.of(), null);
                ClusterDns dns = new ClusterDns(ClusterDns.Config.of(new InetSocketAddress("127.0.0.1", 0), "cluster.local", List.of())
                        .withUdpThreads(udpThreads), svcs, slices, nodes);
                try {
                    for (Informer i : List.of(svcs, slices, nodes)) i.start();
                    for (Informer i : List.of(svcs, slices, nodes)) {
                        if (!i.awaitSynced(Duration.ofSeconds(60))) throw new IOException("informers did not sync");
                    }
                    dns.start();
                    int port = dns.address().getPort();
                    Path queries = dir.resolve("queries.txt");
                    List<String> lines = new ArrayList<>();
                    for (int i = 0; i < services; i++) lines.add("svc-" + i + ".bench.svc.cluster.local A");
                    Collections.shuffle(lines, new Random(1));
                    Files.write(queries, lines);
                    System.out.println("  warm-up: " + dnsperf(port, queries, 3, outstanding, false, dir).summary());
                    System.out.println("  before: " + Machine.load());
                    long cpu0 = Machine.selfCpuNanos();
                    Perf run = dnsperf(port, queries, seconds, outstanding, false, dir);
                    long cpu = Machine.selfCpuNanos() - cpu0;
                    System.out.println("  after: " + Machine.load());
                    System.out.println("  saturation: " + run.summary());
                    System.out.printf("  CPU of this JVM (the DNS server; informers idle): %.2f s = %.1f us per query (=> %.0f queries/s per fully used core)%n",
                            cpu / 1e9, cpu / 1e3 / Math.max(1, run.completed), run.completed / (cpu / 1e9));
                    Perf verbose = dnsperf(port, queries, Math.min(seconds, 5), outstanding, true, dir);
                    System.out.println("  per-query run (-v): " + verbose.summary());
                    System.out.printf("RESULT dns k3j ClusterDns: %.0f queries/s (UDP, %d outstanding, %d names, lost %d), latency avg %.3f ms, "
                                    + "p50 %.3f ms, p99 %.3f ms (from the -v run at %.0f queries/s); CoreDNS published %.0f queries/s "
                                    + "on 2 vCPUs with the load generator elsewhere -> ratio %.2f%n",
                            run.qps, outstanding, services, run.lost, run.avgMs, verbose.p50Ms, verbose.p99Ms, verbose.qps, COREDNS_QPS,
                            run.qps / COREDNS_QPS);
                } finally {
                    dns.close();
                    for (Informer i : List.of(svcs, slices, nodes)) i.close();
                }
            }
        }
    }

    private static HttpRequest service(URI server, int i) {
        String body = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"svc-" + i + "\"},"
                + "\"spec\":{\"selector\":{\"app\":\"svc-" + i + "\"},\"ports\":[{\"name\":\"http\",\"port\":80}]}}";
        return Env.json(server.resolve("/api/v1/namespaces/bench/services"), body);
    }

    /** CA, client certificate and key PEMs of the admin kubeconfig. */
    private static String[] pems(Path kubeconfig) throws IOException {
        String[] out = new String[3];
        for (String line : Files.readAllLines(kubeconfig)) {
            String t = line.strip();
            int i = t.startsWith("certificate-authority-data:") ? 0 : t.startsWith("client-certificate-data:") ? 1
                    : t.startsWith("client-key-data:") ? 2 : -1;
            if (i >= 0) out[i] = new String(Base64.getDecoder().decode(t.substring(t.indexOf(':') + 1).strip()), StandardCharsets.UTF_8);
        }
        for (String p : out) {
            if (p == null) throw new IOException(kubeconfig + ": expected certificate-authority-data, client-certificate-data and client-key-data");
        }
        return out;
    }

    /** One dnsperf run's figures. */
    record Perf(long completed, long lost, double qps, double avgMs, double p50Ms, double p99Ms) {
        String summary() {
            return String.format("%d completed, %d lost, %.0f queries/s, avg %.3f ms%s", completed, lost, qps, avgMs,
                    Double.isNaN(p50Ms) ? "" : String.format(", p50 %.3f ms, p99 %.3f ms", p50Ms, p99Ms));
        }
    }

    private static final Pattern COMPLETED = Pattern.compile("Queries completed:\\s+(\\d+)");
    private static final Pattern LOST = Pattern.compile("Queries lost:\\s+(\\d+)");
    private static final Pattern QPS = Pattern.compile("Queries per second:\\s+([\\d.]+)");
    private static final Pattern AVG = Pattern.compile("Average Latency \\(s\\):\\s+([\\d.]+)");

    private static Perf dnsperf(int port, Path queries, int seconds, int outstanding, boolean verbose, Path dir)
            throws IOException, InterruptedException {
        Path out = dir.resolve(verbose ? "dnsperf-v.txt" : "dnsperf.txt");
        List<String> cmd = new ArrayList<>(List.of("dnsperf", "-s", "127.0.0.1", "-p", Integer.toString(port), "-d", queries.toString(),
                "-l", Integer.toString(seconds), "-q", Integer.toString(outstanding), "-t", "2"));
        if (verbose) cmd.add("-v");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("dnsperf did not finish: " + String.join(" ", cmd));
        }
        String text = Files.readString(out);
        long completed = Long.parseLong(find(COMPLETED, text, cmd));
        long lost = Long.parseLong(find(LOST, text, cmd));
        double qps = Double.parseDouble(find(QPS, text, cmd));
        double avg = Double.parseDouble(find(AVG, text, cmd)) * 1000;
        double p50 = Double.NaN, p99 = Double.NaN;
        if (verbose) {
            // "> NOERROR svc-1.bench.svc.cluster.local A 0.000123": the last field is the latency in seconds
            List<Double> lat = new ArrayList<>();
            for (String l : text.split("\n")) {
                if (!l.startsWith(">")) continue;
                String[] f = l.trim().split("\\s+");
                try {
                    lat.add(Double.parseDouble(f[f.length - 1]));
                } catch (NumberFormatException e) {
                    // not a per-query line
                }
            }
            if (lat.isEmpty()) throw new IOException("dnsperf -v printed no per-query latencies (see " + out + ")");
            Collections.sort(lat);
            p50 = lat.get((int) Math.min(lat.size() - 1, Math.round(lat.size() * 0.50))) * 1000;
            p99 = lat.get((int) Math.min(lat.size() - 1, Math.round(lat.size() * 0.99))) * 1000;
        }
        Files.deleteIfExists(out);
        return new Perf(completed, lost, qps, avg, p50, p99);
    }

    private static String find(Pattern p, String text, List<String> cmd) throws IOException {
        Matcher m = p.matcher(text);
        if (!m.find()) throw new IOException(String.join(" ", cmd) + ": no '" + p.pattern() + "' in its output:\n" + text);
        return m.group(1);
    }
}
