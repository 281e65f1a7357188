package io.k3j.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * Many watches on the ConfigMaps of one namespace and one writer creating ConfigMaps at a steady pace.
 * Latency of an event at a watcher = receipt time minus the time the writer sent the create (so it
 * includes the create itself); minus the time the create was acknowledged is reported too (events can
 * arrive before the ack; those count as 0). Warm-up writes, unmeasured, first reach every watcher.
 */
final class WatchBench {

    static final double TARGET_P99_MS = 50;
    private static final String SYNC = "cm-sync-";
    private static final String MEASURED = "cm-w-";

    private WatchBench() {
    }

    static void run(Env env, int watchers, int writes, int intervalMs, int streamsPerConnection, int warmupWrites, HttpClient.Version version)
            throws IOException, InterruptedException {
        System.out.printf("== watch: %d watches (%s, %d per client), %d creates every %d ms after %d warm-up creates; server JVM flags: %s%n",
                watchers, version, streamsPerConnection, writes, intervalMs, warmupWrites, env.describeJavaOpts());
        try (K3jServer s = env.startServer("watch")) {
            AdminCredentials cred = s.credentials();
            URI server = cred.server();
            HttpClient writer = Http.client(cred.sslContext(), HttpClient.Version.HTTP_2);
            Env.createNamespace(writer, server, "watchbench");

            int connections = (watchers + streamsPerConnection - 1) / streamsPerConnection;
            List<HttpClient> clients = new ArrayList<>();
            // Prime each client with one request first: a fresh JDK HttpClient given 100 concurrent requests
            // opens a TCP+TLS connection for each of them before HTTP/2 coalesces (1,000 handshakes at once).
            HttpRequest version0 = HttpRequest.newBuilder(server.resolve("/version")).build();
            for (int c = 0; c < connections; c++) {
                HttpClient http = Http.client(cred.sslContext(), version);
                http.send(version0, HttpResponse.BodyHandlers.discarding());
                clients.add(http);
            }
            long[][] received = new long[watchers][writes];
            AtomicInteger syncSeen = new AtomicInteger();
            AtomicInteger established = new AtomicInteger();
            AtomicLong measuredSeen = new AtomicLong();
            AtomicInteger failedWatches = new AtomicInteger();
            java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
            AtomicReference<String> firstFailure = new AtomicReference<>();
            HttpRequest watch = HttpRequest.newBuilder(server.resolve("/api/v1/namespaces/watchbench/configmaps?watch=1&timeoutSeconds=3600"))
                    .header("Accept", "application/json").build();
            // Fully asynchronous readers (no thread per watch): the JDK client delivers lines as they arrive.
            ConcurrentLinkedQueue<Flow.Subscription> subscriptions = new ConcurrentLinkedQueue<>();
            for (int w = 0; w < watchers; w++) {
                int me = w;
                HttpClient http = clients.get(w % connections);
                Flow.Subscriber<String> reader = new Flow.Subscriber<>() {
                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        subscriptions.add(s);
                        established.incrementAndGet();
                        s.request(Long.MAX_VALUE);
                    }

                    @Override
                    public void onNext(String line) {
                        long t = System.nanoTime();
                        String name = name(line);
                        if (name.startsWith(SYNC)) {
                            syncSeen.incrementAndGet();
                        } else if (name.startsWith(MEASURED)) {
                            received[me][Integer.parseInt(name.substring(MEASURED.length()))] = t;
                            measuredSeen.incrementAndGet();
                        }
                    }

                    @Override
                    public void onError(Throwable e) {
                        if (!stopping.get()) {
                            failedWatches.incrementAndGet();
                            firstFailure.compareAndSet(null, e.toString());
                        }
                    }

                    @Override
                    public void onComplete() {
                        if (!stopping.get()) {
                            failedWatches.incrementAndGet();
                            firstFailure.compareAndSet(null, "watch " + me + " ended early");
                        }
                    }
                };
                http.sendAsync(watch, HttpResponse.BodyHandlers.fromLineSubscriber(reader)).whenComplete((r, e) -> {
                    if (e != null && !stopping.get()) {
                        failedWatches.incrementAndGet();
                        firstFailure.compareAndSet(null, e.toString());
                    } else if (r != null && r.statusCode() != 200) {
                        failedWatches.incrementAndGet();
                        firstFailure.compareAndSet(null, "watch answered " + r.statusCode());
                    }
                });
            }

            // A watch without resourceVersion starts at "now": wait for every response's headers before writing.
            long asked = System.nanoTime();
            awaitAtLeast(established::get, watchers, Duration.ofSeconds(180), null);
            long establishedAt = System.nanoTime();
            int live = established.get();
            System.out.printf("  %d of %d watches had response headers %.1f s after they were sent%n", live, watchers, (establishedAt - asked) / 1e9);
            if (live == 0) {
                throw new IOException("no watch was established");
            }
            // Warm-up: each create must reach every watcher, which also proves all watches are established.
            for (int i = 0; i < Math.max(1, warmupWrites); i++) {
                if (!create(writer, server, SYNC + i)) {
                    throw new IOException("warm-up create " + SYNC + i + " failed");
                }
                int expected = (i + 1) * live;
                if (i == 0) {
                    try {
                        awaitAtLeast(syncSeen::get, expected, Duration.ofSeconds(120), "first warm-up event");
                    } catch (IOException e) {
                        throw new IOException(e.getMessage() + " (all watch headers arrived " + (System.nanoTime() - establishedAt) / 1_000_000 + " ms ago); watch responses with headers: " + established.get() + " of " + watchers
                                + ", failed watches " + failedWatches.get() + (firstFailure.get() == null ? "" : " first: " + firstFailure.get()), e);
                    }
                }
                Thread.sleep(intervalMs);
            }
            awaitAtLeast(syncSeen::get, (long) Math.max(1, warmupWrites) * live, Duration.ofSeconds(60), "warm-up events");
            long[] sent = new long[writes];
            long[] acked = new long[writes];
            long cpu0 = Machine.cpuNanos(s.pid());
            long self0 = Machine.selfCpuNanos();
            long start = System.nanoTime();
            int writeErrors = 0;
            for (int i = 0; i < writes; i++) {
                long due = start + (long) i * intervalMs * 1_000_000L;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
                }
                sent[i] = System.nanoTime();
                if (!create(writer, server, MEASURED + i)) {
                    writeErrors++;
                }
                acked[i] = System.nanoTime();
            }
            long expected = (long) live * writes;
            boolean complete = awaitAtLeast(measuredSeen::get, expected, Duration.ofSeconds(60), null);

