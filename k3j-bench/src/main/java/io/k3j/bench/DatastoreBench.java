package io.k3j.bench;

import io.k3j.store.testing.EtcdServer;
import io.k3j.store.testing.MariaDb;
import io.k3j.store.testing.Postgres;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * API write throughput of {@code k3j server --disable-agent} on each datastore, in one run with the same client as
 * {@code create} (ConfigMap POSTs over TLS with the admin certificate, closed loop): embedded SQLite, a 3-member etcd
 * cluster (Debian's etcd 3.4, three private processes on loopback, all three given in {@code --datastore-endpoint}),
 * PostgreSQL and MariaDB (Debian's, private instances). The external stores are the store tests' own fixtures
 * ({@code io.k3j.store.testing}): temp dirs, free ports, stopped by PID, dirs deleted. Every backend gets a fresh server
 * and a fresh database, and an unmeasured warm-up batch first.
 *
 * <p>Durability differs, as it does in production defaults: SQLite runs {@code synchronous=NORMAL} (no fsync per
 * commit); etcd fsyncs its WAL on every member; PostgreSQL runs with {@code fsync=on} here (the fixture's tests turn it
 * off); MariaDB keeps {@code innodb_flush_log_at_trx_commit=1}.
 */
final class DatastoreBench {

    static final List<String> ALL = List.of("sqlite", "etcd", "postgres", "mysql");

    private DatastoreBench() {
    }

    /** A running datastore: the endpoint for the server and the processes whose CPU is its cost. */
    private interface Backend extends AutoCloseable {
        String describe();

        /** The {@code --datastore-endpoint} value; null for embedded SQLite. */
        String endpoint();

        /** CPU of the datastore's processes (with their children: PostgreSQL forks a process per connection). */
        long cpuNanos();

        @Override
        void close();
    }

    private record Figures(String backend, String describe, Load.Result load, long serverCpu, long storeCpu) {
    }

    /**
     * @param connections with the Netty generator and HTTP/2, the connections the clients' streams share (the JDK
     *                    generator gives each client its own HttpClient, so its own connection)
     */
    static void run(Env env, int count, int clients, int warmup, HttpClient.Version version, List<String> which,
            int connections, LoadClient client) throws Exception {
        for (String b : which) {
            if (!ALL.contains(b)) throw new IllegalArgumentException("--stores " + b + " (expected: some of " + ALL + ")");
        }
        System.out.printf("== datastores: %d ConfigMap creates from %d clients (%s, TLS, admin cert%s) per datastore, warm-up %d; "
                + "load generator %s; server JVM flags: %s; %s%n", count, clients, version,
                client.netty() && version == HttpClient.Version.HTTP_2 ? ", over " + connections + " connections" : "",
                warmup, client.describe(), env.describeJavaOpts(), Machine.load());
        Map<String, Figures> figures = new LinkedHashMap<>();
        for (String b : which) {
            try (Backend backend = start(env, b)) {
                System.out.printf("  %s: %s; %s%n", b, backend.describe(), Machine.load());
                figures.put(b, measure(env, b, backend, count, clients, warmup, version, connections, client));
            }
        }
        Figures base = figures.get("sqlite");
        for (Figures f : figures.values()) {
            Load.Result r = f.load;
            System.out.printf("RESULT datastores %s: %.0f creates/s, errors %d, p50 %s, p99 %s; server CPU %.0f us/create, datastore CPU %.0f us/create%s%n",
                    f.backend, r.perSecond(), r.errors(), Stats.ms(Stats.percentile(r.latencySorted(), 50)),
                    Stats.ms(Stats.percentile(r.latencySorted(), 99)), f.serverCpu / 1e3 / count, f.storeCpu / 1e3 / count,
                    base == null || f == base ? "" : String.format("; ratio to SQLite %.2f", r.perSecond() / base.load.perSecond()));
        }
        System.out.println("  after: " + Machine.load());
    }

    private static Figures measure(Env env, String name, Backend backend, int count, int clients, int warmup,
            HttpClient.Version version, int connections, LoadClient client) throws IOException, InterruptedException {
        String[] args = backend.endpoint() == null ? new String[0] : new String[] {"--datastore-endpoint", backend.endpoint()};
        try (K3jServer s = env.startServer("datastores-" + name, args)) {
            AdminCredentials cred = s.credentials();
            HttpClient admin = Http.client(cred.sslContext(), version);
            Env.createNamespace(admin, cred.server(), "bench-warmup");
            Env.createNamespace(admin, cred.server(), "bench");
            CpuWindow cpu;
            long store0;
            long storeCpu;
            Load.Result r;
            if (client.netty()) {
                boolean h2 = version == HttpClient.Version.HTTP_2;
                SslContext tls = NettyLoad.tls(cred.keys(), h2, client.openssl());
                try (NettyLoad gen = h2 ? NettyLoad.h2(cred.server(), tls, connections, client.threads())
                        : NettyLoad.http1(cred.server(), tls, clients, client.threads())) {
                    if (warmup > 0) {
                        System.out.println("    warm-up: " + gen.run(configMaps(gen, "bench-warmup", warmup), clients, 201, false).summary());
                    }
                    NettyLoad.Request[] measured = configMaps(gen, "bench", count);
                    store0 = backend.cpuNanos();
                    cpu = CpuWindow.start(s.pid());
                    r = gen.run(measured, clients, 201, false);
                    cpu.end();
                    storeCpu = backend.cpuNanos() - store0;
                }
            } else {
                if (warmup > 0) {
                    Load.Result w = Load.run(warmup, clients, () -> Http.client(cred.sslContext(), version),
                            i -> configMap(cred.server(), "bench-warmup", i), 201, false);
                    System.out.println("    warm-up: " + w.summary());
                }
                store0 = backend.cpuNanos();
                cpu = CpuWindow.start(s.pid());
                r = Load.run(count, clients, () -> Http.client(cred.sslContext(), version),
                        i -> configMap(cred.server(), "bench", i), 201, false);
                cpu.end();
                storeCpu = backend.cpuNanos() - store0;
            }
            long serverCpu = cpu.serverNanos();
            System.out.printf("    %s: %s%n    CPU: server %.0f us/create, datastore %.0f us/create, load generator %.0f us/create; %s%n", name, r.summary(),
                    serverCpu / 1e3 / count, storeCpu / 1e3 / count, cpu.selfNanos() / 1e3 / count, Machine.load());
            System.out.println("    load generator CPU by thread, us per create: " + cpu.selfThreads(count));
            int missing = Env.missingNames(admin, cred.server().resolve("/api/v1/namespaces/bench/configmaps"), "cm-", count);
            admin.close();
            System.out.printf("    check: LIST of namespace bench holds all %d ConfigMaps: %s%n", count, missing == 0 ? "yes" : "NO, " + missing + " missing");
            if (missing != 0) {
                r = CreateBench.withErrors(r, missing, missing + " ConfigMaps missing from the LIST after the run");
            }
            return new Figures(name, backend.describe(), r, serverCpu, storeCpu);
        }
    }

    private static Backend start(Env env, String name) throws IOException {
        return switch (name) {
            case "sqlite" -> new Backend() {
                public String describe() {
                    return "embedded SQLite (the server's default)";
                }

                public String endpoint() {
                    return null;
                }

                public long cpuNanos() {
                    return 0; // inside the server's JVM: counted as server CPU
                }

                public void close() {
                }
            };
            case "etcd" -> {
                EtcdServer.ensureInstalled();
                List<EtcdServer> members = EtcdServer.startCluster(env.freshDir("etcd3"), 3);
                yield new Backend() {
                    public String describe() {
                        return "3-member etcd cluster (" + Etcd.version() + ", pids "
                                + members.stream().map(m -> Long.toString(m.pid())).collect(Collectors.joining(",")) + ")";
                    }

                    public String endpoint() {
                        return members.stream().map(m -> m.clientUrl().toString()).collect(Collectors.joining(","));
                    }

                    public long cpuNanos() {
                        return members.stream().mapToLong(m -> treeCpu(m.pid())).sum();
                    }

                    public void close() {
                        members.forEach(EtcdServer::close);
                    }
                };
            }
            case "postgres" -> {
                // the fixture runs without fsync for its tests; a throughput figure means something only with it
                System.setProperty("k3j.test.fsync", "true");
                Postgres pg = Postgres.start();
                yield new Backend() {
                    public String describe() {
                        return "PostgreSQL 15 (private instance, fsync on, pid " + pg.pid() + ")";
                    }

                    public String endpoint() {
                        return pg.endpoint("k3j");
                    }

                    public long cpuNanos() {
                        return treeCpu(pg.pid());
                    }

                    public void close() {
                        pg.close();
                    }
                };
            }
            case "mysql" -> {
                MariaDb db = MariaDb.start();
                yield new Backend() {
                    public String describe() {
                        return "MariaDB 10.11 (private instance, pid " + db.pid() + ")";
                    }

                    public String endpoint() {
                        return db.endpoint("k3j");
                    }

                    public long cpuNanos() {
                        return treeCpu(db.pid());
                    }

                    public void close() {
                        db.close();
                    }
                };
            }
            default -> throw new IllegalArgumentException(name);
        };
    }

    /**
     * CPU of a process and its live descendants, plus the children it reaped (PostgreSQL's per-connection backends
     * live as long as the server's connection pool, so they are counted while alive).
     */
    static long treeCpu(long pid) {
        long sum = Machine.cpuWithChildrenNanos(pid);
        List<ProcessHandle> kids = ProcessHandle.of(pid).map(h -> h.descendants().toList()).orElse(List.of());
        for (ProcessHandle k : kids) {
            String stat = Machine.read("/proc/" + k.pid() + "/stat");
            if (!stat.equals("?")) sum += Machine.cpuNanos(k.pid());
        }
        return sum;
    }

    private static NettyLoad.Request[] configMaps(NettyLoad gen, String ns, int count) {
        String path = "/api/v1/namespaces/" + ns + "/configmaps";
        NettyLoad.Request[] out = new NettyLoad.Request[count];
        for (int i = 0; i < count; i++) {
            out[i] = gen.request("POST", path, "application/json", CreateBench.configMapJson(i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return out;
    }

    private static HttpRequest configMap(URI server, String ns, int i) {
        return Env.json(server.resolve("/api/v1/namespaces/" + ns + "/configmaps"), CreateBench.configMapJson(i));
    }

    static List<String> stores(String option) {
        if (option == null) return ALL;
        List<String> out = new ArrayList<>();
        for (String s : option.split(",")) if (!s.isBlank()) out.add(s.strip());
        return out;
    }
}
