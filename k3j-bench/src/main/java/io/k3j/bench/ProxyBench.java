package io.k3j.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.Informer;
import io.k3j.agent.kube.KubeClient;
import io.k3j.agent.proxy.ServiceProxy;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Rule programming time of the service proxy (issue 5): {@code services} ClusterIP Services with {@code endpoints}
 * ready endpoints each, programmed into a throwaway network namespace with the real nft. The proxy reads them
 * through real {@link Informer}s over an in-memory API (list + watch from maps, no server: what is measured is the
 * proxy, not the API server). Per run: the first sync (start() → the whole table applied, computing included),
 * then {@code updates} single-EndpointSlice changes (one endpoint replaced), each timed from the watch event to
 * nft's exit (this includes the proxy's 50 ms debounce). Needs root.
 */
final class ProxyBench {
    static final double TARGET_FIRST_MS = 2000;
    static final double TARGET_UPDATE_MS = 1000;

    private ProxyBench() {
    }

    static void run(int runs, int services, int endpoints, int updates) throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) throw new IllegalStateException("the proxy benchmark needs root (network namespaces, nft)");
        System.out.printf("== proxy: %d run(s); each: fresh netns, %d ClusterIP Services x %d endpoints, first sync, then %d single-slice updates%n",
                runs, services, endpoints, updates);
        List<Double> first = new ArrayList<>();
        List<Double> firstCompute = new ArrayList<>();
        List<Double> update = new ArrayList<>();
        List<Double> updateCompute = new ArrayList<>();
        long firstBytes = 0;
        long updateBytes = 0;
        for (int r = 1; r <= runs; r++) {
            String hex = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);
            String ns = "k3jbench-px-" + hex;
            exec("ip", "netns", "add", ns);
            List<String> nft = List.of("nsenter", "--net=/run/netns/" + ns, "nft");
            MemoryApi api = new MemoryApi();
            for (int i = 0; i < services; i++) {
                api.put("/api/v1/services", service(i));
                api.put("/apis/discovery.k8s.io/v1/endpointslices", slice(i, endpoints, 0));
            }
            Informer svcs = new Informer(api, "/api/v1/services", Map.of(), null);
            Informer slices = new Informer(api, "/apis/discovery.k8s.io/v1/endpointslices", Map.of(), null);
            BlockingQueue<ServiceProxy.SyncReport> reports = new LinkedBlockingQueue<>();
            ServiceProxy proxy = new ServiceProxy(ServiceProxy.Config.defaults("bench-node", List.of("192.168.200.1"), "10.42.0.1")
                    .withTable("k3jb-proxy").withNftCommand(nft), svcs, slices).onSync(reports::add);
            try {
                svcs.start();
                slices.start();
                if (!svcs.awaitSynced(Duration.ofSeconds(30)) || !slices.awaitSynced(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("informers did not sync");
                }
                long t0 = System.nanoTime();
                proxy.start();
                ServiceProxy.SyncReport f = take(reports);
                double wall = System.nanoTime() - t0;
                first.add(wall);
                firstCompute.add((double) f.took().toNanos());
                firstBytes = f.bytes();
                String table = exec("nsenter", "--net=/run/netns/" + ns, "nft", "list", "table", "ip", "k3jb-proxy");
                long count = table.lines().filter(l -> l.strip().startsWith("chain ")).count();
                System.out.printf("-- run %d  %s%n   first sync: %s (compute + nft %s), batch %,d bytes, %,d chains in the table%n",
                        r, Machine.load(), Stats.ms(wall), Stats.ms(f.took().toNanos()), f.bytes(), count);
                for (int u = 1; u <= updates; u++) {
                    int svc = ThreadLocalRandom.current().nextInt(services);
                    long t1 = System.nanoTime();
                    api.modify("/apis/discovery.k8s.io/v1/endpointslices", slice(svc, endpoints, u));
                    ServiceProxy.SyncReport s = take(reports);
                    double w = System.nanoTime() - t1;
                    update.add(w);
                    updateCompute.add((double) s.took().toNanos());
                    updateBytes = s.bytes();
                    String chain = exec("nsenter", "--net=/run/netns/" + ns, "nft", "list", "chain", "ip", "k3jb-proxy", "svc-bench/svc-" + svc + "/tcp/80");
                    if (!chain.contains(endpointIp(svc, 0, u))) throw new IllegalStateException("update " + u + " not in the table:\n" + chain);
                }
                System.out.printf("   updates: median %s (debounce + compute + nft; compute + nft alone %s), batch %,d bytes%n",
                        Stats.ms(Stats.median(tail(update, updates))), Stats.ms(Stats.median(tail(updateCompute, updates))), updateBytes);
            } finally {
                proxy.close();
                svcs.close();
                slices.close();
                try {
                    ServiceProxy.remove(nft, "k3jb-proxy");
                } finally {
                    exec("ip", "netns", "del", ns);
                }
            }
        }
        double fm = Stats.median(first.stream().mapToDouble(Double::doubleValue).toArray());
        double um = Stats.median(update.stream().mapToDouble(Double::doubleValue).toArray());
        System.out.printf("RESULT proxy %d services x %d endpoints, median of %d runs: first sync %s (compute + nft %s, %,d-byte batch; target <= %.0f ms %s); "
                        + "one EndpointSlice change applied in %s median of %d (compute + nft %s, %,d-byte batch; target <= %.0f ms %s)%n",
                services, endpoints, runs, Stats.ms(fm), Stats.ms(Stats.median(firstCompute.stream().mapToDouble(Double::doubleValue).toArray())),
                firstBytes, TARGET_FIRST_MS, fm / 1e6 <= TARGET_FIRST_MS ? "met" : "MISSED", Stats.ms(um), update.size(),
                Stats.ms(Stats.median(updateCompute.stream().mapToDouble(Double::doubleValue).toArray())), updateBytes, TARGET_UPDATE_MS,
                um / 1e6 <= TARGET_UPDATE_MS ? "met" : "MISSED");
    }

    private static double[] tail(List<Double> xs, int n) {
        return xs.subList(xs.size() - n, xs.size()).stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static ServiceProxy.SyncReport take(BlockingQueue<ServiceProxy.SyncReport> q) throws InterruptedException {
        ServiceProxy.SyncReport r = q.poll(60, TimeUnit.SECONDS);
        if (r == null) throw new IllegalStateException("no sync within 60 s");
        return r;
    }

    static ObjectNode service(int i) {
        ObjectNode s = Json.object();
        s.put("apiVersion", "v1").put("kind", "Service");
        s.putObject("metadata").put("namespace", "bench").put("name", "svc-" + i).put("resourceVersion", "1");
        ObjectNode spec = s.putObject("spec");
        String ip = "10.43." + (i / 250) + "." + (i % 250 + 1);
        spec.put("type", "ClusterIP").put("clusterIP", ip).putArray("clusterIPs").add(ip);
        spec.putArray("ports").addObject().put("name", "http").put("port", 80).put("protocol", "TCP").put("targetPort", 8080);
        return s;
    }

    /** Slice of service {@code i}; {@code generation} > 0 replaces the first endpoint by a new address. */
    static ObjectNode slice(int i, int endpoints, int generation) {
        ObjectNode s = Json.object();
        s.put("apiVersion", "discovery.k8s.io/v1").put("kind", "EndpointSlice").put("addressType", "IPv4");
        s.putObject("metadata").put("namespace", "bench").put("name", "svc-" + i + "-abc").put("resourceVersion", "1")
                .putObject("labels").put("kubernetes.io/service-name", "svc-" + i);
        ArrayNode eps = s.putArray("endpoints");
        for (int e = 0; e < endpoints; e++) {
            ObjectNode ep = eps.addObject();
            ep.putArray("addresses").add(endpointIp(i, e, e == 0 ? generation : 0));
            ep.put("nodeName", "node-" + (e % 3));
            ep.putObject("conditions").put("ready", true);
        }
        s.putArray("ports").addObject().put("name", "http").put("port", 8080).put("protocol", "TCP");
        return s;
    }

    /** Unique per (service, endpoint, generation): 10.(100+g).x.y from a running index. */
    static String endpointIp(int svc, int ep, int generation) {
        int n = svc * 16 + ep;
        return "10." + (100 + generation) + "." + (n / 250) + "." + (n % 250 + 1);
    }

    private static String exec(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
        return out;
    }

    /** Lists and watches collections held in memory; {@link #modify} sends MODIFIED to every watcher. */
    static final class MemoryApi implements KubeClient {
        private final Map<String, Map<String, ObjectNode>> collections = new ConcurrentHashMap<>();
        private final Map<String, List<Consumer<WatchEvent>>> watchers = new ConcurrentHashMap<>();
        private long version = 1;

        void put(String path, ObjectNode obj) {
            collections.computeIfAbsent(path, p -> new LinkedHashMap<>()).put(Json.text(obj.path("metadata"), "name"), obj);
        }

        synchronized void modify(String path, ObjectNode obj) {
            ((ObjectNode) obj.path("metadata")).put("resourceVersion", Long.toString(++version));
            put(path, obj);
            for (Consumer<WatchEvent> w : watchers.getOrDefault(path, List.of())) w.accept(new WatchEvent("MODIFIED", obj));
        }

        @Override
        public synchronized ObjectNode list(String collectionPath, Map<String, String> query) {
            ObjectNode list = Json.object();
            list.put("kind", collectionPath.endsWith("services") ? "ServiceList" : "EndpointSliceList");
            list.putObject("metadata").put("resourceVersion", Long.toString(version));
            ArrayNode items = list.putArray("items");
            for (ObjectNode o : collections.getOrDefault(collectionPath, Map.of()).values()) items.add(o.deepCopy());
            return list;
        }

        @Override
        public Watch watch(String collectionPath, Map<String, String> query, Consumer<WatchEvent> events, Consumer<Throwable> onClose) {
            List<Consumer<WatchEvent>> list = watchers.computeIfAbsent(collectionPath, p -> new java.util.concurrent.CopyOnWriteArrayList<>());
            list.add(events);
            return () -> {
                if (list.remove(events)) onClose.accept(null);
            };
        }

        @Override
        public ObjectNode get(String path) {
            throw ApiException.of(404, "NotFound", path + " not found");
        }

        @Override
        public ObjectNode create(String collectionPath, ObjectNode obj) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ObjectNode update(String path, ObjectNode obj) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ObjectNode patch(String path, String contentType, String body) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void delete(String path, ObjectNode options) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }
}
