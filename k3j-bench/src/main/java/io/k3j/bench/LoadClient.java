package io.k3j.bench;

import java.util.Map;

/**
 * Which load generator the write and LIST benchmarks use: {@code --client netty} (the default, {@link NettyLoad}) or
 * {@code --client jdk} (the JDK HttpClient, {@link Load}), so both can be run one after the other and compared;
 * {@code --tls openssl|jdk} picks Netty's TLS engine and {@code --load-threads N} its event-loop threads.
 */
record LoadClient(boolean netty, boolean openssl, int threads) {

    static LoadClient of(Map<String, String> options) {
        String client = options.getOrDefault("client", "netty");
        if (!client.equals("netty") && !client.equals("jdk")) {
            throw new IllegalArgumentException("--client " + client + " (expected: netty or jdk)");
        }
        String tls = options.getOrDefault("tls", "openssl");
        if (!tls.equals("openssl") && !tls.equals("jdk")) {
            throw new IllegalArgumentException("--tls " + tls + " (expected: openssl or jdk)");
        }
        int threads = Integer.parseInt(options.getOrDefault("load-threads", "1"));
        if (threads < 1) {
            throw new IllegalArgumentException("--load-threads " + threads + " (expected: >= 1)");
        }
        return new LoadClient(client.equals("netty"), tls.equals("openssl"), threads);
    }

    String describe() {
        return netty ? "netty (" + threads + " event-loop thread" + (threads == 1 ? "" : "s") + ", TLS " + (openssl ? "openssl" : "jdk") + ")"
                : "jdk (java.net.http.HttpClient)";
    }
}
