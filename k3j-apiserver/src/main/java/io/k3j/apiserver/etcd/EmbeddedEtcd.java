package io.k3j.apiserver.etcd;

import static java.util.Objects.requireNonNull;

import io.k3j.apiserver.ServerConfig;
import io.k3j.store.StoreException;
import io.k3j.store.etcd.EtcdCluster;
import io.k3j.store.etcd.EtcdStore;
import io.k3j.store.etcd.EtcdTls;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The etcd member a server runs for embedded HA ({@code k3j server --cluster-init}, or joining with
 * {@code --server URL --token TOKEN}), as k3s does, with Debian's {@code /usr/bin/etcd} as a supervised child
 * process:
 *
 * <pre>
 * &lt;data-dir&gt;/server/db/etcd/        the member's data (mode 0700)
 * &lt;data-dir&gt;/server/db/etcd.name     the member's name, {@code <node name>-<8 hex digits>} as in k3s
 * &lt;data-dir&gt;/server/db/etcd.log      its output
 * &lt;data-dir&gt;/server/db/etcd.pid      its PID, so a member orphaned by a crash is ended at the next start
 * &lt;data-dir&gt;/server/tls/etcd/        its certificates ({@link EtcdPki}: client and peer TLS, with client
 *                                   certificates required on both)
 * </pre>
 *
 * Clients reach it at {@code https://127.0.0.1:2379} and {@code https://<node-ip>:2379}; peers at
 * {@code https://<node-ip>:2380}; {@code http://127.0.0.1:2381/health} tells whether it is healthy.
 *
 * <p>Start-up decides between three cases: the data dir already holds a member (a restart: the member is reused,
 * whatever the flags), {@code --server} is given (join: fetch the cluster's CAs with the server token, add a member
 * through the member API, start with {@code --initial-cluster-state existing}), else a new one-member cluster.
 * The process is restarted when it dies and stopped by PID on {@link #close()}.
 */
public final class EmbeddedEtcd implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EmbeddedEtcd.class.getName());
    /** Debian's etcd-server package puts it here. */
    public static final Path ETCD_BINARY = Path.of("/usr/bin/etcd");
    /** The Debian package that holds {@link #ETCD_BINARY}. */
    public static final String ETCD_PACKAGE = "etcd-server";
    private static final Duration HEALTHY_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration BOOTSTRAP_TIMEOUT = Duration.ofMinutes(2);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final EtcdPki pki;
    private final String name;
    private final String nodeIp;
    private final EtcdOptions options;
    private final EtcdProcess process;
    private final Path serverDir;

    private EmbeddedEtcd(Path serverDir, EtcdPki pki, String name, String nodeIp, EtcdOptions options, EtcdProcess process) {
        this.serverDir = serverDir;
        this.pki = pki;
        this.name = name;
        this.nodeIp = nodeIp;
        this.options = options;
        this.process = process;
    }

    /**
     * Whether {@code config} asks for embedded etcd: {@code --cluster-init}, {@code --server}, {@code --cluster-reset},
     * or a member left by an earlier start (k3s keeps using etcd once it has started it). Never with
     * {@code --datastore-endpoint}.
     *
     * @throws IllegalArgumentException for {@code --cluster-init} or {@code --cluster-reset} with {@code --datastore-endpoint}
     */
    public static boolean wanted(ServerConfig config) {
        String endpoint = config.datastoreEndpoint() == null ? "" : config.datastoreEndpoint();
        if (!endpoint.isEmpty()) {
            if (config.etcd().clusterInit() || config.etcd().clusterReset()) {
                throw new IllegalArgumentException("--cluster-init and --cluster-reset manage the embedded etcd; they don't go with "
                        + "--datastore-endpoint " + endpoint + " (drop one of them)");
            }
            return false;
        }
        return config.etcd().clusterInit() || config.etcd().joining() || config.etcd().clusterReset()
                || memberExists(config.serverDir());
    }

    private static boolean memberExists(Path serverDir) {
        return Files.isDirectory(dataDir(serverDir).resolve("member"));
    }

    static Path dataDir(Path serverDir) {
        return serverDir.resolve("db").resolve("etcd");
    }

    /**
     * Runs the member: on a joining server's first start, fetches the cluster's bootstrap data from
     * {@code --server} first and writes it under {@code <data-dir>/server} (so the cluster PKI loaded next is the
     * cluster's), then adds the member to the cluster. Returns once the member is healthy.
     *
     * @throws IOException              if etcd is missing, the bootstrap data or the member API cannot be reached, or
     *                                  the member does not become healthy (the message names its log)
     * @throws IllegalArgumentException if the flags don't fit (no token to join with, say)
     */
    public static EmbeddedEtcd start(ServerConfig config, Clock clock) throws IOException {
        requireNonNull(config, "config");
        EtcdOptions options = config.etcd();
        if (!Files.isExecutable(ETCD_BINARY)) {
            throw new IOException(ETCD_BINARY + " is missing: install Debian's " + ETCD_PACKAGE + " (apt-get install -y "
                    + ETCD_PACKAGE + ")");
        }
        Path serverDir = config.serverDir();
        Path data = dataDir(serverDir);
        boolean existing = memberExists(serverDir);
        List<String> joinUrls = List.of();
        if (!existing && options.joining()) {
            BootstrapData bootstrap = new BootstrapClient(options.server(), config.token()).fetch(BOOTSTRAP_TIMEOUT);
            bootstrap.write(serverDir);
            joinUrls = bootstrap.etcdClientUrls();
            if (joinUrls.isEmpty()) {
                throw new IOException(options.server() + " runs no embedded etcd to join (start the first server with --cluster-init)");
            }
            LOG.log(System.Logger.Level.INFO, "fetched bootstrap data from " + options.server());
        }
        String ip = config.advertisedAddress(); // where peers and other servers reach this member
        String nodeName = nodeName(config);
        List<String> sans = new ArrayList<>(config.nodeIps());
        sans.add(ip);
        if (config.advertiseAddress() != null && !config.advertiseAddress().isEmpty()) sans.add(config.advertiseAddress());
        EtcdPki pki = EtcdPki.loadOrCreate(serverDir.resolve("tls"), nodeName, sans, clock);
        String name = memberName(serverDir, nodeName);

        String peerUrl = url(ip, options.peerPort());
        String initialCluster = name + "=" + peerUrl;
        String state = "new";
        boolean forceNewCluster = options.clusterReset();
        if (options.clusterReset() && options.clusterResetRestorePath() != null) {
            // the old data is kept beside, as k3s keeps it, in case the snapshot was the wrong one
            if (Files.exists(data)) {
                Path aside = data.resolveSibling("etcd-old-" + clock.instant().getEpochSecond());
                Files.move(data, aside);
                LOG.log(System.Logger.Level.WARNING, "moved the etcd data to " + aside + " to restore " + options.clusterResetRestorePath());
            }
            EtcdSnapshots.restore(options.clusterResetRestorePath(), data, name, peerUrl);
            // the restored data already holds a cluster of this one member
            forceNewCluster = false;
            existing = true;
        } else if (options.clusterReset() && !existing) {
            throw new IOException("--cluster-reset needs the etcd data of an earlier start in " + data
                    + " (or a snapshot to restore with --cluster-reset-restore-path)");
        }
        createPrivateDirectory(data);
        if (!existing && options.joining()) {
            try (ClusterMembers members = new ClusterMembers(EtcdCluster.open(joinUrls.stream().map(URI::create).toList(),
                    new EtcdTls(pki.serverCa(), pki.clientCert(), pki.clientKey())))) {
                initialCluster = join(members, name, peerUrl);
            }
            state = "existing";
        }
        List<String> listenClient = new ArrayList<>(List.of(url("127.0.0.1", options.clientPort())));
        if (!isLoopback(ip)) listenClient.add(url(ip, options.clientPort()));
        List<String> base = List.of(ETCD_BINARY.toString(),
                "--name", name,
                "--data-dir", data.toString(),
                "--listen-client-urls", String.join(",", listenClient),
                "--advertise-client-urls", url(ip, options.clientPort()),
                "--listen-peer-urls", peerUrl,
                "--initial-advertise-peer-urls", peerUrl,
                "--initial-cluster", initialCluster,
                "--initial-cluster-state", state,
                "--listen-metrics-urls", "http://127.0.0.1:" + options.metricsPort(),
                "--client-cert-auth", "--trusted-ca-file", pki.serverCa().toString(),
                "--cert-file", pki.serverCert().toString(), "--key-file", pki.serverKey().toString(),
                "--peer-client-cert-auth", "--peer-trusted-ca-file", pki.peerCa().toString(),
                "--peer-cert-file", pki.peerCert().toString(), "--peer-key-file", pki.peerKey().toString(),
                // a leader that dies is replaced within about two seconds, well inside the 5 s the API may pause
                "--heartbeat-interval", "200", "--election-timeout", "2000",
                // k3s's value: keeps the member's memory small between raft snapshots
                "--snapshot-count", "10000",
                "--logger", "zap", "--log-outputs", "stderr");
        boolean[] forceNew = {forceNewCluster};
        EtcdProcess process = new EtcdProcess(() -> {
            List<String> cmd = new ArrayList<>(base);
            // --cluster-reset: the first start forgets the other members and keeps the data; restarts don't repeat it
            if (forceNew[0]) {
                cmd.add("--force-new-cluster");
                forceNew[0] = false;
            }
            return cmd;
        }, data, serverDir.resolve("db").resolve("etcd.log"), serverDir.resolve("db").resolve("etcd.pid"),
                URI.create("http://127.0.0.1:" + options.metricsPort() + "/health"));
        process.start();
        EmbeddedEtcd etcd = new EmbeddedEtcd(serverDir, pki, name, ip, options, process);
        try {
            process.awaitHealthy(HEALTHY_TIMEOUT);
        } catch (IOException e) {
            etcd.close();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, "etcd member " + name + " is healthy (" + (existing ? "restarted" : state + " cluster")
                + ", client " + etcd.clientUrl() + ", peer " + peerUrl + ")");
        return etcd;
    }

    /**
     * Adds this member to the cluster (or finds the one an interrupted earlier attempt added) and returns the
     * {@code --initial-cluster} value that lists every member.
     */
    static String join(Members members, String name, String peerUrl) throws IOException {
        List<Members.Member> current = members.list();
        Members.Member mine = current.stream().filter(m -> m.peerUrls().contains(peerUrl)).findFirst().orElse(null);
        if (mine != null && mine.started()) {
            // our address belongs to a member whose data is gone (this server's data dir was wiped): replace it
            LOG.log(System.Logger.Level.WARNING, "removing stale etcd member " + mine.name() + " at " + peerUrl + " before joining again");
            members.remove(mine.id());
            mine = null;
        }
        if (mine == null) current = addRetrying(members, peerUrl);
        StringBuilder cluster = new StringBuilder();
        for (Members.Member m : current) {
            String n = m.peerUrls().contains(peerUrl) ? name : m.name();
            for (String u : m.peerUrls()) {
                if (!cluster.isEmpty()) cluster.append(',');
                cluster.append(n).append('=').append(u);
            }
        }
        return cluster.toString();
    }

    /**
     * etcd refuses a member while another one is catching up ("unhealthy cluster") or was added but has not started
     * yet ("not enough started members": two servers joining at once, as {@code k3j cluster create --servers 3} starts
     * them); k3s retries too.
     */
    private static List<Members.Member> addRetrying(Members members, String peerUrl) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            try {
                return members.add(List.of(peerUrl));
            } catch (IOException e) {
                String why = String.valueOf(e.getMessage());
                if (System.nanoTime() > deadline || !(why.contains("unhealthy") || why.contains("not enough started members"))) {
                    throw new IOException("adding etcd member " + peerUrl + ": " + e.getMessage(), e);
                }
                LOG.log(System.Logger.Level.INFO, "etcd cluster busy with another member, retrying: " + e.getMessage());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", ie);
                }
            }
        }
    }

    private static String memberName(Path serverDir, String nodeName) throws IOException {
        Path file = serverDir.resolve("db").resolve("etcd.name");
        if (Files.isRegularFile(file)) {
            String stored = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (!stored.isEmpty()) return stored;
        }
        byte[] suffix = new byte[4];
        RANDOM.nextBytes(suffix);
        String name = nodeName + "-" + HexFormat.of().formatHex(suffix);
        Files.createDirectories(file.getParent());
        Files.writeString(file, name + "\n", StandardCharsets.UTF_8);
        return name;
    }

    /** The node name a member name starts with ({@code <node name>-<8 hex digits>}), or "" for another form. */
    static String nodeNameOf(String memberName) {
        int dash = memberName.lastIndexOf('-');
        if (dash <= 0 || memberName.length() - dash - 1 != 8) return "";
        for (int i = dash + 1; i < memberName.length(); i++) {
            if (Character.digit(memberName.charAt(i), 16) < 0) return "";
        }
        return memberName.substring(0, dash);
    }

    /** {@code --node-name}, else the kernel's host name, lower-cased: the name the server's own agent registers. */
    static String nodeName(ServerConfig config) {
        if (config.nodeName() != null && !config.nodeName().isBlank()) return config.nodeName().strip().toLowerCase(Locale.ROOT);
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip().toLowerCase(Locale.ROOT);
        } catch (IOException e) {
            return "localhost";
        }
    }

    private static boolean isLoopback(String ip) {
        return ip.equals("127.0.0.1") || ip.equals("::1") || ip.equals("localhost");
    }

    private static String url(String host, int port) {
        return "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static void createPrivateDirectory(Path dir) throws IOException {
        Files.createDirectories(dir.getParent());
        if (!Files.isDirectory(dir)) {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        // etcd 3.4 refuses to run on a data dir others can read
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    // ---- what the API server needs --------------------------------------------------------------------------

    /** Where the API server's store connects: the member on loopback. */
    public String endpoint() {
        return url("127.0.0.1", options.clientPort());
    }

    /** The URL other servers reach this member's client port at (handed to joiners). */
    public String clientUrl() {
        return url(nodeIp, options.clientPort());
    }

    /** The CA that signs etcd's serving certificates ({@code tls/etcd/server-ca.crt}). */
    public Path caFile() {
        return pki.serverCa();
    }

    /** The API server's client certificate for etcd ({@code tls/etcd/client.crt}). */
    public Path certFile() {
        return pki.clientCert();
    }

    /** The key of {@link #certFile()}. */
    public Path keyFile() {
        return pki.clientKey();
    }

    /** This member's name, {@code <node name>-<8 hex digits>}. */
    public String memberName() {
        return name;
    }

    /** The etcd process's PID, or -1 while it is being restarted. */
    public long pid() {
        return process.pid();
    }

    /** How many times the supervisor started etcd (1 unless it died and was restarted). */
    public int starts() {
        return process.starts();
    }

    /** Whether the member reports itself healthy (it has a leader). */
    public boolean healthy() {
        return process.healthy();
    }

    /**
     * Opens the API server's store on this member (loopback, as k3s's API server talks to its own member). Retried
     * for a while: a member that just became healthy may still be slow to answer its first reads, on a busy machine
     * more so.
     *
     * @throws IOException if it keeps failing for {@value #STORE_OPEN_SECONDS} s
     */
    public EtcdStore openStore() throws IOException {
        EtcdStore store = openStoreRetrying();
        try {
            migrateSqlite(store);
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    private EtcdStore openStoreRetrying() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STORE_OPEN_SECONDS);
        while (true) {
            try {
                return EtcdStore.open(List.of(URI.create(endpoint())), clientTls());
            } catch (StoreException e) {
                if (System.nanoTime() > deadline) throw new IOException("opening the etcd store on " + endpoint() + ": " + e.getMessage(), e);
                LOG.log(System.Logger.Level.INFO, "etcd member not answering yet, retrying: " + e.getMessage());
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", ie);
                }
            }
        }
    }

    private static final int STORE_OPEN_SECONDS = 60;

    /**
     * A server that ran on the embedded SQLite datastore and is restarted with {@code --cluster-init} takes its
     * objects along into etcd (k3s does since v1.22.2). Done once: {@code db/state.db.migrated} records it, and the
     * SQLite files are left as they were.
     */
    private void migrateSqlite(EtcdStore etcd) throws IOException {
        if (!options.clusterInit() || options.joining()) return;
        Path sqlite = serverDir.resolve("db").resolve("state.db");
        Path marker = serverDir.resolve("db").resolve("state.db.migrated");
        if (!Files.isRegularFile(sqlite) || Files.exists(marker)) return;
        long t0 = System.nanoTime();
        int copied;
        try (io.k3j.store.sqlite.SqliteStore from = io.k3j.store.sqlite.SqliteStore.open(sqlite)) {
            copied = copyAll(from, etcd);
        }
        Files.writeString(marker, "migrated " + copied + " keys into etcd member " + name + "\n", StandardCharsets.UTF_8);
        LOG.log(System.Logger.Level.INFO, "migrated " + copied + " keys from " + sqlite + " into etcd in "
                + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    /**
     * Copies every key of {@code from} (as of one revision) into {@code to}; keys {@code to} already holds (a
     * migration that was interrupted and runs again) are left alone.
     *
     * @return how many keys were created
     */
    static int copyAll(io.k3j.store.Store from, io.k3j.store.Store to) {
        int copied = 0;
        long revision = 0;
        String start = "";
        while (true) {
            io.k3j.store.RangeResult page = from.range("", start, revision, 500);
            revision = page.revision();
            for (io.k3j.store.KeyValue kv : page.kvs()) {
                try {
                    to.create(kv.key(), kv.value());
                    copied++;
                } catch (io.k3j.store.KeyExistsException e) {
                    // copied by the interrupted attempt
                }
            }
            if (!page.more() || page.kvs().isEmpty()) return copied;
            start = page.kvs().getLast().key() + "\0";
        }
    }

    /** The TLS files the API server's etcd clients use. */
    public EtcdTls clientTls() {
        return new EtcdTls(caFile(), certFile(), keyFile());
    }

    /**
     * The membership API, reached through this member (a short-lived connection: membership changes are rare).
     * Close it after use.
     */
    ClusterMembers members() {
        return new ClusterMembers(EtcdCluster.open(List.of(URI.create(endpoint())), clientTls()));
    }

    /** The client URLs of every started member, for a joining server; this member's alone when the list fails. */
    public List<String> clusterClientUrls() {
        try (ClusterMembers members = members()) {
            List<String> urls = new ArrayList<>();
            for (Members.Member m : members.list()) urls.addAll(m.clientUrls());
            if (!urls.isEmpty()) return urls;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "listing etcd members: " + e.getMessage());
        }
        return List.of(clientUrl());
    }

    /** Stops the member (SIGTERM by PID, SIGKILL after 10 s); it is not restarted afterwards. */
    @Override
    public void close() {
        process.close();
    }

    @Override
    public String toString() {
        return "EmbeddedEtcd[" + name + ", " + endpoint() + "]";
    }
}
