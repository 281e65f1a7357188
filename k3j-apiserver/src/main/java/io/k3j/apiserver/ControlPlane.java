package io.k3j.apiserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.apply.ManagedFields;
import io.k3j.apiserver.auth.Authenticator;
import io.k3j.apiserver.auth.Authorizer;
import io.k3j.apiserver.auth.rbac.BootstrapPolicy;
import io.k3j.apiserver.auth.rbac.RbacAuthorizer;
import io.k3j.apiserver.auth.UserInfo;
import io.k3j.apiserver.auth.serviceaccount.AuthenticationEndpoints;
import io.k3j.apiserver.auth.serviceaccount.ServiceAccountTokens;
import io.k3j.apiserver.crd.serving.CustomResourceDefinitions;
import io.k3j.apiserver.endpoints.ApiHandler;
import io.k3j.apiserver.endpoints.Metrics;
import io.k3j.apiserver.endpoints.Patcher;
import io.k3j.apiserver.endpoints.TableConverter;
import io.k3j.apiserver.endpoints.VersionInfo;
import io.k3j.apiserver.etcd.BootstrapEndpoints;
import io.k3j.apiserver.etcd.EmbeddedEtcd;
import io.k3j.apiserver.etcd.MemberRemover;
import io.k3j.apiserver.http.ApiHttpServer;
import io.k3j.apiserver.openapi.OpenApiService;
import io.k3j.apiserver.pki.ClusterPki;
import io.k3j.apiserver.pki.ClusterToken;
import io.k3j.apiserver.pki.KubeconfigWriter;
import io.k3j.apiserver.pki.PkiOptions;
import io.k3j.apiserver.registry.ListOptions;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.registry.core.PodStrategy;
import io.k3j.apiserver.registry.core.ServiceStrategy;
import io.k3j.apiserver.watch.CachedObject;
import io.k3j.apiserver.watch.ResourceCache;
import io.k3j.apiserver.registry.Strategies;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.system.GarbageCollector;
import io.k3j.apiserver.system.KubernetesEndpoints;
import io.k3j.apiserver.system.NamespaceController;
import io.k3j.apiserver.watch.WatchCache;
import io.k3j.store.Store;
import io.k3j.store.jdbc.JdbcStore;
import io.k3j.store.etcd.EtcdStore;
import io.k3j.store.etcd.EtcdTls;
import io.k3j.store.memory.MemoryStore;
import io.k3j.store.sqlite.SqliteStore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The control plane of one server: datastore, PKI, watch cache, API server, and the in-process controllers
 * that keep the API's own invariants. Started as an ordered list of steps (as k3s does), each failure wrapped
 * with what was being done; closed in reverse order.
 */
