package io.k3j.controllers.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import io.k3j.apiserver.registry.ListOptions;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerConfig;
import io.k3j.controllers.ControllerManager;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.runtime.ApiClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A real control plane (in-memory datastore, HTTPS on an ephemeral port, admin kubeconfig) with a chosen set of
 * controllers leader-elected as in {@code k3j server}. Tests create objects through {@link #api()} or kubectl
 * and watch the controllers act.
 */
public final class TestCluster implements AutoCloseable {
    private final Path dir;
    private final ControlPlane cp;
    private final ApiClient api;
    private final ControllerManager manager;
    private final Path kubeconfig;

    private TestCluster(Path dir, ControlPlane cp, ApiClient api, ControllerManager manager, Path kubeconfig) {
        this.dir = dir;
        this.cp = cp;
        this.api = api;
        this.manager = manager;
        this.kubeconfig = kubeconfig;
    }

    /** Starts a server running {@code controllers}; {@code tune} adjusts the controllers' configuration. */
    public static TestCluster start(List<ManagedController.Factory> controllers, UnaryOperator<ControllerConfig> tune) throws IOException {
        return start(controllers, tune, UnaryOperator.identity());
    }

    /**
     * As {@link #start(List, UnaryOperator)}, with {@code server} adjusting the API server's configuration (by default
     * on 127.0.0.1, an ephemeral port, memory://): e.g. nodes in network namespaces need another bind address and SAN.
     */
    public static TestCluster start(List<ManagedController.Factory> controllers, UnaryOperator<ControllerConfig> tune,
                                    UnaryOperator<ServerConfig> server) throws IOException {
        Path dir = Files.createTempDirectory("k3j-controllers-test");
        Path kubeconfig = dir.resolve("kubeconfig.yaml");
        ServerConfig d = ServerConfig.defaults(dir);
        ControlPlane cp = ControlPlane.start(server.apply(new ServerConfig(dir, "127.0.0.1", 0, "", List.of(), kubeconfig, "0600", null,
                "memory://", d.clusterCidr(), d.serviceCidr(), d.clusterDns(), d.clusterDomain(), "", List.of())));
        ApiClient api = new ApiClient(cp.objects(), cp.registry(), "test");
        ControllerConfig cfg = tune.apply(ControllerConfig.defaults("test-server").withManifestsDir(dir.resolve("server/manifests"))
                .withLocalPathDir(dir.resolve("storage")));
        ControllerManager m = new ControllerManager("kube-controller-manager", api, cfg, controllers).start();
        TestCluster c = new TestCluster(dir, cp, api, m, kubeconfig);
        c.await("the controllers to be elected", Duration.ofSeconds(20), m::isLeader);
        c.await("the controllers to start", Duration.ofSeconds(20), () -> m.controllers().size() == controllers.size());
        return c;
    }

    public static TestCluster start(List<ManagedController.Factory> controllers) throws IOException {
        return start(controllers, c -> c);
    }

    public ApiClient api() {
        return api;
    }

    public ControlPlane controlPlane() {
        return cp;
    }

    public ControllerManager manager() {
        return manager;
    }

    public Path dataDir() {
        return dir;
    }

    /** The admin kubeconfig, for tests that drive kubectl. */
    public Path kubeconfig() {
        return kubeconfig;
    }

    public ResourceType type(String group, String version, String plural) {
        return api.type(group, version, plural);
    }

    /** Creates an object from YAML or JSON; the resource is found from apiVersion and kind. */
    public ObjectNode create(String yaml) {
        ObjectNode obj = (ObjectNode) Json.parseYamlOrJson(yaml.getBytes(StandardCharsets.UTF_8));
        ResourceType t = typeOf(obj);
        return api.create(t, obj.path("metadata").path("namespace").asText(t.namespaced() ? "default" : ""), obj);
    }

    public ResourceType typeOf(JsonNode obj) {
        String apiVersion = obj.path("apiVersion").asText();
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        String kind = obj.path("kind").asText();
        return api.registry().all().stream().filter(t -> t.group().equals(group) && t.version().equals(version) && t.kind().equals(kind))
                .findFirst().orElseThrow(() -> new IllegalArgumentException("unknown kind " + kind + " " + apiVersion));
    }

    /** Current objects of a resource in a namespace (null: all namespaces), read consistently. */
    public List<ObjectNode> list(String group, String version, String plural, String namespace) {
        return cp.objects().list(type(group, version, plural), namespace, ListOptions.ALL).items();
    }

    public ObjectNode get(String group, String version, String plural, String namespace, String name) {
        return api.find(type(group, version, plural), namespace, name).orElse(null);
    }

    /** Waits until {@code condition} holds, failing with {@code what} after {@code timeout}. */
    public void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    @Override
    public void close() {
        manager.close();
        cp.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }
}
