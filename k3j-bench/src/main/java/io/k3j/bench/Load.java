package io.k3j.bench;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * {@code total} requests spread over {@code clients} threads, each with its own HttpClient (so its own
 * connection), each sending its next request when the previous answered: a closed-loop load like 32
 * controllers writing at once.
 */
final class Load {

    /**
     * What one load run did. {@code bodies[i]} is the answer to request i when kept; {@code responseBytes} the body
     * bytes of all answers read.
     */
    record Result(int total, int errors, String firstError, long elapsedNanos, long[] latencySorted, byte[][] bodies,
            long responseBytes) {
        double perSecond() {
            return total * 1e9 / elapsedNanos;
        }

        String summary() {
            return String.format("%d requests in %.2f s = %.0f/s, errors=%d, latency p50=%s p99=%s max=%s%s",
                    total, elapsedNanos / 1e9, perSecond(), errors,
                    Stats.ms(Stats.percentile(latencySorted, 50)), Stats.ms(Stats.percentile(latencySorted, 99)),
                    Stats.ms(latencySorted[latencySorted.length - 1]), firstError == null ? "" : " first error: " + firstError);
        }
    }

    private Load() {
    }

    static Result run(int total, int clients, Supplier<HttpClient> newClient, IntFunction<HttpRequest> request,
            int expectedStatus, boolean keepBodies) throws InterruptedException {
        return run(total, clients, clients, newClient, null, request, expectedStatus, keepBodies);
    }

    /**
     * As {@link #run(int, int, Supplier, IntFunction, int, boolean)}, but the {@code clients} threads share
     * {@code connections} HttpClients (thread c uses client c mod connections), so with HTTP/2 several requests
     * are in flight on one connection as streams, as client-go multiplexes its goroutines over one connection.
     * Each client first answers {@code prime} (when not null) before the clock starts: a fresh JDK HttpClient
     * given concurrent requests opens a connection per request before HTTP/2 coalesces them, and the TLS
     * handshakes of the connections are not what is measured.
     */
    static Result run(int total, int clients, int connections, Supplier<HttpClient> newClient, HttpRequest prime,
            IntFunction<HttpRequest> request, int expectedStatus, boolean keepBodies) throws InterruptedException {
        if (connections < 1 || connections > clients) {
            throw new IllegalArgumentException("connections : " + connections + " (expected: 1.." + clients + ")");
        }
        AtomicInteger next = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        AtomicReference<String> firstError = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
        long[] latency = new long[total];
        byte[][] bodies = keepBodies ? new byte[total][] : null;
        List<Thread> threads = new ArrayList<>();
        List<HttpClient> opened = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            HttpClient http = newClient.get();
            opened.add(http);
            if (prime != null) {
                try {
                    http.send(prime, HttpResponse.BodyHandlers.discarding());
                } catch (java.io.IOException e) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, "priming: " + e);
                }
            }
        }
        long t0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            HttpClient http = opened.get(c % connections);
            threads.add(Thread.ofPlatform().name("load-" + c).start(() -> {
                for (int i; (i = next.getAndIncrement()) < total; ) {
                    long s = System.nanoTime();
                    try {
                        HttpResponse<byte[]> r = http.send(request.apply(i), HttpResponse.BodyHandlers.ofByteArray());
                        latency[i] = System.nanoTime() - s;
                        bytes.addAndGet(r.body().length);
                        if (r.statusCode() != expectedStatus) {
                            errors.incrementAndGet();
                            firstError.compareAndSet(null, r.statusCode() + " " + new String(r.body()));
                        } else if (bodies != null) {
                            bodies[i] = r.body();
                        }
                    } catch (Exception e) {
                        latency[i] = System.nanoTime() - s;
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e.toString());
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        long elapsed = System.nanoTime() - t0;
        opened.forEach(HttpClient::close);
        Arrays.sort(latency);
        return new Result(total, errors.get(), firstError.get(), elapsed, latency, bodies, bytes.get());
    }
}
