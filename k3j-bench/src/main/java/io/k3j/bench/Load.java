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

    /** What one load run did. {@code bodies[i]} is the answer to request i when kept. */
    record Result(int total, int errors, String firstError, long elapsedNanos, long[] latencySorted, byte[][] bodies) {
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
        AtomicInteger next = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        AtomicReference<String> firstError = new AtomicReference<>();
        long[] latency = new long[total];
        byte[][] bodies = keepBodies ? new byte[total][] : null;
        List<Thread> threads = new ArrayList<>();
        List<HttpClient> opened = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            opened.add(newClient.get());
        }
        long t0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            HttpClient http = opened.get(c);
            threads.add(Thread.ofPlatform().name("load-" + c).start(() -> {
                for (int i; (i = next.getAndIncrement()) < total; ) {
                    long s = System.nanoTime();
                    try {
                        HttpResponse<byte[]> r = http.send(request.apply(i), HttpResponse.BodyHandlers.ofByteArray());
                        latency[i] = System.nanoTime() - s;
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
        return new Result(total, errors.get(), firstError.get(), elapsed, latency, bodies);
    }
}
