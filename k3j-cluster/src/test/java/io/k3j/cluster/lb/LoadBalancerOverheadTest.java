package io.k3j.cluster.lb;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.cluster.lb.LoadBalancerConfig.Listener;
import io.k3j.cluster.lb.LoadBalancerConfig.Protocol;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What the load balancer costs over a direct connection on loopback: time to a connected, answering backend, round
 * trip on an established connection, and bulk throughput. Prints the numbers; asserts only generous bounds, so that
 * a regression by an order of magnitude fails.
 */
class LoadBalancerOverheadTest {
    private static final int CONNECTIONS = 1000;
    private static final int ROUND_TRIPS = 5000;
    private static final long BULK = 512L << 20;

    @Test
    @DisplayName("latency and throughput through the load balancer vs direct")
    void overhead() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> serve(server));
            try (LoadBalancer lb = LoadBalancer.start(LoadBalancerConfig.of(List.of(new Listener("bench", "127.0.0.1", 0, Protocol.TCP,
                    List.of(new LoadBalancerConfig.Backend("127.0.0.1", server.getLocalPort()))))))) {
                int direct = server.getLocalPort(), proxied = lb.port("bench");
                connectLatency(direct); // warm-up of both paths
                connectLatency(proxied);
                long[] cDirect = connectLatency(direct), cProxied = connectLatency(proxied);
                long[] rDirect = roundTrips(direct), rProxied = roundTrips(proxied);
                double tDirect = throughput(direct), tProxied = throughput(proxied);
                System.err.printf("connect+first byte: direct p50 %d µs p99 %d µs, via lb p50 %d µs p99 %d µs%n",
                        p(cDirect, 50), p(cDirect, 99), p(cProxied, 50), p(cProxied, 99));
                System.err.printf("round trip (1 byte): direct p50 %d µs p99 %d µs, via lb p50 %d µs p99 %d µs%n",
                        p(rDirect, 50), p(rDirect, 99), p(rProxied, 50), p(rProxied, 99));
                System.err.printf("throughput (%d MiB): direct %.0f MiB/s, via lb %.0f MiB/s%n", BULK >> 20, tDirect, tProxied);
                assertThat(p(cProxied, 50)).isLessThan(p(cDirect, 50) + 5_000);
                assertThat(tProxied).isGreaterThan(100);
            }
        }
    }

    /** Per connection: 'c' = answer one byte and close; 'r' = echo one byte at a time; 'b' = sink, then the count. */
    private static void serve(ServerSocket server) {
        while (!server.isClosed()) {
            try {
                Socket c = server.accept();
                c.setTcpNoDelay(true);
                Thread.ofVirtual().start(() -> {
                    try (c) {
                        InputStream in = c.getInputStream();
                        OutputStream out = c.getOutputStream();
                        int mode = in.read();
                        if (mode == 'c') {
                            out.write(1);
                        } else if (mode == 'r') {
                            for (int b; (b = in.read()) >= 0; ) out.write(b);
                        } else if (mode == 'b') {
                            byte[] buf = new byte[64 * 1024];
                            long n = 0;
                            for (int r; (r = in.read(buf)) >= 0; ) n += r;
                            new DataOutputStream(out).writeLong(n);
                        }
                    } catch (IOException ignored) {
                        // client gone
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    private static Socket open(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        s.setSoTimeout(10_000);
        return s;
    }

    private static long[] connectLatency(int port) throws IOException {
        long[] micros = new long[CONNECTIONS];
        for (int i = 0; i < CONNECTIONS; i++) {
            long t0 = System.nanoTime();
            try (Socket s = open(port)) {
                s.getOutputStream().write('c');
                assertThat(s.getInputStream().read()).isEqualTo(1);
            }
            micros[i] = (System.nanoTime() - t0) / 1000;
        }
        return micros;
    }

    private static long[] roundTrips(int port) throws IOException {
        long[] micros = new long[ROUND_TRIPS];
        try (Socket s = open(port)) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write('r');
            for (int i = 0; i < ROUND_TRIPS; i++) {
                long t0 = System.nanoTime();
                out.write(i & 0x7f);
                assertThat(in.read()).isEqualTo(i & 0x7f);
                micros[i] = (System.nanoTime() - t0) / 1000;
            }
        }
        return micros;
    }

    /** MiB/s pushing BULK bytes one way. */
    private static double throughput(int port) throws IOException {
        byte[] buf = new byte[256 * 1024];
        long t0 = System.nanoTime();
        try (Socket s = open(port)) {
            OutputStream out = s.getOutputStream();
            out.write('b');
            for (long sent = 0; sent < BULK; sent += buf.length) out.write(buf);
            s.shutdownOutput();
            assertThat(new DataInputStream(s.getInputStream()).readLong()).isEqualTo(BULK);
        }
        return (BULK >> 20) / ((System.nanoTime() - t0) / 1e9);
    }

    private static long p(long[] values, int percentile) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, sorted.length * percentile / 100)];
    }
}
