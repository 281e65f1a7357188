package io.k3j.agent.lb;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.ApiException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * Watches the {@code default/kubernetes} Endpoints and hands every version's addresses on, as k3s's agent tunnel
 * does for its load balancer. A failed or ended watch is started again after a pause (the load balancer it goes
 * through will have moved to another server meanwhile).
 */
final class EndpointsFollower implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EndpointsFollower.class.getName());
    static final String PATH = "/api/v1/namespaces/default/endpoints";
    private static final Duration RETRY = Duration.ofSeconds(1);

    private final KubeClient client;
    private final Consumer<List<ServerAddress>> servers;
    private volatile boolean closed;
    private volatile KubeClient.Watch watch;
    private Thread thread;

    EndpointsFollower(KubeClient client, Consumer<List<ServerAddress>> servers) {
        this.client = client;
        this.servers = servers;
    }

    void start() {
        thread = Thread.ofVirtual().name("api-lb-endpoints").start(this::run);
    }

    private void run() {
        while (!closed) {
            try {
                // the watch's first event is the current object; the GET covers a server that sends none
                servers.accept(addresses(client.get(PATH + "/kubernetes")));
                CountDownLatch ended = new CountDownLatch(1);
                watch = client.watch(PATH, Map.of("fieldSelector", "metadata.name=kubernetes"), e -> {
                    if (!"BOOKMARK".equals(e.type()) && !"DELETED".equals(e.type()) && !"ERROR".equals(e.type())) {
                        servers.accept(addresses(e.object()));
                    }
                }, cause -> {
                    if (cause != null && !closed) LOG.log(System.Logger.Level.DEBUG, "kubernetes endpoints watch ended: " + cause);
                    ended.countDown();
                });
                if (closed) watch.close();
                ended.await();
            } catch (InterruptedException e) {
                return;
            } catch (KubeClient.Unreachable | ApiException e) {
                if (!closed) LOG.log(System.Logger.Level.DEBUG, "reading the kubernetes endpoints: " + e.getMessage());
            } catch (RuntimeException e) {
                if (!closed) LOG.log(System.Logger.Level.WARNING, "following the kubernetes endpoints: " + e);
            }
            try {
                Thread.sleep(RETRY);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Every address of every subset with the subset's https port (its first port when none is named so). */
    static List<ServerAddress> addresses(JsonNode endpoints) {
        List<ServerAddress> out = new ArrayList<>();
        for (JsonNode subset : endpoints.path("subsets")) {
            int port = 0;
            for (JsonNode p : subset.path("ports")) {
                if (port == 0 || "https".equals(p.path("name").asText())) port = p.path("port").asInt();
            }
            if (port <= 0) continue;
            for (JsonNode a : subset.path("addresses")) {
                String ip = a.path("ip").asText("");
                if (!ip.isEmpty()) out.add(new ServerAddress(ip, port));
            }
        }
        return out;
    }

    @Override
    public void close() {
        closed = true;
        KubeClient.Watch w = watch;
        if (w != null) w.close();
        if (thread != null) thread.interrupt();
    }
}
