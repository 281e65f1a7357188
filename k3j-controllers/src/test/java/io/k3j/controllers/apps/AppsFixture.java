package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.runtime.InformerFactory;
import io.k3j.controllers.runtime.SharedInformer;
import io.k3j.controllers.testing.FakeKubelet;
import io.k3j.controllers.testing.FakeNodes;
import io.k3j.controllers.testing.TestCluster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A cluster with fake nodes, their fake kubelet and the test binder, plus a recording of the pod watch stream. */
final class AppsFixture implements AutoCloseable {
    final TestCluster cluster;
    final FakeNodes nodes;
    final FakeKubelet kubelet;
    final PinnedPodBinder binder;
    private final InformerFactory watch;
    /** Pod watch events as {@code ADDED web-0}, {@code READY web-0}, {@code DELETING web-2}, {@code DELETED web-2}. */
    final List<String> podEvents = new CopyOnWriteArrayList<>();
    private final List<Consumer<SharedInformer>> afterEvent = new CopyOnWriteArrayList<>();
    private final SharedInformer pods;

    AppsFixture(ManagedController.Factory controller) throws Exception {
        this(List.of(controller), true);
    }

    /** {@code testBinder} false: pods wait for a scheduler among {@code controllers}. */
    AppsFixture(List<ManagedController.Factory> controllers, boolean testBinder) throws Exception {
        cluster = TestCluster.start(controllers);
        nodes = new FakeNodes(cluster.api());
        kubelet = new FakeKubelet(cluster.api());
        binder = testBinder ? new PinnedPodBinder(cluster.api()) : null;
        watch = new InformerFactory(cluster.api().objects().cache(), Duration.ZERO);
        pods = watch.informer(cluster.type("", "v1", "pods"));
        pods.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                podEvents.add("ADDED " + Meta.name(obj));
                after();
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                if (!io.k3j.controllers.common.Pods.ready(oldObj) && io.k3j.controllers.common.Pods.ready(newObj)) {
                    podEvents.add("READY " + Meta.name(newObj));
                }
                if (!Meta.deleting(oldObj) && Meta.deleting(newObj)) podEvents.add("DELETING " + Meta.name(newObj));
                after();
            }

            @Override
            public void onDelete(ObjectNode obj) {
                podEvents.add("DELETED " + Meta.name(obj));
                after();
            }
        });
        watch.start();
        watch.waitForSync(Duration.ofSeconds(10));
    }

    private void after() {
        for (Consumer<SharedInformer> c : afterEvent) c.accept(pods);
    }

    /** Runs {@code check} on the pod informer after every pod event (on the informer thread). */
    void onEveryPodEvent(Consumer<SharedInformer> check) {
        afterEvent.add(check);
    }

    void addNode(String name) {
        addNode(name, java.util.Map.of());
    }

    void addNode(String name, java.util.Map<String, String> labels) {
        kubelet.manage(name);
        nodes.add(name, "4", "8Gi", labels);
    }

    List<ObjectNode> pods(String labelKey, String labelValue) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode p : cluster.list("", "v1", "pods", "default")) {
            if (p.path("metadata").path("labels").path(labelKey).asText("").equals(labelValue)) out.add(p);
        }
        return out;
    }

    ObjectNode pod(String name) {
        return cluster.get("", "v1", "pods", "default", name);
    }

    static boolean running(JsonNode pod) {
        return pod != null && Json.text(pod.get("status"), "phase").equals("Running") && !Meta.deleting(pod);
    }

    void await(String what, BooleanSupplierEx condition) {
        try {
            cluster.await(what, Duration.ofSeconds(30), () -> {
                try {
                    return condition.get();
                } catch (RuntimeException e) {
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + dump(), e);
        }
    }

    /** What the cluster looked like, for failure messages. */
    String dump() {
        StringBuilder sb = new StringBuilder();
        for (ObjectNode p : cluster.list("", "v1", "pods", "default")) {
            sb.append("pod ").append(Meta.name(p)).append(" node=").append(Json.text(p.get("spec"), "nodeName"))
                    .append(" phase=").append(Json.text(p.get("status"), "phase")).append(" deleting=").append(Meta.deleting(p))
                    .append(" labels=").append(p.path("metadata").path("labels")).append('\n');
        }
        for (String plural : List.of("daemonsets", "statefulsets")) {
            for (ObjectNode o : cluster.list("apps", "v1", plural, "default")) {
                sb.append(plural).append(' ').append(Meta.name(o)).append(" gen=").append(o.path("metadata").path("generation"))
                        .append(" status=").append(o.path("status")).append('\n');
            }
        }
        for (ObjectNode n : cluster.list("", "v1", "nodes", null)) sb.append("node ").append(Meta.name(n)).append(' ').append(n.path("spec")).append('\n');
        sb.append("events: ").append(podEvents);
        return sb.toString();
    }

    @FunctionalInterface
    interface BooleanSupplierEx {
        boolean get();
    }

    /** Runs the real kubectl against the cluster; returns exit code and combined output. */
    record Result(int exit, String output) {
    }

    Result kubectl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("/usr/bin/kubectl");
        cmd.add("--kubeconfig");
        cmd.add(cluster.kubeconfig().toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
            } catch (IOException e) {
                // process ended
            }
        });
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        reader.join(5000);
        return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        watch.close();
        if (binder != null) binder.close();
        kubelet.close();
        nodes.close();
        cluster.close();
    }
}