            long serverCpu = Machine.cpuNanos(s.pid()) - cpu0;
            long selfCpu = Machine.selfCpuNanos() - self0;
            stopping.set(true);
            subscriptions.forEach(Flow.Subscription::cancel);
            clients.forEach(HttpClient::shutdownNow);
            writer.shutdownNow();

            long[] fromSend = new long[(int) Math.min(expected, measuredSeen.get())];
            long[] fromAck = new long[fromSend.length];
            int n = 0;
            for (long[] row : received) {
                for (int i = 0; i < writes; i++) {
                    if (row[i] != 0 && n < fromSend.length) {
                        fromSend[n] = row[i] - sent[i];
                        fromAck[n++] = Math.max(0, row[i] - acked[i]);
                    }
                }
            }
            fromSend = Arrays.copyOf(fromSend, n);
            fromAck = Arrays.copyOf(fromAck, n);
            Arrays.sort(fromSend);
            Arrays.sort(fromAck);
            long missing = expected - n;
            double p99 = Stats.percentile(fromSend, 99) / 1e6;
            System.out.printf("  delivered %d of %d events (%s), write errors %d, failed watches %d%s%n", n, expected,
                    complete ? "complete" : "INCOMPLETE after 60 s", writeErrors, failedWatches.get(),
                    firstFailure.get() == null ? "" : " first: " + firstFailure.get());
            System.out.printf("  CPU during the measured phase: server %.2f s (%.1f us per delivered event), this load generator %.2f s, wall %.2f s%n",
                    serverCpu / 1e9, serverCpu / 1e3 / Math.max(1, n), selfCpu / 1e9, (System.nanoTime() - start) / 1e9);
            System.out.printf("  send->receipt: p50 %s, p90 %s, p99 %s, p99.9 %s, max %s%n", Stats.ms(Stats.percentile(fromSend, 50)),
                    Stats.ms(Stats.percentile(fromSend, 90)), Stats.ms(Stats.percentile(fromSend, 99)),
                    Stats.ms(Stats.percentile(fromSend, 99.9)), Stats.ms(fromSend[n - 1]));
            System.out.printf("  ack->receipt:  p50 %s, p90 %s, p99 %s, max %s%n", Stats.ms(Stats.percentile(fromAck, 50)),
                    Stats.ms(Stats.percentile(fromAck, 90)), Stats.ms(Stats.percentile(fromAck, 99)), Stats.ms(fromAck[n - 1]));
            boolean met = p99 <= TARGET_P99_MS && missing == 0 && live == watchers && writeErrors == 0 && failedWatches.get() == 0;
            System.out.printf("RESULT watch %d watchers (%d established): p99 send->receipt %.1f ms (p99 ack->receipt %.1f ms), missing %d, target <= %.0f ms, ratio %.2fx of target -> %s%n",
                    watchers, live, p99, Stats.percentile(fromAck, 99) / 1e6, missing, TARGET_P99_MS, p99 / TARGET_P99_MS, met ? "MET" : "MISSED");
        }
    }

    private static boolean create(HttpClient http, URI server, String name) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(Env.json(server.resolve("/api/v1/namespaces/watchbench/configmaps"),
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name + "\"},\"data\":{\"k\":\"v\"}}"),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 201;
        } catch (IOException e) {
            return false;
        }
    }

    /** metadata.name of the object in one watch event line: the first "name" key in k3j's output order. */
    static String name(String line) {
        int i = line.indexOf("\"name\":\"");
        if (i < 0) {
            return "";
        }
        int from = i + 8;
        return line.substring(from, line.indexOf('"', from));
    }

    private static boolean awaitAtLeast(LongSupplier value, long target, Duration timeout, String failure)
            throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (value.getAsLong() < target) {
            if (System.nanoTime() > deadline) {
                if (failure != null) {
                    throw new IOException(failure + ": only " + value.getAsLong() + " of " + target + " within " + timeout);
                }
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }
}
