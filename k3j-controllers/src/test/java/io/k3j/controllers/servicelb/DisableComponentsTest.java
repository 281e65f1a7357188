package io.k3j.controllers.servicelb;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import io.k3j.controllers.Controllers;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.runtime.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code --disable} as {@code k3j server} wires it: {@link Controllers#start(ControlPlane, Set)} on a real control plane. */
class DisableComponentsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    @DisplayName("Controllers.start stages coredns.yaml and traefik.yaml (kube-dns on --cluster-dns); --disable coredns,servicelb and later --disable ingress remove the files, their objects, and the controllers")
    void disableFlowsFromServerStart() throws Exception {
        Path dir = Files.createTempDirectory("k3j-disable-test");
        ServerConfig d = ServerConfig.defaults(dir);
        ControlPlane cp = ControlPlane.start(new ServerConfig(dir, "127.0.0.1", 0, "", List.of(), dir.resolve("kubeconfig.yaml"), "0600", null,
                "memory://", d.clusterCidr(), d.serviceCidr(), "10.43.0.53", d.clusterDomain(), "", List.of()));
        ApiClient api = new ApiClient(cp.objects(), cp.registry(), "test");
        var services = api.type("", "v1", "services");
        var classes = api.type("networking.k8s.io", "v1", "ingressclasses");
        Path manifests = dir.resolve("server/manifests");
        Controllers controllers = null;
        try {
            controllers = Controllers.start(cp, Set.of());
            assertThat(Files.readString(manifests.resolve("coredns.yaml"))).contains("clusterIP: 10.43.0.53");
            assertThat(manifests.resolve("traefik.yaml")).exists();
            await("kube-dns, k3j-ingress and IngressClass k3j", () -> api.find(services, "kube-system", "kube-dns").isPresent()
                    && api.find(services, "kube-system", "k3j-ingress").isPresent() && api.find(classes, "", "k3j").isPresent());
            assertThat(api.find(services, "kube-system", "kube-dns").orElseThrow().at("/spec/clusterIP").asText()).isEqualTo("10.43.0.53");
            String nodePorts = api.find(services, "kube-system", "k3j-ingress").orElseThrow().at("/spec/ports").findValuesAsText("nodePort").toString();
            assertThat(nodePorts).matches("\\[3\\d{4}, 3\\d{4}\\]");
            Controllers first = controllers;
            await("all controllers to run", () -> running(first, ServiceLbController.class) && running(first, IngressStatusController.class));
            controllers.close();

            // a restart with --disable coredns,servicelb
            controllers = Controllers.start(cp, Set.of("coredns", "servicelb"));
            assertThat(manifests.resolve("coredns.yaml")).doesNotExist();
            assertThat(manifests.resolve("traefik.yaml")).exists();
            await("kube-dns and its record to be deleted", () -> api.find(services, "kube-system", "kube-dns").isEmpty()
                    && api.find(api.type("", "v1", "configmaps"), "kube-system", "k3j-addon-coredns").isEmpty());
            Controllers second = controllers;
            await("the controllers to start", () -> running(second, IngressStatusController.class));
            assertThat(running(second, ServiceLbController.class)).isFalse();
            // the restarted deployer applied traefik.yaml again (a second AppliedManifest); the node ports stayed
            var events = api.type("", "v1", "events");
            await("traefik.yaml to be applied again", () -> cp.objects().list(events, "kube-system", io.k3j.apiserver.registry.ListOptions.ALL).items()
                    .stream().filter(e -> e.at("/involvedObject/name").asText().equals("k3j-addon-traefik")
                            && e.path("reason").asText().equals("AppliedManifest")).mapToInt(e -> e.path("count").asInt()).sum() >= 2);
            assertThat(api.find(services, "kube-system", "k3j-ingress").orElseThrow().at("/spec/ports").findValuesAsText("nodePort").toString())
                    .isEqualTo(nodePorts);
            controllers.close();

            // and with --disable ingress (k3s's traefik under its generic name)
            controllers = Controllers.start(cp, Set.of("ingress"));
            assertThat(manifests.resolve("traefik.yaml")).doesNotExist();
            assertThat(manifests.resolve("coredns.yaml")).exists();
            await("k3j-ingress and the IngressClass to go, kube-dns to come back", () -> api.find(services, "kube-system", "k3j-ingress").isEmpty()
                    && api.find(classes, "", "k3j").isEmpty() && api.find(services, "kube-system", "kube-dns").isPresent());
            Controllers third = controllers;
            await("the controllers to start", () -> running(third, ServiceLbController.class));
            assertThat(running(third, IngressStatusController.class)).isFalse();
        } finally {
            if (controllers != null) controllers.close();
            cp.close();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    @DisplayName("staging rewrites a changed file, leaves an unchanged one alone, and accepts traefik or ingress")
    void staging() throws Exception {
        Path dir = Files.createTempDirectory("k3j-stage-test");
        try {
            PackagedManifests.stage(dir, "10.43.0.10", Set.of());
            Path dns = dir.resolve("coredns.yaml");
            Files.writeString(dns, "edited by hand");
            Files.writeString(dir.resolve("coredns.yaml.skip"), "");
            Files.setLastModifiedTime(dir.resolve("traefik.yaml"), java.nio.file.attribute.FileTime.fromMillis(1000));
            PackagedManifests.stage(dir, "10.43.0.10", Set.of());
            assertThat(Files.readString(dns)).contains("clusterIP: 10.43.0.10").contains("k3j.io/node-local: \"true\"");
            assertThat(dir.resolve("coredns.yaml.skip")).exists(); // the user's switch stays
            assertThat(Files.getLastModifiedTime(dir.resolve("traefik.yaml")).toMillis()).isEqualTo(1000);
            PackagedManifests.stage(dir, "10.43.0.10", Set.of("traefik"));
            assertThat(dir.resolve("traefik.yaml")).doesNotExist();
            assertThat(PackagedManifests.disabled(Set.of("ingress"), PackagedManifests.TRAEFIK)).isTrue();
            assertThat(PackagedManifests.disabled(Set.of("ingress"), PackagedManifests.COREDNS)).isFalse();
            try (Stream<Path> s = Files.list(dir)) {
                assertThat(s.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("coredns.yaml", "coredns.yaml.skip");
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static boolean running(Controllers c, Class<? extends ManagedController> type) {
        return c.controllerManager().controllers().stream().anyMatch(type::isInstance);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + WAIT + " waiting for " + what);
            Thread.sleep(50);
        }
    }
}
