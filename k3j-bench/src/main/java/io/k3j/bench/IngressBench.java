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
 * with the node's); the backend is a small keep-alive HTTP server in its own JVM ({@link HelloBackend}). Runs
 * alternate direct / ingress so that both see the same neighbours' load; the medians are the figures.
 */
final class IngressBench {
    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern P99 = Pattern.compile("\\s99%\\s+([0-9.]+)(us|ms|s)");
    private static final String HOST = "bench.k3d.localhost";

    private IngressBench() {
    }

    /** One wrk run, and the CPU the backend and this JVM (the proxy) used per request during it. */
    record Run(double rps, double p99Millis, double backendCpuMicros, double proxyCpuMicros) { }

    static void run(Env env, int runs, int seconds, int connections, int threads, int proxyThreads) throws Exception {
        ensureWrk();
        try (K3jServer server = env.startServer("ingress")) {
            Path kubeconfig = server.dataDir().getParent().resolve("kubeconfig.yaml");
            String[] pem = pems(kubeconfig);
            int backendPort = Env.freePort();
            Process backend = startBackend(backendPort, env.freshDir("backend").resolve("backend.log"));
            List<Informer> informers = new ArrayList<>();
            try (HttpKubeClient client = HttpKubeClient.withClientCertificate(server.credentials().server(), pem[0], pem[1], pem[2])) {
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
                    awaitOk(ingressPort, HOST, Duration.ofSeconds(30));
                    awaitOk(backendPort, "127.0.0.1", Duration.ofSeconds(30));
                    String direct = "http://127.0.0.1:" + backendPort + "/";
                    String proxied = "http://127.0.0.1:" + ingressPort + "/";
                    System.out.println("ingress: wrk -t" + threads + " -c" + connections + " -d" + seconds + "s --latency " + direct
                            + "  vs  -H 'Host: " + HOST + "' " + proxied + "; proxy event-loop threads " + proxyThreads
                            + ", backend threads 1, runs " + runs + " alternated, after a 5 s warm-up of each");
                    wrk(direct, null, 5, connections, threads);
                    wrk(proxied, HOST, 5, connections, threads);
                    List<Run> d = new ArrayList<>();
                    List<Run> p = new ArrayList<>();
                    for (int r = 0; r < runs; r++) {
                        System.out.println("  " + Machine.load());
                        Run a = measured(backend, direct, null, seconds, connections, threads);
                        Run b = measured(backend, proxied, HOST, seconds, connections, threads);
                        System.out.printf("  run %d: direct %.0f req/s p99 %.2f ms (backend %.1f us CPU/req) | ingress %.0f req/s p99 %.2f ms"
                                + " (backend %.1f + proxy %.1f us CPU/req)%n", r + 1, a.rps(), a.p99Millis(), a.backendCpuMicros(),
                                b.rps(), b.p99Millis(), b.backendCpuMicros(), b.proxyCpuMicros());
                        d.add(a);
                        p.add(b);
                    }
                    double dRps = median(d.stream().mapToDouble(Run::rps).toArray());
                    double pRps = median(p.stream().mapToDouble(Run::rps).toArray());
                    double dP99 = median(d.stream().mapToDouble(Run::p99Millis).toArray());
                    double pP99 = median(p.stream().mapToDouble(Run::p99Millis).toArray());
                    System.out.printf("RESULT ingress direct: %.0f req/s, p99 %.2f ms (median of %d)%n", dRps, dP99, runs);
                    System.out.printf("RESULT ingress through the ingress: %.0f req/s, p99 %.2f ms (median of %d)%n", pRps, pP99, runs);
                    System.out.printf("RESULT ingress overhead: throughput %.2fx (direct/ingress req/s), p99 latency %.2fx (ingress/direct)%n",
                            dRps / pRps, pP99 / dP99);
                    double dCpu = median(d.stream().mapToDouble(Run::backendCpuMicros).toArray());
                    double bCpu = median(p.stream().mapToDouble(Run::backendCpuMicros).toArray());
                    double pCpu = median(p.stream().mapToDouble(Run::proxyCpuMicros).toArray());
                    System.out.printf("RESULT ingress CPU per request: backend alone %.1f us; through the ingress backend %.1f us + proxy %.1f us"
                            + " (%.2fx the server-side CPU of a direct request)%n", dCpu, bCpu, pCpu, (bCpu + pCpu) / dCpu);
                } finally {
                    informers.forEach(Informer::close);
                }
            } finally {
                Processes.stop(backend);
            }
        }
    }

    private static void ensureWrk() throws IOException, InterruptedException {
        if (Files.isExecutable(Path.of("/usr/bin/wrk"))) return;
        System.out.println("installing wrk (apt-get install -y wrk)");
        Process p = new ProcessBuilder("apt-get", "install", "-y", "wrk").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0 || !Files.isExecutable(Path.of("/usr/bin/wrk"))) {
            throw new IOException("wrk is missing and apt-get install -y wrk failed (expected: root on Debian)");
        }
    }

    /** The CA, client certificate and key of the admin kubeconfig, as PEM. */
    private static String[] pems(Path kubeconfig) throws IOException {
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
        create(client, "/apis/networking.k8s.io/v1/namespaces/default/ingresses", """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: hello}
                spec:
                  rules:
                  - host: %s
                    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: hello, port: {number: 80}}}}]}
                """.formatted(HOST));
    }

    private static void create(HttpKubeClient client, String path, String yaml) {
        client.create(path, (ObjectNode) Json.parseYamlOrJson(yaml.getBytes(StandardCharsets.UTF_8)));
    }

    /** One GET with a raw socket (any Host header, no name lookup) until it answers 200. */
    private static void awaitOk(int port, String host, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String status = "";
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", port)) {
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
        throw new IOException("no 200 from 127.0.0.1:" + port + " (Host " + host + ") within " + timeout + "; last: " + status);
    }

    private static Run measured(Process backend, String url, String host, int seconds, int connections, int threads)
            throws IOException, InterruptedException {
        long self = ProcessHandle.current().pid();
        long b0 = Machine.cpuNanos(backend.pid());
        long p0 = Machine.cpuNanos(self);
        Run r = wrk(url, host, seconds, connections, threads);
        double requests = r.rps() * seconds;
        return new Run(r.rps(), r.p99Millis(), (Machine.cpuNanos(backend.pid()) - b0) / 1000.0 / requests,
                (Machine.cpuNanos(self) - p0) / 1000.0 / requests);
    }

    private static Run wrk(String url, String host, int seconds, int connections, int threads) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/wrk", "-t" + threads, "-c" + connections, "-d" + seconds + "s", "--latency"));
        if (host != null) cmd.addAll(List.of("-H", "Host: " + host));
        cmd.add(url);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Processes.track(p);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS)) {
            Processes.stop(p);
            throw new IOException("wrk did not finish");
        }
        Processes.forget(p);
        if (out.contains("Non-2xx or 3xx responses")) throw new IOException("wrk saw error answers from " + url + ":\n" + out);
        Matcher rps = RPS.matcher(out);
        Matcher p99 = P99.matcher(out);
        if (!rps.find() || !p99.find()) throw new IOException("unexpected wrk output:\n" + out);
        double v = Double.parseDouble(p99.group(1));
        double ms = switch (p99.group(2)) {
            case "us" -> v / 1000;
            case "s" -> v * 1000;
            default -> v;
        };
        return new Run(Double.parseDouble(rps.group(1)), ms, 0, 0);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