public final class ControlPlane implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ControlPlane.class.getName());
    /** kube-apiserver's limit on request bodies. */
    public static final int MAX_BODY_BYTES = 3 * 1024 * 1024;
    public static final List<String> SYSTEM_NAMESPACES = List.of("default", "kube-system", "kube-public", "kube-node-lease");

    private final ServerConfig config;
    private String advertised; // config.advertisedAddress(), looked up once
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Clock clock = Clock.systemUTC();
    private volatile boolean ready;
    private Store store;
    private EmbeddedEtcd etcd;
    private ClusterPki pki;
    private ClusterToken token;
    private ResourceRegistry registry;
    private ObjectStore objects;
    private ApiHttpServer http;
    private Metrics metrics;
    private OpenApiService openApi;
    private TableConverter tables;
    private CustomResourceDefinitions crds;
    private ServiceStrategy services;
    private RbacAuthorizer rbac;
    private ServiceAccountTokens serviceAccountTokens;

    private ControlPlane(ServerConfig config) {
        this.config = config;
    }

    /**
     * Starts everything and returns once the API answers.
     *
     * @throws StartupException naming the step that failed
     */
    public static ControlPlane start(ServerConfig config) {
        ControlPlane cp = new ControlPlane(config);
        try {
            cp.step("preparing data directory " + config.serverDir(), cp::prepareDataDir);
            if (EmbeddedEtcd.wanted(config)) cp.step("starting embedded etcd", cp::startEtcd);
            // BoringSSL loads beside the certificates' work instead of after it: each was ~0.3 s of CPU on the thread
            // the first /readyz waited for
            Thread.ofPlatform().daemon().name("k3j-tls-init").start(ClusterPki::prepareTlsEngine);
            // the certificates (and the listener's TLS context) are read or made while the datastore opens: neither
            // needs the other; after etcd, which may fetch a joining server's CAs into the data dir
            java.util.concurrent.FutureTask<Void> pkiLoad = new java.util.concurrent.FutureTask<>(() -> {
                cp.loadPki();
                cp.pki.serverSslContext();
                return null;
            });
            Thread.ofPlatform().daemon().name("k3j-pki").start(pkiLoad);
            cp.step("opening datastore", cp::openStore);
            cp.step("loading cluster certificates", () -> awaitPki(pkiLoad));
            cp.step("starting watch cache", cp::startCache);
            cp.step("creating system namespaces", cp::bootstrap);
            cp.step("starting RBAC authorizer with the default cluster roles", cp::startRbac);
            cp.step("serving custom resources", cp::startCustomResources);
            cp.step("starting API server on " + config.bindAddress() + ":" + config.httpsPort(), cp::startHttp);
            cp.step("writing kubeconfig", cp::writeKubeconfig);
            cp.step("publishing the kubernetes service", cp::publishKubernetesService);
            cp.step("starting namespace and garbage collection controllers", cp::startControllers);
            cp.ready = true;
            return cp;
        } catch (RuntimeException e) {
            cp.close();
            throw e;
        }
    }

    /** Thrown when a startup step fails; the message says which. */
    public static final class StartupException extends RuntimeException {
        StartupException(String step, Throwable cause) {
            super(step + ": " + cause.getMessage(), cause);
        }
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    private void step(String what, Step step) {
        long t0 = System.nanoTime();
        try {
            step.run();
        } catch (StartupException e) {
            throw e;
        } catch (Exception e) {
            throw new StartupException(what, e);
        }
        LOG.log(System.Logger.Level.INFO, "{0} ({1} ms)", what, (System.nanoTime() - t0) / 1_000_000);
    }

    private static void awaitPki(java.util.concurrent.FutureTask<Void> load) throws Exception {
        try {
            load.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    private void prepareDataDir() throws IOException {
        Files.createDirectories(config.serverDir());
    }

    private void startEtcd() throws IOException {
        etcd = EmbeddedEtcd.start(config, clock);
        closeables.add(etcd);
        if (!config.etcd().disableSnapshots()) closeables.add(io.k3j.apiserver.etcd.SnapshotScheduler.start(config, clock));
    }

    private void openStore() throws IOException {
        String endpoint = config.datastoreEndpoint() == null ? "" : config.datastoreEndpoint();
        if (etcd != null) {
            store = etcd.openStore();
        } else if (endpoint.isEmpty() || endpoint.startsWith("sqlite://")) {
            Path db = endpoint.isEmpty() ? config.serverDir().resolve("db").resolve("state.db") : Path.of(endpoint.substring("sqlite://".length()));
            Files.createDirectories(db.getParent());
            store = SqliteStore.open(db);
        } else if (endpoint.equals("memory://")) {
            store = new MemoryStore();
        } else if (JdbcStore.accepts(endpoint)) {
            store = JdbcStore.open(endpoint);
        } else if (endpoint.startsWith("http://") || endpoint.startsWith("https://")) {
            EtcdTls tls = config.datastoreCaFile() == null && config.datastoreCertFile() == null ? null
                    : new EtcdTls(config.datastoreCaFile(), config.datastoreCertFile(), config.datastoreKeyFile());
            store = EtcdStore.open(EtcdStore.parseEndpoints(endpoint), tls);
        } else {
            throw new IllegalArgumentException("unsupported --datastore-endpoint \"" + endpoint
                    + "\": use sqlite://PATH, memory://, postgres://USER:PASSWORD@HOST:PORT/DATABASE,"
                    + " mysql://USER:PASSWORD@tcp(HOST:PORT)/DATABASE, http(s)://HOST:2379[,...] for etcd,"
                    + " or leave it empty for the embedded SQLite datastore");
        }
        closeables.add(store);
    }


    private void loadPki() throws IOException {
        List<String> sans = new ArrayList<>(config.tlsSans());
        sans.addAll(config.nodeIps());
        sans.add(advertiseAddress());
        if (config.nodeName() != null && !config.nodeName().isEmpty()) sans.add(config.nodeName());
        pki = ClusterPki.loadOrCreate(config.serverDir(), PkiOptions.defaults().withSans(sans)
                .withServiceCidr(config.serviceCidr()).withClusterDomain(config.clusterDomain()));
        token = ClusterToken.loadOrCreate(config.serverDir(), config.token(), pki.serverCaBundle());
    }

    private void startCache() {
        WatchCache cache = new WatchCache(store, 10_000);
        cache.start();
        closeables.add(cache);
        registry = ResourceRegistry.withBuiltins();
        for (ResourceType t : registry.all()) cache.cache(t.storagePrefix());
        services = new ServiceStrategy(config.serviceCidr());
        openApi = OpenApiService.builtin();
        tables = new TableConverter();
        crds = new CustomResourceDefinitions(registry, tables, openApi, clock);
        PodStrategy pods = new PodStrategy();
        io.k3j.apiserver.registry.networking.IngressStrategy ingresses = new io.k3j.apiserver.registry.networking.IngressStrategy();
        objects = new ObjectStore(store, cache, BuiltinStrategies.create(services, pods, ingresses, crds), clock);
        ResourceType ics = registry.find("networking.k8s.io", "v1", "ingressclasses").orElseThrow();
        ResourceCache icCache = cache.cache(ics.storagePrefix());
        ingresses.useDefaultClass(() -> {
            // several defaults: the newest wins, as kube-apiserver does since 1.28
            String best = null;
            String bestCreated = "";
            for (CachedObject o : icCache.list(ics.storagePrefix()).objects()) {
                var meta = o.object().path("metadata");
                if (!"true".equals(meta.path("annotations").path("ingressclass.kubernetes.io/is-default-class").asText())) continue;
                String created = meta.path("creationTimestamp").asText("");
                if (best == null || created.compareTo(bestCreated) > 0) {
                    best = meta.path("name").asText();
                    bestCreated = created;
                }
            }
            return java.util.Optional.ofNullable(best);
        });
        ResourceType pcs = registry.find("scheduling.k8s.io", "v1", "priorityclasses").orElseThrow();
        ResourceCache pcCache = cache.cache(pcs.storagePrefix());
        pods.usePriorityClasses(new PodStrategy.PriorityClasses() {
            @Override
            public com.fasterxml.jackson.databind.JsonNode byName(String name) {
                CachedObject o = pcCache.get(pcs.key(null, name));
                return o == null ? null : o.object();
            }

            @Override
            public com.fasterxml.jackson.databind.JsonNode globalDefault() {
                for (CachedObject o : pcCache.list(pcs.storagePrefix()).objects()) {
                    if (o.object().path("globalDefault").asBoolean(false)) return o.object();
                }
                return null;
            }
        });
        ResourceType svc = registry.find("", "v1", "services").orElseThrow();
        services.restore(objects.list(svc, null, ListOptions.ALL).items());
    }

    private void bootstrap() {
        ResourceType ns = registry.find("", "v1", "namespaces").orElseThrow();
        for (String name : SYSTEM_NAMESPACES) {
            ObjectNode obj = Json.object();
            obj.putObject("metadata").put("name", name);
            try {
                objects.create(ns, null, obj, WriteOptions.system("k3j"));
            } catch (ApiException e) {
                if (e.code() != 409) throw e;
            }
        }
    }

    private void startRbac() {
        BootstrapPolicy.ensure(objects, registry);
        rbac = RbacAuthorizer.start(objects, registry);
        closeables.add(rbac);
    }

    /** Every stored CRD is served before the API answers its first request. */
    private void startCustomResources() {
        crds.start(objects);
        closeables.add(crds);
    }

    private void startHttp() throws Exception {
        metrics = new Metrics();
        String issuer = ServiceAccountTokens.issuerFor(config.clusterDomain());
        serviceAccountTokens = ServiceAccountTokens.create(pki.serviceAccountKeyPair(), issuer, List.of(issuer), objects, registry, clock);
        Authenticator authn = Authenticator.union(
                Authenticator.clientCertificates(List.of(pki.clientCaCertificate()), clock),
                Authenticator.joinToken(token.password(), token.password()),
                serviceAccountTokens.authenticator());
        String advertise = advertiseAddress();
        Patcher patcher = new Patcher(type -> openApi.patchSchema(type.group(), type.version(), type.kind()), new ManagedFields(clock));
        objects.managedFields(patcher.updateTracker());
        Authorizer authz = Authorizer.defaultChain(rbac);
        io.k3j.apiserver.proxy.KubeletProxy kubelets = io.k3j.apiserver.proxy.KubeletProxy.create(objects, registry, pki);
        closeables.add(kubelets);
        io.k3j.apiserver.metrics.MetricsApi metricsApi = io.k3j.apiserver.metrics.MetricsApi.create(objects, registry,
                (node, path) -> kubelets.get(node, path, 16 << 20), clock);
        closeables.add(metricsApi);
        registry.replace(List.of(), io.k3j.apiserver.metrics.MetricsApi.TYPES);
        ApiHandler handler = new ApiHandler(registry, objects, authn, authz, rbac::rulesFor, patcher,
                tables, openApi, metrics,
                new VersionInfo(VersionInfo.KUBERNETES_VERSION, Version.K3J, Version.COMMIT, Version.BUILD_DATE),
                advertise + ":" + config.httpsPort(), () -> ready, new AuthenticationEndpoints(serviceAccountTokens, authn), kubelets, metricsApi);
        // the k3s join endpoints (/cacerts, /ping, /v1-k3s/*-kubelet.crt, /v1-k3s/server-bootstrap) sit in front of the API
        http = new ApiHttpServer(new InetSocketAddress(config.bindAddress(), config.httpsPort()), pki.serverSslContext(),
                BootstrapEndpoints.wrap(config.serverDir(), authn, etcd == null ? List::of : etcd::clusterClientUrls,
                        io.k3j.apiserver.join.JoinEndpoints.wrap(pki, objects, registry, authn, authz, handler)), MAX_BODY_BYTES);
        http.start();
        closeables.add(http);
    }

    private String advertiseAddress() {
        if (advertised == null) advertised = config.advertisedAddress();
        return advertised;
    }

    /**
     * The {@code kubernetes} Service in {@code default}; its Endpoints and EndpointSlice list every live server
     * (this one included), kept by the lease endpoint reconciler as kube-apiserver keeps them.
     */
    private void publishKubernetesService() {
        int port = http.port();
        ResourceType svc = registry.find("", "v1", "services").orElseThrow();
        createOrKeep(svc, "default", json("""
                {"metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
                 "spec": {"type": "ClusterIP", "clusterIP": "%s", "sessionAffinity": "None",
                          "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": %d}]}}
                """.formatted(services.kubernetesServiceIp(), port)));
        closeables.add(new KubernetesEndpoints(objects, registry, clock, new KubernetesEndpoints.Server(advertiseAddress(), port),
                KubernetesEndpoints.DEFAULT_LEASE_DURATION, KubernetesEndpoints.DEFAULT_RENEW_INTERVAL).start());
    }

    private static ObjectNode json(String text) {
        return Json.parseObject(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private void createOrKeep(ResourceType type, String namespace, ObjectNode obj) {
        // on a restart the object exists and a create would fail allocating (its IP is taken) before it conflicts
        if (objects.find(type, namespace, Json.text(obj.get("metadata"), "name")).isPresent()) return;
        try {
            objects.create(type, namespace, obj, WriteOptions.system("k3j"));
        } catch (ApiException e) {
            if (e.code() != 409) throw e;
        }
    }

    private void writeKubeconfig() throws IOException {
        if (config.writeKubeconfig() == null) return;
        KubeconfigWriter.write(config.writeKubeconfig(), KubeconfigWriter.parseMode(config.writeKubeconfigMode()),
                "https://127.0.0.1:" + port(), pki.serverCaPem(), pki.adminCredentials());
    }

    private void startControllers() {
        runSystemControllers(true);
        closeables.add(() -> runSystemControllers(false));
        closeables.add(startCompactor());
        closeables.add(new io.k3j.apiserver.system.EventReaper(objects, registry, clock, io.k3j.apiserver.system.EventReaper.DEFAULT_TTL)
                .start(java.time.Duration.ofMinutes(1)));
    }

    private NamespaceController namespaceController;
    private GarbageCollector garbageCollector;
    private MemberRemover memberRemover;

    /**
     * Starts or stops the namespace and garbage-collection controllers. They run from the start so that a
     * control plane on its own keeps the API's invariants; a server whose controllers are leader-elected stops
     * them here and runs them only while it holds the kube-controller-manager Lease.
     */
    public synchronized void runSystemControllers(boolean run) {
        if (run && namespaceController == null) {
            namespaceController = new NamespaceController(objects, registry, pki.serverCaPem()).start();
            garbageCollector = new GarbageCollector(objects, registry).start();
            if (etcd != null) memberRemover = MemberRemover.start(etcd, objects, registry);
        } else if (!run && namespaceController != null) {
            namespaceController.close();
            garbageCollector.close();
            if (memberRemover != null) memberRemover.close();
            memberRemover = null;
            namespaceController = null;
            garbageCollector = null;
        }
    }

    /**
     * Compacts the store's history every 5 minutes, keeping the newest {@value #RETAINED_REVISIONS} revisions
     * (what kine does for k3s), so the datastore doesn't grow without bound.
     */
    private AutoCloseable startCompactor() {
        Thread t = Thread.ofVirtual().name("compactor").start(() -> {
            while (true) {
                try {
                    Thread.sleep(COMPACT_INTERVAL.toMillis());
                    long target = store.currentRevision() - RETAINED_REVISIONS;
                    if (target > store.compactRevision()) store.compact(target);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "compacting the datastore: " + e.getMessage());
                }
            }
        });
        return t::interrupt;
    }

    private static final long RETAINED_REVISIONS = 1000;
    private static final java.time.Duration COMPACT_INTERVAL = java.time.Duration.ofMinutes(5);

    public int port() {
        return http.port();
    }

    public ServerConfig config() {
        return config;
    }

    public ClusterPki pki() {
        return pki;
    }

    /** The embedded etcd member, when this server runs one ({@code --cluster-init}, a join, or an earlier member). */
    public java.util.Optional<EmbeddedEtcd> etcd() {
        return java.util.Optional.ofNullable(etcd);
    }

    public ClusterToken token() {
        return token;
    }

    /** Mints and checks service-account tokens (e.g. a pod's projected token); set once the API server started. */
    public ServiceAccountTokens serviceAccountTokens() {
        return serviceAccountTokens;
    }

    public ObjectStore objects() {
        return objects;
    }

    public ResourceRegistry registry() {
        return registry;
    }

    public boolean ready() {
        return ready;
    }

    /** The in-process identity controllers act as. */
    static UserInfo systemUser() {
        return new UserInfo("system:k3j-controller", "", List.of(UserInfo.SYSTEM_MASTERS, UserInfo.ALL_AUTHENTICATED), Map.of());
    }

    @Override
    public void close() {
        ready = false;
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "error while stopping: " + e);
            }
        }
        closeables.clear();
    }
}
