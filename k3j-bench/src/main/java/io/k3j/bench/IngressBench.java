package io.k3j.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.ingress.IngressConfig;
import io.k3j.agent.ingress.IngressController;
import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.agent.kube.Informer;
import io.k3j.api.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Issue 5: requests/s and p99 latency through the agent's ingress controller against the same backend reached
 * directly, with wrk from Debian on loopback. A {@code k3j server --disable-agent} holds the Ingress, Service and
 * EndpointSlice; the controller runs in this JVM with its informers on the admin kubeconfig (as the agent runs it
 * with the node's); the backend is a small keep-alive HTTP server in its own JVM ({@link HelloBackend}). The anchor is
 * Debian's nginx doing the same job in front of the same backend. Runs alternate direct / ingress / nginx so that all
 * three see the same neighbours' load; the medians are the figures. (Traefik, what k3s ships, has no Debian package.)
 *
 * <p>This is {@code --backend inprocess}: with a backend that costs next to nothing per request it isolates the
 * proxy's own CPU per request (what changes to io.k3j.agent.ingress are judged by). The figure, a real pod
 * behind a real agent, is {@link IngressPodBench} ({@code --backend pod}, the default).
 */
final class IngressBench {
    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern P50 = Pattern.compile("\\s50%\\s+([0-9.]+)(us|ms|s)");
    private static final Pattern P99 = Pattern.compile("\\s99%\\s+([0-9.]+)(us|ms|s)");
    static final String HOST = "bench.k3d.localhost";
    /**
     * Long enough for the JIT to compile the proxy's paths on a loaded machine: after 5 s the first measured run
     * still spent a third of the proxy JVM's CPU in the compiler threads.
     */
    static final int WARMUP_SECONDS = 15;

    private IngressBench() {
    }

    /** One wrk run, and the CPU the backend and the proxy in front of it (if any) used per request during it. */
    record Run(double rps, double p50Millis, double p99Millis, double backendCpuMicros, double proxyCpuMicros,
            double loopUserMicros, double loopSysMicros) { }

    static void run(Env env, int runs, int seconds, int connections, int threads, int proxyThreads) throws Exception {
        ensureInstalled("/usr/bin/wrk", "wrk");
        ensureInstalled("/usr/sbin/nginx", "nginx-light");
        try (K3jServer server = env.startServer("ingress")) {
            Path kubeconfig = server.dataDir().getParent().resolve("kubeconfig.yaml");
            String[] pem = pems(kubeconfig);
            int backendPort = Env.freePort();
            Process backend = startBackend(backendPort, env.freshDir("backend").resolve("backend.log"));
            int nginxPort = Env.freePort();
            Process nginx = null;
            List<Informer> informers = new ArrayList<>();
            try (HttpKubeClient client = HttpKubeClient.withClientCertificate(server.credentials().server(), pem[0], pem[1], pem[2])) {
                nginx = startNginx(env.freshDir("nginx"), nginxPort, "127.0.0.1:" + backendPort, proxyThreads);
                objects(client, backendPort);
                informers.add(new Informer(client, IngressController.INGRESSES, Map.of(), null));
                informers.add(new Informer(client, IngressController.INGRESS_CLASSES, Map.of(), null));
                informers.add(new Informer(client, IngressController.SERVICES, Map.of(), null));
                informers.add(new Informer(client, IngressController.ENDPOINT_SLICES, Map.of(), null));
                informers.add(IngressController.tlsSecrets(client, null));
                IngressConfig cfg = IngressConfig.of(new InetSocketAddress("127.0.0.1", Env.freePort()), null).withThreads(proxyThreads);
                try (IngressController ingress = new IngressController(cfg, informers.get(0), informers.get(1), informers.get(2),
                        informers.get(3), informers.get(4))) {
                    ingress.start();
                    for (Informer i : informers) i.start();
                    int ingressPort = ingress.httpAddress().getPort();
                    awaitOk("127.0.0.1", ingressPort, HOST, Duration.ofSeconds(30));
                    awaitOk("127.0.0.1", backendPort, "127.0.0.1", Duration.ofSeconds(30));
                    awaitOk("127.0.0.1", nginxPort, HOST, Duration.ofSeconds(30));
                    String direct = "http://127.0.0.1:" + backendPort + "/";
                    String proxied = "http://127.0.0.1:" + ingressPort + "/";
                    String viaNginx = "http://127.0.0.1:" + nginxPort + "/";
                    System.out.println("ingress: wrk -t" + threads + " -c" + connections + " -d" + seconds + "s --latency " + direct
                            + "  vs  -H 'Host: " + HOST + "' " + proxied + "  vs  the same through nginx " + viaNginx
                            + "; proxy event-loop threads " + proxyThreads + ", nginx workers " + proxyThreads
                            + ", backend threads 1, runs " + runs + " alternated, after a " + WARMUP_SECONDS + " s warm-up of each");
                    System.out.println("  " + nginxVersion());
                    wrk(direct, null, WARMUP_SECONDS, connections, threads);
                    wrk(proxied, HOST, WARMUP_SECONDS, connections, threads);
                    wrk(viaNginx, HOST, WARMUP_SECONDS, connections, threads);
                    long self = ProcessHandle.current().pid();
                    long nginxPid = nginx.pid();
                    List<Run> d = new ArrayList<>();
                    List<Run> p = new ArrayList<>();
                    List<Run> n = new ArrayList<>();
                    for (int r = 0; r < runs; r++) {
                        System.out.println("  " + Machine.load());
                        Run a = measured(backend, () -> 0L, direct, null, seconds, connections, threads);
                        long[] l0 = loopCpuNanos(self);
                        Run b = measured(backend, () -> Machine.cpuNanos(self), proxied, HOST, seconds, connections, threads);
                        long[] l1 = loopCpuNanos(self);
                        double req = b.rps() * seconds;
                        b = new Run(b.rps(), b.p50Millis(), b.p99Millis(), b.backendCpuMicros(), b.proxyCpuMicros(),
                                (l1[0] - l0[0]) / 1000.0 / req, (l1[1] - l0[1]) / 1000.0 / req);
                        long[] n0 = treeCpuSplitNanos(nginxPid);
                        Run c = measured(backend, () -> treeCpuNanos(nginxPid), viaNginx, HOST, seconds, connections, threads);
                        long[] n1 = treeCpuSplitNanos(nginxPid);
                        double nreq = c.rps() * seconds;
                        c = new Run(c.rps(), c.p50Millis(), c.p99Millis(), c.backendCpuMicros(), c.proxyCpuMicros(),
                                (n1[0] - n0[0]) / 1000.0 / nreq, (n1[1] - n0[1]) / 1000.0 / nreq);
                        System.out.printf("  run %d: direct %.0f req/s p50 %.2f p99 %.2f ms (backend %.1f us CPU/req)"
                                + " | ingress %.0f req/s p50 %.2f p99 %.2f ms (backend %.1f + proxy %.1f us CPU/req, of which its event"
                                + " loops user %.1f + sys %.1f)"
                                + " | nginx %.0f req/s p50 %.2f p99 %.2f ms (backend %.1f + nginx %.1f us CPU/req: user %.1f + sys %.1f)%n", r + 1,
                                a.rps(), a.p50Millis(), a.p99Millis(), a.backendCpuMicros(),
                                b.rps(), b.p50Millis(), b.p99Millis(), b.backendCpuMicros(), b.proxyCpuMicros(),
                                b.loopUserMicros(), b.loopSysMicros(),
                                c.rps(), c.p50Millis(), c.p99Millis(), c.backendCpuMicros(), c.proxyCpuMicros(),
                                c.loopUserMicros(), c.loopSysMicros());
                        d.add(a);
                        p.add(b);
                        n.add(c);
                    }
                    Run dm = medians(d);
                    Run pm = medians(p);
                    Run nm = medians(n);
                    System.out.println("RESULT ingress (medians of " + runs + "; CPU in us per request)");
                    System.out.println("RESULT ingress | | req/s | p50 ms | p99 ms | backend CPU | proxy CPU |");
                    System.out.printf("RESULT ingress | direct | %.0f | %.2f | %.2f | %.1f | - |%n", dm.rps(), dm.p50Millis(), dm.p99Millis(),
                            dm.backendCpuMicros());
                    System.out.printf("RESULT ingress | k3j ingress | %.0f | %.2f | %.2f | %.1f | %.1f (event loops: user %.1f + sys %.1f) |%n",
                            pm.rps(), pm.p50Millis(), pm.p99Millis(), pm.backendCpuMicros(), pm.proxyCpuMicros(), pm.loopUserMicros(),
                            pm.loopSysMicros());
                    System.out.printf("RESULT ingress | nginx | %.0f | %.2f | %.2f | %.1f | %.1f (user %.1f + sys %.1f) |%n", nm.rps(),
                            nm.p50Millis(), nm.p99Millis(), nm.backendCpuMicros(), nm.proxyCpuMicros(), nm.loopUserMicros(),
                            nm.loopSysMicros());
                    System.out.printf("RESULT ingress ratios: throughput direct/k3j %.2fx, direct/nginx %.2fx, nginx/k3j %.2fx;"
                            + " p99 k3j/direct %.2fx, nginx/direct %.2fx, k3j/nginx %.2fx; proxy CPU per request k3j/nginx %.2fx%n",
                            dm.rps() / pm.rps(), dm.rps() / nm.rps(), nm.rps() / pm.rps(),
                            pm.p99Millis() / dm.p99Millis(), nm.p99Millis() / dm.p99Millis(), pm.p99Millis() / nm.p99Millis(),
                            pm.proxyCpuMicros() / nm.proxyCpuMicros());
                } finally {
                    informers.forEach(Informer::close);
                }
            } finally {
                if (nginx != null) Processes.stop(nginx);
                Processes.stop(backend);
            }
        }
    }

    static Run medians(List<Run> runs) {
        return new Run(median(runs.stream().mapToDouble(Run::rps).toArray()),
                median(runs.stream().mapToDouble(Run::p50Millis).toArray()),
                median(runs.stream().mapToDouble(Run::p99Millis).toArray()),
                median(runs.stream().mapToDouble(Run::backendCpuMicros).toArray()),
                median(runs.stream().mapToDouble(Run::proxyCpuMicros).toArray()),
                median(runs.stream().mapToDouble(Run::loopUserMicros).toArray()),
                median(runs.stream().mapToDouble(Run::loopSysMicros).toArray()));
    }

    /**
     * User and system CPU of the ingress's event-loop threads (named k3j-ingress-*) in this JVM: the proxy's own
     * work, apart from the JIT compilers, the GC and the idle informers that share the process.
     */
    static long[] loopCpuNanos(long pid) {
        long[] sum = new long[2];
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks.toList()) {
                String stat = Machine.read(t.resolve("stat").toString());
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                if (open < 0 || close < 0 || !stat.substring(open + 1, close).startsWith("k3j-ingress")) continue;
                String[] f = stat.substring(close + 2).split(" ");
                sum[0] += Long.parseLong(f[11]) * 10_000_000L;
                sum[1] += Long.parseLong(f[12]) * 10_000_000L;
            }
        } catch (IOException e) {
            // a thread that ended between the listing and the read: counted as far as it was read
        }
        return sum;
    }

    /** User and system CPU of a process and all its live descendants. */
    static long[] treeCpuSplitNanos(long pid) {
        long[] sum = new long[2];
        List<Long> pids = new ArrayList<>(List.of(pid));
        ProcessHandle.of(pid).ifPresent(ph -> ph.descendants().forEach(h -> pids.add(h.pid())));
        for (long p : pids) {
            String stat = Machine.read("/proc/" + p + "/stat");
            if (stat.equals("?")) continue;
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            sum[0] += Long.parseLong(f[11]) * 10_000_000L;
            sum[1] += Long.parseLong(f[12]) * 10_000_000L;
        }
        return sum;
    }

    /** CPU of a process and all its live descendants (nginx's master and its workers). */
    private static long treeCpuNanos(long pid) {
        long sum = Machine.cpuNanos(pid);
        for (ProcessHandle h : ProcessHandle.of(pid).map(ph -> ph.descendants().toList()).orElse(List.of())) {
            sum += Machine.cpuNanos(h.pid());
        }
        return sum;
    }

    /**
     * Debian's nginx as the anchor: a reverse proxy doing the ingress's job for the same backend ({@code upstream},
     * HOST:PORT), with its own config in a scratch dir, listening on loopback, as a child process (master in the
     * foreground, {@code workers} worker processes, stopped by its PID). A fair config: keep-alive to the upstream
     * (when the upstream allows it), no access log, the same X-Forwarded-* headers the ingress sets, no
     * per-connection request limits (the ingress has none).
     */
    static Process startNginx(Path dir, int port, String upstream, int workers) throws IOException, InterruptedException {
        Path conf = dir.resolve("nginx.conf");
        Path log = dir.resolve("error.log");
        Files.writeString(conf, """
                worker_processes %d;
                daemon off;
                master_process on;
                pid %s/nginx.pid;
                error_log %s warn;
                events { worker_connections 4096; }
                http {
                  access_log off;
                  client_body_temp_path %s/body;
                  proxy_temp_path %s/proxy;
                  fastcgi_temp_path %s/fastcgi;
                  uwsgi_temp_path %s/uwsgi;
                  scgi_temp_path %s/scgi;
                  keepalive_requests 100000000;
                  keepalive_timeout 180s;
                  upstream hello {
                    server %s;
                    keepalive 128;
                    keepalive_requests 100000000;
                    keepalive_timeout 30s;
                  }
                  server {
                    listen 127.0.0.1:%d;
                    server_name %s;
                    location / {
                      proxy_pass http://hello;
                      proxy_http_version 1.1;
                      proxy_set_header Connection "";
                      proxy_set_header Host $host;
                      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                      proxy_set_header X-Forwarded-Proto $scheme;
                      proxy_set_header X-Forwarded-Host $host;
                      proxy_set_header X-Forwarded-Port $server_port;
                      proxy_set_header X-Real-Ip $remote_addr;
                    }
                  }
                }
                """.formatted(workers, dir, log, dir, dir, dir, dir, dir, upstream, port, HOST));
        Process p = new ProcessBuilder("/usr/sbin/nginx", "-p", dir.toString(), "-e", log.toString(), "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        Processes.track(p);
        Thread.sleep(200);
        if (!p.isAlive()) {
            throw new IOException("nginx did not start: " + Files.readString(log) + Files.readString(dir.resolve("stdout.log")));
        }
        return p;
    }

    static String nginxVersion() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/usr/sbin/nginx", "-v").redirectErrorStream(true).start();
        String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor();
        return v;
    }

    static void ensureInstalled(String binary, String pkg) throws IOException, InterruptedException {
        if (Files.isExecutable(Path.of(binary))) return;
        System.out.println("installing " + pkg + " (apt-get install -y " + pkg + ")");
        // Debian images for containers forbid starting services from packages (policy-rc.d); nginx's package would
        // otherwise start its own daemon on port 80, which this benchmark does not use
        ProcessBuilder pb = new ProcessBuilder("apt-get", "install", "-y", pkg).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.isExecutable(Path.of(binary))) {
            throw new IOException(binary + " is missing and apt-get install -y " + pkg + " failed (expected: root on Debian)");
        }
    }

    /** The CA, client certificate and key of the admin kubeconfig, as PEM. */
    static String[] pems(Path kubeconfig) throws IOException {
        String[] out = new String[3];
        for (String line : Files.readAllLines(kubeconfig)) {
            String t = line.strip();
            int i = t.startsWith("certificate-authority-data:") ? 0 : t.startsWith("client-certificate-data:") ? 1
                    : t.startsWith("client-key-data:") ? 2 : -1;
            if (i >= 0) {
                out[i] = new String(Base64.getDecoder().decode(t.substring(t.indexOf(':') + 1).strip()), StandardCharsets.US_ASCII);
            }
        }
        for (String s : out) {
            if (s == null) throw new IOException(kubeconfig + ": expected certificate-authority-data, client-certificate-data and client-key-data");
        }
        return out;
    }

    private static Process startBackend(int port, Path log) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String jar = Path.of(IngressBench.class.getProtectionDomain().getCodeSource().getLocation().getPath()).toString();
        Process p = new ProcessBuilder(java, "-Xmx256m", "-cp", jar, HelloBackend.class.getName(), Integer.toString(port), "1")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Processes.track(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(log).contains("READY")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                Processes.stop(p);
                throw new IOException("the benchmark backend did not start; log: " + log);
            }
            Thread.sleep(20);
        }
        return p;
    }

    /** The IngressClass (default), a selector-less Service, its EndpointSlice to the backend, and the Ingress. */
    private static void objects(HttpKubeClient client, int backendPort) {
        create(client, "/apis/networking.k8s.io/v1/ingressclasses", """
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata: {name: k3j, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
                spec: {controller: k3j.io/ingress-controller}
                """);
        create(client, "/api/v1/namespaces/default/services", """
                apiVersion: v1
                kind: Service
                metadata: {name: hello}
                spec: {ports: [{name: http, port: 80, protocol: TCP}]}
                """);
        create(client, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", """
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: hello-1, labels: {kubernetes.io/service-name: hello}}
                addressType: IPv4
                ports: [{name: http, port: %d, protocol: TCP}]
                endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
                """.formatted(backendPort));
        createIngress(client, "default");
    }

    /** The Ingress both ingress benchmarks measure: host {@link #HOST}, every path to Service {@code hello} port 80. */
    static void createIngress(HttpKubeClient client, String namespace) {
        create(client, "/apis/networking.k8s.io/v1/namespaces/" + namespace + "/ingresses", """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: hello}
                spec:
                  rules:
                  - host: %s
                    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: hello, port: {number: 80}}}}]}
                """.formatted(HOST));
    }

    static void create(HttpKubeClient client, String path, String yaml) {
        try {
            client.create(path, (ObjectNode) Json.parseYamlOrJson(yaml.getBytes(StandardCharsets.UTF_8)));
        } catch (io.k3j.api.ApiException e) {
            // the server's packaged manifests already hold the IngressClass k3j (default): the same object
            if (e.code() != 409) throw e;
        }
    }

    /** One GET with a raw socket (any Host header, no name lookup) to {@code address:port} until it answers 200. */
    static void awaitOk(String address, int port, String host, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String status = "";
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket(address, port)) {
                s.setSoTimeout(5000);
                OutputStream out = s.getOutputStream();
                out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                status = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII)).readLine();
                if (status != null && status.startsWith("HTTP/1.1 200")) return;
            } catch (IOException e) {
                status = e.getMessage();
            }
            Thread.sleep(50);
        }
        throw new IOException("no 200 from " + address + ":" + port + " (Host " + host + ") within " + timeout + "; last: " + status);
    }

    private static Run measured(Process backend, java.util.function.LongSupplier proxyCpu, String url, String host, int seconds,
            int connections, int threads) throws IOException, InterruptedException {
        long b0 = Machine.cpuNanos(backend.pid());
        long p0 = proxyCpu.getAsLong();
        Run r = wrk(url, host, seconds, connections, threads);
        double requests = r.rps() * seconds;
        return new Run(r.rps(), r.p50Millis(), r.p99Millis(), (Machine.cpuNanos(backend.pid()) - b0) / 1000.0 / requests,
                (proxyCpu.getAsLong() - p0) / 1000.0 / requests, 0, 0);
    }

    private static Run wrk(String url, String host, int seconds, int connections, int threads) throws IOException, InterruptedException {
        Wrk w = wrk(url, host, false, seconds, connections, threads);
        if (w.errorAnswers() > 0) throw new IOException("wrk saw " + w.errorAnswers() + " error answers from " + url);
        return new Run(w.rps(), w.p50Millis(), w.p99Millis(), 0, 0, 0, 0);
    }

    /**
     * What one wrk run printed: requests/s, latency percentiles, the requests it counted, its "Socket errors" line
     * (empty when it printed none), and the CPU wrk itself used (this JVM's reaped-children time across the run).
     */
    record Wrk(double rps, double p50Millis, double p99Millis, long requests, String socketErrors, long wrkCpuNanos, long errorAnswers) { }

    /**
     * Runs wrk against {@code url} with {@code Host: host} (null: wrk's own), {@code close}: every request carries
     * {@code Connection: close}, so that wrk opens a connection per request.
     *
     * @throws IOException if wrk fails or prints no figures
     */
    static Wrk wrk(String url, String host, boolean close, int seconds, int connections, int threads) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/wrk", "-t" + threads, "-c" + connections, "-d" + seconds + "s", "--latency"));
        if (host != null) cmd.addAll(List.of("-H", "Host: " + host));
        if (close) cmd.addAll(List.of("-H", "Connection: close"));
        cmd.add(url);
        long cpu0 = childrenCpuNanos();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Processes.track(p);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS)) {
            Processes.stop(p);
            throw new IOException("wrk did not finish");
        }
        Processes.forget(p);
        long cpu = childrenCpuNanos() - cpu0;
        Matcher rps = RPS.matcher(out);
        Matcher p50 = P50.matcher(out);
        Matcher p99 = P99.matcher(out);
        Matcher n = REQUESTS.matcher(out);
        if (!rps.find() || !p50.find() || !p99.find() || !n.find()) throw new IOException("unexpected wrk output:\n" + out);
        Matcher errors = SOCKET_ERRORS.matcher(out);
        Matcher non2xx = NON_2XX.matcher(out);
        return new Wrk(Double.parseDouble(rps.group(1)), millis(p50), millis(p99), Long.parseLong(n.group(1)),
                errors.find() ? errors.group(1).strip() : "", cpu, non2xx.find() ? Long.parseLong(non2xx.group(1)) : 0);
    }

    private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in ");
    private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)");
    private static final Pattern SOCKET_ERRORS = Pattern.compile("Socket errors:([^\\n]*)");

    /**
     * User + system CPU of this JVM's children that it has waited for (cutime, cstime of /proc/self/stat): a wrk
     * run's own CPU once {@link Process#waitFor} has reaped it.
     */
    private static long childrenCpuNanos() {
        String stat = Machine.read("/proc/self/stat");
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[13]) + Long.parseLong(f[14])) * 10_000_000L;
    }

    private static double millis(Matcher m) {
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "s" -> v * 1000;
            default -> v;
        };
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
