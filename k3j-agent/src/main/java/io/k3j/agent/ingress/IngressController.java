package io.k3j.agent.ingress;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.Informer;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.Json;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The node's ingress controller (what Traefik is in k3s): a reverse proxy inside the agent serving the
 * networking.k8s.io/v1 Ingresses of the {@code k3j} class (or of no class while {@code k3j} is the default one, or
 * with the legacy {@code kubernetes.io/ingress.class} annotation) on an HTTP and an HTTPS listener.
 *
 * <p>It reads five informers that the caller builds, shares and starts: ingresses, ingressclasses, services,
 * endpointslices, and TLS secrets ({@link #tlsSecrets}). Any change of them rebuilds the routing table after
 * {@link IngressConfig#debounce()} and swaps it whole, so requests never see half an update. Requests go straight to
 * the ready endpoints (pod IPs) of a backend's Service port, round-robin, over pooled keep-alive HTTP/1.1
 * connections; clients may speak HTTP/1.1, HTTP/2 (ALPN on TLS, prior knowledge in cleartext) and WebSocket.
 * Ingress status is not written here: the server side copies the {@code k3j-ingress} Service's addresses.
 *
 * <p>It creates nothing on the host besides its two listening sockets, so there is no {@code cleanup()}.
 */
public final class IngressController implements AutoCloseable {
    /** Collection paths of the informers the controller reads (cluster-wide list+watch). */
    public static final String INGRESSES = "/apis/networking.k8s.io/v1/ingresses";
    public static final String INGRESS_CLASSES = "/apis/networking.k8s.io/v1/ingressclasses";
    public static final String SERVICES = "/api/v1/services";
    public static final String ENDPOINT_SLICES = "/apis/discovery.k8s.io/v1/endpointslices";
    public static final String SECRETS = "/api/v1/secrets";
    /** Only TLS secrets are listed: the API server supports {@code type} as a secret field selector. */
    public static final Map<String, String> TLS_SECRETS_QUERY = Map.of("fieldSelector", "type=kubernetes.io/tls");

    private static final System.Logger LOG = System.getLogger(IngressController.class.getName());

    private final IngressConfig config;
    private final Informer ingresses;
    private final Informer classes;
    private final Informer services;
    private final Informer slices;
    private final Informer secrets;
    private final RouteCompiler compiler;
    private final Certificates certificates = new Certificates();
    private final ScheduledExecutorService rebuilder;
    private final AtomicBoolean rebuildScheduled = new AtomicBoolean();
    private volatile Routes routes = Routes.EMPTY;
    private volatile Map<String, SslContext> sni = Map.of();
    private volatile IngressProxy proxy;
    private volatile InetSocketAddress httpAddress;
    private volatile InetSocketAddress httpsAddress;
    private volatile boolean closed;

    /**
     * Registers handlers on the informers (which the caller starts, before or after {@link #start()}).
     *
     * @param tlsSecrets an informer of {@code kubernetes.io/tls} secrets, e.g. {@link #tlsSecrets}
     */
    public IngressController(IngressConfig config, Informer ingresses, Informer ingressClasses, Informer services,
            Informer endpointSlices, Informer tlsSecrets) {
        this.config = requireNonNull(config, "config");
        this.ingresses = requireNonNull(ingresses, "ingresses");
        this.classes = requireNonNull(ingressClasses, "ingressClasses");
        this.services = requireNonNull(services, "services");
        this.slices = requireNonNull(endpointSlices, "endpointSlices");
        this.secrets = requireNonNull(tlsSecrets, "tlsSecrets");
        this.compiler = new RouteCompiler(config.className(), config.controllerName());
        this.rebuilder = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "k3j-ingress-routes");
            t.setDaemon(true);
            return t;
        });
        Informer.Handler changed = Informer.Handler.of(obj -> scheduleRebuild(), obj -> scheduleRebuild());
        for (Informer i : List.of(ingresses, ingressClasses, services, endpointSlices, tlsSecrets)) i.addHandler(changed);
    }

    /** An informer of the cluster's TLS secrets, for {@code tlsSecrets}; {@code cacheDir} may be null. */
    public static Informer tlsSecrets(KubeClient client, Path cacheDir) {
        return new Informer(client, SECRETS, TLS_SECRETS_QUERY, cacheDir);
    }

    /**
     * Builds the routing table from what the informers hold and opens the listeners.
     *
     * @throws UncheckedIOException if a listener cannot bind (port taken, address missing)
     */
    public IngressController start() {
        if (proxy != null) throw new IllegalStateException("already started");
        rebuild();
        IngressProxy p = new IngressProxy(() -> routes, () -> sni, certificates.defaultContext(), config.threads(),
                (int) config.connectTimeout().toMillis());
        proxy = p;
        try {
            httpAddress = p.bindHttp(config.http());
            if (config.https() != null) httpsAddress = p.bindHttps(config.https());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.close();
            throw new IllegalStateException("interrupted binding the ingress listeners", e);
        } catch (RuntimeException e) {
            p.close();
            throw new UncheckedIOException(new IOException("binding the ingress listeners " + config.http() + ", "
                    + config.https() + ": " + e.getMessage(), e));
        }
        LOG.log(System.Logger.Level.INFO, "ingress controller listening on " + httpAddress
                + (httpsAddress != null ? " and " + httpsAddress + " (TLS)" : ""));
        return this;
    }

    /** The bound cleartext address (after {@link #start()}). */
    public InetSocketAddress httpAddress() {
        return httpAddress;
    }

    /** The bound TLS address, or null when there is none. */
    public InetSocketAddress httpsAddress() {
        return httpsAddress;
    }

    private void scheduleRebuild() {
        if (closed || !rebuildScheduled.compareAndSet(false, true)) return;
        try {
            rebuilder.schedule(() -> {
                rebuildScheduled.set(false);
                rebuild();
            }, config.debounce().toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private synchronized void rebuild() {
        try {
            RouteCompiler.Compiled c = compiler.compile(ingresses.list(), classes.list(), services.list(), slices.list());
            Map<String, ObjectNode> tls = new HashMap<>();
            for (ObjectNode s : secrets.list()) {
                tls.put(Json.text(s.path("metadata"), "namespace") + "/" + Json.text(s.path("metadata"), "name"), s);
            }
            Map<String, SslContext> contexts = certificates.contexts(c.tlsHosts(), tls);
            sni = contexts;
            routes = c.routes();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "rebuilding the ingress routes failed; keeping the previous ones", e);
        }
    }

    /** Closes the listeners and every connection; leaves the informers to their owner. */
    @Override
    public void close() {
        closed = true;
        rebuilder.shutdownNow();
        IngressProxy p = proxy;
        if (p != null) p.close();
    }
}
