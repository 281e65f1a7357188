package io.k3j.agent.proxy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.k3j.api.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

/**
 * kube-proxy's per-Service health check server: for every Service with {@code externalTrafficPolicy: Local} and a
 * {@code spec.healthCheckNodePort}, an HTTP listener on that port answers any request with 200 when this node has
 * ready endpoints of the Service and 503 when it has none, so an external load balancer sends traffic only to nodes
 * that keep the client's address and can still answer. The body is kube-proxy's:
 * {@code {"service":{"namespace":"ns","name":"svc"},"localEndpoints":N,"serviceProxyHealthy":true}}.
 *
 * <p>Owned by the proxy's sync thread ({@link #update}); requests are answered on virtual threads from what the
 * last update published. A port that cannot be bound (taken by another process) is logged and retried on the next
 * update.
 */
final class HealthCheckServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HealthCheckServer.class.getName());

    /** What one health check port reports. */
    record Status(String namespace, String name, int localEndpoints) {
    }

    private final InetAddress address;
    /** port → what it reports now; read by the request handlers. */
    private final Map<Integer, Status> published = new ConcurrentHashMap<>();
    private final Map<Integer, HttpServer> servers = new HashMap<>();
    private final java.util.Set<Integer> unbindable = new java.util.HashSet<>();
    private final java.util.concurrent.ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

    HealthCheckServer(InetAddress address) {
        this.address = address;
    }

    /** Serves exactly {@code wanted} (port → status) from now on: opens new ports, closes the ones no longer wanted. */
    void update(Map<Integer, Status> wanted) {
        published.putAll(wanted);
        for (var it = servers.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!wanted.containsKey(e.getKey())) {
                e.getValue().stop(0);
                it.remove();
            }
        }
        published.keySet().retainAll(wanted.keySet());
        for (int port : wanted.keySet()) {
            if (servers.containsKey(port)) continue;
            try {
                HttpServer s = HttpServer.create(new InetSocketAddress(address, port), 16);
                s.createContext("/", ex -> answer(port, ex));
                s.setExecutor(executor);
                s.start();
                servers.put(port, s);
                unbindable.remove(port);
            } catch (IOException e) {
                // retried on every update: say it once per port
                LOG.log(unbindable.add(port) ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                        "service proxy: cannot serve the health check of {0} on {1}:{2} ({3})",
                        wanted.get(port).namespace() + "/" + wanted.get(port).name(), address.getHostAddress(), port, e.getMessage());
            }
        }
    }

    /** The ports being served (tests). */
    java.util.Set<Integer> ports() {
        return java.util.Set.copyOf(servers.keySet());
    }

    private void answer(int port, HttpExchange ex) throws IOException {
        try (ex) {
            Status s = published.get(port);
            if (s == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            ObjectNode body = Json.object();
            body.putObject("service").put("namespace", s.namespace()).put("name", s.name());
            body.put("localEndpoints", s.localEndpoints());
            body.put("serviceProxyHealthy", true);
            byte[] bytes = Json.string(body).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            ex.getResponseHeaders().set("X-Load-Balancing-Endpoint-Weight", Integer.toString(s.localEndpoints()));
            ex.sendResponseHeaders(s.localEndpoints() > 0 ? 200 : 503, "HEAD".equals(ex.getRequestMethod()) ? -1 : bytes.length);
            if (!"HEAD".equals(ex.getRequestMethod())) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    @Override
    public void close() {
        for (HttpServer s : servers.values()) s.stop(0);
        servers.clear();
        published.clear();
        executor.shutdownNow();
    }
}
