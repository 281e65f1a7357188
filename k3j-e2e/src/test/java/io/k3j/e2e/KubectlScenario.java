package io.k3j.e2e;

import static io.k3j.e2e.Table.ANY;
import static io.k3j.e2e.Table.assertHasRow;
import static io.k3j.e2e.Table.assertHeader;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The kubectl scenario, step by step, against one real k3j server per kubectl version (the subclasses).
 * Expected outputs are what kubectl prints against a kube-apiserver with no controller-manager and no nodes:
 * Deployments stay at 0 ready and no Pods appear. Steps run in order and build on each other, as a user at a
 * terminal would; each step names what it checks so a failure points at one command.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class KubectlScenario {
    private static final ObjectMapper JSON = new ObjectMapper();

    private K3jServer server;
    private Kubectl kubectl;
    private Path work;

    /** The kubectl binary this run drives. */
    abstract Path binary();

    /** Its minor version (some outputs changed between 1.27 and 1.33). */
    abstract int minor();

    @BeforeAll
    void startServer() throws IOException {
        assertThat(binary()).as("kubectl binary").isExecutable();
        server = K3jServer.start();
        work = server.workDir().resolve("work");
        Files.createDirectories(work);
        kubectl = new Kubectl(binary(), server.kubeconfig(), server.workDir().resolve("home"));
        for (String name : List.of("app.yaml", "app-changed.yaml")) {
            try (InputStream in = KubectlScenario.class.getResourceAsStream("/scenario/" + name)) {
                Files.copy(in, work.resolve(name));
            }
        }
    }

    @AfterAll
    void stopServer() {
        if (server != null) server.close();
    }

    // ---- discovery and information -----------------------------------------------------------------------

    @Test
    @Order(10)
    @DisplayName("cluster-info names the control plane URL")
    void clusterInfo() {
        Kubectl.Result r = ok("cluster-info");
        assertThat(r.lines()).first().isEqualTo("Kubernetes control plane is running at https://127.0.0.1:" + server.port());
        assertThat(r.out()).contains("To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.");
    }

    @Test
    @Order(20)
    @DisplayName("version reports a 1.32 server")
    void version() throws IOException {
        Kubectl.Result r = kubectl.run("version", "-o", "json");
        assertThat(r.exitCode()).as("%s", r).isZero();
        JsonNode v = JSON.readTree(r.out());
        assertThat(v.at("/clientVersion/minor").asText()).startsWith(String.valueOf(minor()));
        JsonNode server = v.get("serverVersion");
        assertThat(server.get("major").asText()).isEqualTo("1");
        assertThat(server.get("minor").asText()).isEqualTo("32");
        assertThat(server.get("gitVersion").asText()).startsWith("v1.32.");
        assertThat(server.get("platform").asText()).isEqualTo("linux/amd64");
        if (minor() < 31) {
            assertThat(r.err()).contains("WARNING: version difference between client (1." + minor()
                    + ") and server (1.32) exceeds the supported minor version skew of +/-1");
        } else {
            assertThat(r.err()).doesNotContain("version difference");
        }
    }

    @Test
    @Order(30)
    @DisplayName("api-resources lists built-in resources with short names, versions and scope")
    void apiResources() {
        Kubectl.Result r = ok("api-resources");
        assertHeader(r.out(), "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND");
        assertHasRow(r.out(), "configmaps", "cm", "v1", "true", "ConfigMap");
        assertHasRow(r.out(), "namespaces", "ns", "v1", "false", "Namespace");
        assertHasRow(r.out(), "secrets", "v1", "true", "Secret");
        assertHasRow(r.out(), "services", "svc", "v1", "true", "Service");
        assertHasRow(r.out(), "deployments", "deploy", "apps/v1", "true", "Deployment");
        assertHasRow(r.out(), "customresourcedefinitions", "crd,crds", "apiextensions.k8s.io/v1", "false", "CustomResourceDefinition");

        assertThat(ok("api-resources", "--api-group=apps", "-o", "name").lines())
                .containsExactly("controllerrevisions.apps", "daemonsets.apps", "deployments.apps", "replicasets.apps", "statefulsets.apps");
        assertThat(ok("api-resources", "--namespaced=false", "-o", "name").lines())
                .contains("namespaces", "customresourcedefinitions.apiextensions.k8s.io")
                .doesNotContain("pods", "configmaps", "deployments.apps");
    }

    @Test
    @Order(40)
    @DisplayName("api-versions lists the served group versions, sorted")
    void apiVersions() {
        List<String> versions = ok("api-versions").lines();
        assertThat(versions).contains("v1", "apps/v1", "batch/v1", "apiextensions.k8s.io/v1", "rbac.authorization.k8s.io/v1",
                "authorization.k8s.io/v1", "coordination.k8s.io/v1", "networking.k8s.io/v1");
        assertThat(versions).isSorted();
    }

    @Test
    @Order(50)
    @DisplayName("explain deployment.spec.replicas shows the field's type and description")
    void explain() {
        Kubectl.Result r = ok("explain", "deployment.spec.replicas");
        String flat = r.out().replaceAll("\\s+", " ");
        assertThat(flat).contains("GROUP: apps KIND: Deployment VERSION: v1");
        assertThat(flat).contains("FIELD: replicas <integer>");
        assertThat(flat).contains("DESCRIPTION: Number of desired pods. This is a pointer to distinguish between explicit zero and not"
                + " specified. Defaults to 1.");
    }

    // ---- imperative creation -----------------------------------------------------------------------------

    @Test
    @Order(60)
    @DisplayName("create namespace, configmap and generic secret")
    void createImperative() throws IOException {
        assertThat(ok("create", "namespace", "e2e").out()).isEqualTo("namespace/e2e created\n");
        assertThat(ok("create", "configmap", "app-settings", "-n", "e2e", "--from-literal=mode=fast", "--from-literal=level=3").out())
                .isEqualTo("configmap/app-settings created\n");
        assertThat(ok("create", "secret", "generic", "db-pass", "-n", "e2e", "--from-literal=password=s3cr3t").out())
                .isEqualTo("secret/db-pass created\n");

        JsonNode cm = json("get", "configmap", "app-settings", "-n", "e2e", "-o", "json");
        assertThat(cm.get("data")).isEqualTo(JSON.readTree("{\"level\":\"3\",\"mode\":\"fast\"}"));
        JsonNode secret = json("get", "secret", "db-pass", "-n", "e2e", "-o", "json");
        assertThat(secret.get("type").asText()).isEqualTo("Opaque");
        assertThat(secret.at("/data/password").asText()).isEqualTo(Base64.getEncoder().encodeToString("s3cr3t".getBytes(StandardCharsets.UTF_8)));

        Kubectl.Result again = kubectl.run("create", "namespace", "e2e");
        assertThat(again.exitCode()).as("%s", again).isEqualTo(1);
        assertThat(again.err()).contains("Error from server (AlreadyExists): namespaces \"e2e\" already exists");

        Kubectl.Result table = ok("get", "configmap,secret", "-n", "e2e");
        assertHasRow(table.out(), "configmap/app-settings", "2", ANY);
        assertHasRow(table.out(), "secret/db-pass", "Opaque", "1", ANY);
    }

    // ---- declarative management --------------------------------------------------------------------------

    @Test
    @Order(70)
    @DisplayName("apply -f of a multi-document manifest: CR waits for its CRD, then everything is created")
    void applyManifest() {
        String file = work.resolve("app.yaml").toString();
        // As against any Kubernetes: kubectl maps every document before sending any, so the custom resource
        // of a CRD created in the same run is rejected the first time and the rest is created.
        Kubectl.Result first = kubectl.run("apply", "-f", file);
        assertThat(first.exitCode()).as("%s", first).isEqualTo(1);
        assertThat(first.lines()).containsExactly(
                "namespace/shop created",
                "configmap/shop-config created",
                "deployment.apps/web created",
                "service/web created",
                "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created");
        assertThat(first.err()).contains("resource mapping not found for name: \"gizmo\" namespace: \"shop\" from \"" + file
                + "\": no matches for kind \"Widget\" in version \"example.com/v1\"", "ensure CRDs are installed first");

        assertThat(ok("wait", "--for=condition=established", "crd/widgets.example.com", "--timeout=20s").out())
                .isEqualTo("customresourcedefinition.apiextensions.k8s.io/widgets.example.com condition met\n");

        Kubectl.Result second = ok("apply", "-f", file);
        assertThat(second.lines()).containsExactly(
                "namespace/shop unchanged",
                "configmap/shop-config unchanged",
                "deployment.apps/web unchanged",
                "service/web unchanged",
                "customresourcedefinition.apiextensions.k8s.io/widgets.example.com unchanged",
                "widget.example.com/gizmo created");
    }

    @Test
    @Order(80)
    @DisplayName("apply again with changes configures only what changed")
    void applyChange() {
        Kubectl.Result r = ok("apply", "-f", work.resolve("app-changed.yaml").toString());
        assertThat(r.lines()).containsExactly(
                "namespace/shop unchanged",
                "configmap/shop-config configured",
                "deployment.apps/web configured",
                "service/web unchanged",
                "customresourcedefinition.apiextensions.k8s.io/widgets.example.com unchanged",
                "widget.example.com/gizmo configured");
        assertThat(ok("get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.spec.replicas} {.metadata.generation}").out())
                .isEqualTo("3 2");
        assertThat(ok("get", "configmap", "shop-config", "-n", "shop", "-o", "jsonpath={.data.color}").out()).isEqualTo("green");
        assertThat(ok("get", "widgets", "gizmo", "-n", "shop", "-o", "jsonpath={.spec.size}").out()).isEqualTo("5");
    }

    @Test
    @Order(90)
    @DisplayName("diff shows the server-side dry-run result and changes nothing")
    void diff() throws IOException {
        Kubectl.Result same = kubectl.run("diff", "-f", work.resolve("app-changed.yaml").toString());
        assertThat(same.exitCode()).as("%s", same).isZero();
        assertThat(same.out()).isEmpty();

        Path file = work.resolve("diff.yaml");
        Files.writeString(file, """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                  namespace: shop
                  labels:
                    app: web
                    app.kubernetes.io/part-of: shop
                spec:
                  replicas: 4
                  selector:
                    matchLabels:
                      app: web
                  template:
                    metadata:
                      labels:
                        app: web
                    spec:
                      containers:
                      - name: nginx
                        image: nginx:1.27
                        ports:
                        - containerPort: 80
                """);
        Kubectl.Result changed = kubectl.run("diff", "-f", file.toString());
        assertThat(changed.exitCode()).as("%s", changed).isEqualTo(1);
        assertThat(changed.out()).contains("apps.v1.Deployment.shop.web");
        assertThat(changed.lines()).contains("-  generation: 2", "+  generation: 3", "-  replicas: 3", "+  replicas: 4");
        assertThat(ok("get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.spec.replicas} {.metadata.generation}").out())
                .isEqualTo("3 2");
    }

    @Test
    @Order(100)
    @DisplayName("apply --server-side: owned by kubectl, conflicts for another manager, --force-conflicts takes over")
    void serverSideApply() throws IOException {
        Path file = work.resolve("ssa.yaml");
        Files.writeString(file, """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: ssa-config
                  namespace: shop
                data:
                  mode: server-side
                """);
        assertThat(ok("apply", "--server-side", "-f", file.toString()).out()).isEqualTo("configmap/ssa-config serverside-applied\n");
        assertThat(ok("apply", "--server-side", "-f", file.toString()).out()).isEqualTo("configmap/ssa-config serverside-applied\n");
        JsonNode cm = json("get", "configmap", "ssa-config", "-n", "shop", "-o", "json", "--show-managed-fields");
        JsonNode mf = cm.at("/metadata/managedFields");
        assertThat(mf).hasSize(1);
        assertThat(mf.get(0).get("manager").asText()).isEqualTo("kubectl");
        assertThat(mf.get(0).get("operation").asText()).isEqualTo("Apply");
        assertThat(mf.get(0).get("fieldsV1")).isEqualTo(JSON.readTree("{\"f:data\":{\"f:mode\":{}}}"));

        Files.writeString(file, Files.readString(file).replace("mode: server-side", "mode: other"));
        Kubectl.Result conflict = kubectl.run("apply", "--server-side", "--field-manager=other", "-f", file.toString());
        assertThat(conflict.exitCode()).as("%s", conflict).isEqualTo(1);
        assertThat(conflict.err()).contains("Apply failed with 1 conflict: conflict with \"kubectl\": .data.mode");

        assertThat(ok("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", file.toString()).out())
                .isEqualTo("configmap/ssa-config serverside-applied\n");
        cm = json("get", "configmap", "ssa-config", "-n", "shop", "-o", "json", "--show-managed-fields");
        assertThat(cm.at("/data/mode").asText()).isEqualTo("other");
        assertThat(cm.at("/metadata/managedFields").findValuesAsText("manager")).containsExactly("other");
    }

    @Test
    @Order(105)
    @DisplayName("apply --server-side of the whole manifest that client-side apply created: no conflicts, nothing changes")
    void serverSideApplyAfterClientSide() {
        Kubectl.Result r = ok("apply", "--server-side", "-f", work.resolve("app-changed.yaml").toString());
        assertThat(r.lines()).containsExactly(
                "namespace/shop serverside-applied",
                "configmap/shop-config serverside-applied",
                "deployment.apps/web serverside-applied",
                "service/web serverside-applied",
                "customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied",
                "widget.example.com/gizmo serverside-applied");
        // the service's port item {port: 80} is the live {port: 80, protocol: TCP}: list-map keys take their defaults
        assertThat(ok("get", "service", "web", "-n", "shop", "-o", "jsonpath={.spec.ports[*].port}/{.spec.ports[*].protocol}").out())
                .isEqualTo("80/TCP");
        assertThat(ok("get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.spec.replicas} {.metadata.generation}").out())
                .isEqualTo("3 2");
    }

    // ---- reading -----------------------------------------------------------------------------------------

    @Test
    @Order(110)
    @DisplayName("get -o wide: a deployment without a controller has 0 ready, updated and available")
    void getWide() {
        Kubectl.Result deploy = ok("get", "deployment", "web", "-n", "shop", "-o", "wide");
        assertHeader(deploy.out(), "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR");
        assertHasRow(deploy.out(), "web", "0/3", "0", "0", ANY, "nginx", "nginx:1.27", "app=web");

        Kubectl.Result svc = ok("get", "service", "web", "-n", "shop", "-o", "wide");
        assertHeader(svc.out(), "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR");
        assertHasRow(svc.out(), "web", "ClusterIP", ANY, "<none>", "80/TCP", ANY, "app=web");
        String ip = Table.rows(svc.out()).get(1).get(2);
        assertThat(ip).matches("10\\.43\\.\\d+\\.\\d+");

        // a CRD with additionalPrinterColumns gets exactly those after NAME (AGE only when it declares none)
        Kubectl.Result widgets = ok("get", "widgets", "-n", "shop");
        assertThat(Table.rows(widgets.out())).containsExactly(List.of("NAME", "SIZE"), List.of("gizmo", "5"));
    }

    @Test
    @Order(120)
    @DisplayName("get -o json and -o yaml show the defaulted object and an empty status")
    void getJsonAndYaml() {
        JsonNode d = json("get", "deployment", "web", "-n", "shop", "-o", "json");
        assertThat(d.get("apiVersion").asText()).isEqualTo("apps/v1");
        assertThat(d.get("kind").asText()).isEqualTo("Deployment");
        assertThat(d.at("/spec/replicas").asInt()).isEqualTo(3);
        assertThat(d.at("/spec/strategy/type").asText()).isEqualTo("RollingUpdate");
        assertThat(d.at("/spec/strategy/rollingUpdate/maxSurge").asText()).isEqualTo("25%");
        assertThat(d.at("/spec/revisionHistoryLimit").asInt()).isEqualTo(10);
        assertThat(d.at("/spec/progressDeadlineSeconds").asInt()).isEqualTo(600);
        assertThat(d.at("/spec/template/spec/containers/0/imagePullPolicy").asText()).isEqualTo("IfNotPresent");
        assertThat(d.at("/spec/template/spec/containers/0/ports/0/protocol").asText()).isEqualTo("TCP");
        assertThat(d.at("/spec/template/spec/restartPolicy").asText()).isEqualTo("Always");
        assertThat(d.at("/metadata/uid").asText()).matches("[0-9a-f-]{36}");
        assertThat(d.has("status")).as("status of %s", d).isTrue();
        assertThat(d.get("status").isEmpty()).as("status of a deployment no controller has seen").isTrue();

        String yaml = ok("get", "deployment", "web", "-n", "shop", "-o", "yaml").out();
        assertThat(yaml).startsWith("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n");
        assertThat(yaml).contains("\n  replicas: 3\n", "\n  name: web\n", "\n  namespace: shop\n", "\nstatus: {}\n");
        assertThat(yaml).doesNotContain("managedFields");
    }

    @Test
    @Order(130)
    @DisplayName("get -o jsonpath, custom-columns and name")
    void getJsonPathColumnsName() {
        assertThat(ok("get", "deployments", "-n", "shop", "-o", "jsonpath={.items[*].metadata.name}").out()).isEqualTo("web");
        assertThat(ok("get", "deployment", "web", "-n", "shop", "-o",
                "jsonpath={range .spec.template.spec.containers[*]}{.name}={.image}{\"\\n\"}{end}").out())
                .isEqualTo("nginx=nginx:1.27\n");

        Kubectl.Result cols = ok("get", "deployment,service", "-n", "shop", "-o",
                "custom-columns=NAME:.metadata.name,KIND:.kind,REPLICAS:.spec.replicas");
        assertThat(Table.rows(cols.out())).containsExactly(
                List.of("NAME", "KIND", "REPLICAS"),
                List.of("web", "Deployment", "3"),
                List.of("web", "Service", "<none>"));

        assertThat(ok("get", "all", "-n", "shop", "-o", "name").lines()).containsExactly("service/web", "deployment.apps/web");
        assertThat(ok("get", "widgets,configmaps", "-n", "shop", "-o", "name", "--field-selector", "metadata.name!=kube-root-ca.crt").lines())
                .containsExactly("widget.example.com/gizmo", "configmap/shop-config", "configmap/ssa-config");
    }

    @Test
    @Order(140)
    @DisplayName("get -l and --field-selector filter on the server")
    void getSelectors() {
        assertThat(ok("get", "configmaps,deployments,services", "-n", "shop", "-l", "app.kubernetes.io/part-of=shop", "-o", "name").lines())
                .containsExactly("configmap/shop-config", "deployment.apps/web", "service/web");
        assertThat(ok("get", "deployments,services", "-n", "shop", "-l", "app.kubernetes.io/part-of in (shop,other),app", "-o", "name").lines())
                .containsExactly("deployment.apps/web");
        Kubectl.Result none = ok("get", "configmaps", "-n", "shop", "-l", "app.kubernetes.io/part-of=nothing");
        assertThat(none.out()).isEmpty();
        assertThat(none.err()).contains("No resources found in shop namespace.");

        assertThat(ok("get", "configmaps", "-n", "shop", "--field-selector", "metadata.name=shop-config", "-o", "name").lines())
                .containsExactly("configmap/shop-config");
        assertThat(ok("get", "namespaces", "--field-selector", "metadata.name=shop,status.phase=Active", "-o", "name").lines())
                .containsExactly("namespace/shop");

        Kubectl.Result bad = kubectl.run("get", "configmaps", "-n", "shop", "--field-selector", "data.color=blue");
        assertThat(bad.exitCode()).as("%s", bad).isEqualTo(1);
        assertThat(bad.err()).contains("Error from server (BadRequest): Unable to find \"/v1, Resource=configmaps\" that match label"
                + " selector \"\", field selector \"data.color=blue\": \"data.color\" is not a known field selector: only"
                + " \"metadata.name\", \"metadata.namespace\"");
    }

    @Test
    @Order(150)
    @DisplayName("get -A adds the NAMESPACE column and spans namespaces")
    void getAllNamespaces() {
        Kubectl.Result deploys = ok("get", "deployments", "-A");
        assertHeader(deploys.out(), "NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE");
        assertThat(Table.rows(deploys.out())).hasSize(2);
        assertHasRow(deploys.out(), "shop", "web", "0/3", "0", "0", ANY);

        Kubectl.Result cms = ok("get", "configmaps", "-A", "--field-selector", "metadata.name!=kube-root-ca.crt");
        assertHeader(cms.out(), "NAMESPACE", "NAME", "DATA", "AGE");
        assertHasRow(cms.out(), "e2e", "app-settings", "2", ANY);
        assertHasRow(cms.out(), "shop", "shop-config", "1", ANY);

        Kubectl.Result ns = ok("get", "namespaces");
        for (String name : List.of("default", "kube-system", "kube-public", "kube-node-lease", "e2e", "shop")) {
            assertHasRow(ns.out(), name, "Active", ANY);
        }
        // kube-apiserver itself (no controller) keeps the "kubernetes" service in default
        assertHasRow(ok("get", "services", "-A").out(), "default", "kubernetes", "ClusterIP", "10.43.0.1", "<none>", "443/TCP", ANY);
    }

    @Test
    @Order(160)
    @DisplayName("get -w --output-watch-events sees ADDED, MODIFIED and DELETED")
    void watch() throws Exception {
        // One object exists before the watch starts (kubectl shows it as ADDED from its initial list, and that line
        // tells us the watch is running); the second one is created, changed and deleted while kubectl watches.
        ok("create", "configmap", "watched-1", "-n", "e2e", "--from-literal=k=v");
        ok("label", "configmap", "watched-1", "-n", "e2e", "watch=me");
        Process watch = kubectl.start(Map.of(), "get", "configmaps", "-n", "e2e", "-w", "--output-watch-events", "-l", "watch=me");
        try {
            Lines out = Lines.of(watch.getInputStream());
            Lines err = Lines.of(watch.getErrorStream());
            assertThat(out.await(l -> l.contains("watched-1"), Duration.ofSeconds(30)))
                    .as("the initial list; stdout %s stderr %s", out.all(), err.all()).isTrue();
            ok("create", "configmap", "watched-2", "-n", "e2e", "--from-literal=a=1", "--from-literal=b=2");
            ok("label", "configmap", "watched-2", "-n", "e2e", "watch=me");
            ok("annotate", "configmap", "watched-2", "-n", "e2e", "seen=yes");
            ok("delete", "configmap", "watched-2", "-n", "e2e");
            assertThat(out.await(l -> l.startsWith("DELETED"), Duration.ofSeconds(30)))
                    .as("watch output %s stderr %s", out.all(), err.all()).isTrue();
            List<List<String>> rows = Table.rows(String.join("\n", out.all()));
            assertThat(rows).as("%s", out.all()).hasSize(5);
            assertThat(rows.get(0)).containsExactly("EVENT", "NAME", "DATA", "AGE");
            // the label makes watched-2 match the selector: to a watcher that is when it is ADDED
            assertThat(Table.matches(rows.get(1), "ADDED", "watched-1", "1", ANY)).as("%s", rows).isTrue();
            assertThat(Table.matches(rows.get(2), "ADDED", "watched-2", "2", ANY)).as("%s", rows).isTrue();
            assertThat(Table.matches(rows.get(3), "MODIFIED", "watched-2", "2", ANY)).as("%s", rows).isTrue();
            assertThat(Table.matches(rows.get(4), "DELETED", "watched-2", "2", ANY)).as("%s", rows).isTrue();
        } finally {
            watch.destroy();
            watch.waitFor(5, TimeUnit.SECONDS);
        }
    }

    // ---- changing --------------------------------------------------------------------------------------

    @Test
    @Order(170)
    @DisplayName("label: add, refuse to overwrite, overwrite, remove")
    void label() {
        assertThat(ok("label", "deployment", "web", "-n", "shop", "tier=frontend").out()).isEqualTo("deployment.apps/web labeled\n");
        Kubectl.Result refused = kubectl.run("label", "deployment", "web", "-n", "shop", "tier=backend");
        assertThat(refused.exitCode()).as("%s", refused).isEqualTo(1);
        assertThat(refused.err()).contains("error: 'tier' already has a value (frontend), and --overwrite is false");
        assertThat(ok("label", "deployment", "web", "-n", "shop", "--overwrite", "tier=backend").out()).isEqualTo("deployment.apps/web labeled\n");
        assertThat(ok("get", "deployment", "-n", "shop", "-l", "tier=backend", "-o", "name").out()).isEqualTo("deployment.apps/web\n");
        assertThat(ok("label", "deployment", "web", "-n", "shop", "tier-").out()).isEqualTo("deployment.apps/web unlabeled\n");
        assertThat(ok("get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.metadata.labels}").out())
                .isEqualTo("{\"app\":\"web\",\"app.kubernetes.io/part-of\":\"shop\"}");
    }

    @Test
    @Order(180)
    @DisplayName("annotate: add, refuse to overwrite, overwrite")
    void annotate() {
        // kubectl 1.27 itself prints "annotate" (its operation word, not something the server sends)
        String annotated = minor() == 27 ? "deployment.apps/web annotate\n" : "deployment.apps/web annotated\n";
        assertThat(ok("annotate", "deployment", "web", "-n", "shop", "owner=team-a").out()).isEqualTo(annotated);
        Kubectl.Result refused = kubectl.run("annotate", "deployment", "web", "-n", "shop", "owner=team-b");
        assertThat(refused.exitCode()).as("%s", refused).isEqualTo(1);
        assertThat(refused.err()).contains("--overwrite is false but found the following declared annotation(s): 'owner' already has a value (team-a)");
        assertThat(ok("annotate", "deployment", "web", "-n", "shop", "--overwrite", "owner=team-b").out()).isEqualTo(annotated);
        assertThat(ok("get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.metadata.annotations.owner}").out()).isEqualTo("team-b");
    }

    @Test
    @Order(190)
    @DisplayName("patch --type json, merge and strategic")
    void patch() {
        assertThat(ok("patch", "deployment", "web", "-n", "shop", "--type", "json",
                "-p", "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":5}]").out()).isEqualTo("deployment.apps/web patched\n");
        assertThat(ok("patch", "deployment", "web", "-n", "shop", "--type", "merge",
                "-p", "{\"metadata\":{\"labels\":{\"stage\":\"canary\"}}}").out()).isEqualTo("deployment.apps/web patched\n");
        // strategic merge keys containers by name: the sidecar is added (first, as Kubernetes orders it), nginx kept
        assertThat(ok("patch", "deployment", "web", "-n", "shop", "--type", "strategic",
                "-p", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"sidecar\",\"image\":\"busybox:1.36\"}]}}}}").out())
                .isEqualTo("deployment.apps/web patched\n");
        assertThat(ok("patch", "deployment", "web", "-n", "shop", "-p", "{\"spec\":{\"replicas\":5}}").out())
                .isEqualTo("deployment.apps/web patched (no change)\n");
        assertThat(ok("get", "deployment", "web", "-n", "shop", "-o",
                "jsonpath={.spec.replicas} {.metadata.labels.stage} {.spec.template.spec.containers[*].name}").out())
                .isEqualTo("5 canary sidecar nginx");

        Kubectl.Result failedTest = kubectl.run("patch", "deployment", "web", "-n", "shop", "--type", "json",
                "-p", "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":7}]");
        assertThat(failedTest.exitCode()).as("%s", failedTest).isEqualTo(1);
        // kube-apiserver answers a failed "test" with a 422 Invalid Status whose message is the generic one
        assertThat(failedTest.err()).contains("The request is invalid: the server rejected our request due to an error in our request");

        // custom resources take JSON and merge patches; strategic merge needs a Go type, so the server refuses it
        assertThat(ok("patch", "widget", "gizmo", "-n", "shop", "--type", "merge", "-p", "{\"spec\":{\"color\":\"black\"}}").out())
                .isEqualTo("widget.example.com/gizmo patched\n");
        Kubectl.Result smp = kubectl.run("patch", "widget", "gizmo", "-n", "shop", "--type", "strategic", "-p", "{\"spec\":{\"color\":\"white\"}}");
        assertThat(smp.exitCode()).as("%s", smp).isEqualTo(1);
        assertThat(smp.err()).contains("the body of the request was in an unknown format - accepted media types include:"
                + " application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
    }

    @Test
    @Order(200)
    @DisplayName("scale through the scale subresource, with and without a precondition")
    void scale() {
        assertThat(ok("scale", "deployment", "web", "-n", "shop", "--replicas=2").out()).isEqualTo("deployment.apps/web scaled\n");
        Kubectl.Result precondition = kubectl.run("scale", "deployment", "web", "-n", "shop", "--current-replicas=3", "--replicas=4");
        assertThat(precondition.exitCode()).as("%s", precondition).isEqualTo(1);
        assertThat(precondition.err()).contains("error: Expected replicas to be 3, was 2");
        assertHasRow(ok("get", "deployment", "web", "-n", "shop").out(), "web", "0/2", "0", "0", ANY);
    }

    @Test
    @Order(210)
    @DisplayName("edit with KUBE_EDITOR and EDITOR scripts that change the file")
    void edit() throws IOException {
        Path editor = script("edit-color.sh", "#!/bin/sh\nsed -i 's/color: green/color: purple/' \"$1\"\n");
        Kubectl.Result edited = kubectl.run(Map.of("KUBE_EDITOR", editor.toString()), null, "edit", "configmap", "shop-config", "-n", "shop");
        assertThat(edited.exitCode()).as("%s", edited).isZero();
        assertThat(edited.out()).isEqualTo("configmap/shop-config edited\n");
        assertThat(ok("get", "configmap", "shop-config", "-n", "shop", "-o", "jsonpath={.data.color}").out()).isEqualTo("purple");

        Path replicas = script("edit-replicas.sh", "#!/bin/sh\nsed -i 's/^  replicas: 2$/  replicas: 6/' \"$1\"\n");
        Kubectl.Result viaEditor = kubectl.run(Map.of("EDITOR", replicas.toString()), null, "edit", "deployment/web", "-n", "shop");
        assertThat(viaEditor.exitCode()).as("%s", viaEditor).isZero();
        assertThat(viaEditor.out()).isEqualTo("deployment.apps/web edited\n");
        assertThat(ok("get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.spec.replicas}").out()).isEqualTo("6");

        Kubectl.Result unchanged = kubectl.run(Map.of("KUBE_EDITOR", "true"), null, "edit", "configmap", "shop-config", "-n", "shop");
        assertThat(unchanged.exitCode()).as("%s", unchanged).isZero();
        assertThat(unchanged.err()).contains("Edit cancelled, no changes made.");
    }

    @Test
    @Order(220)
    @DisplayName("replace: with the current resourceVersion, with a stale one (conflict), and --force")
    void replace() throws IOException {
        String live = ok("get", "configmap", "shop-config", "-n", "shop", "-o", "yaml").out();
        Path file = work.resolve("replace.yaml");
        Files.writeString(file, live.replace("color: purple", "color: orange"));
        assertThat(ok("replace", "-f", file.toString()).out()).isEqualTo("configmap/shop-config replaced\n");
        assertThat(ok("get", "configmap", "shop-config", "-n", "shop", "-o", "jsonpath={.data.color}").out()).isEqualTo("orange");

        Files.writeString(file, live.replace("color: purple", "color: stale"));
        Kubectl.Result stale = kubectl.run("replace", "-f", file.toString());
        assertThat(stale.exitCode()).as("%s", stale).isEqualTo(1);
        assertThat(stale.err()).contains("Error from server (Conflict): error when replacing \"" + file + "\": Operation cannot be fulfilled"
                + " on configmaps \"shop-config\": the object has been modified; please apply your changes to the latest version and try again");

        String uid = ok("get", "configmap", "shop-config", "-n", "shop", "-o", "jsonpath={.metadata.uid}").out();
        Kubectl.Result forced = ok("replace", "--force", "-f", file.toString());
        assertThat(forced.lines()).containsExactly("configmap \"shop-config\" deleted", "configmap/shop-config replaced");
        assertThat(ok("get", "configmap", "shop-config", "-n", "shop", "-o", "jsonpath={.data.color}").out()).isEqualTo("stale");
        assertThat(ok("get", "configmap", "shop-config", "-n", "shop", "-o", "jsonpath={.metadata.uid}").out()).isNotEqualTo(uid);
    }

    // ---- waiting and deleting ----------------------------------------------------------------------------

    @Test
    @Order(230)
    @DisplayName("wait --for=jsonpath is met at once; --for=condition=Available times out with no controller")
    void waitForJsonPath() {
        assertThat(ok("wait", "--for=jsonpath={.spec.replicas}=6", "deployment/web", "-n", "shop", "--timeout=20s").out())
                .isEqualTo("deployment.apps/web condition met\n");
        assertThat(ok("wait", "--for=jsonpath={.data.color}=stale", "configmap/shop-config", "-n", "shop", "--timeout=20s").out())
                .isEqualTo("configmap/shop-config condition met\n");
        Kubectl.Result available = kubectl.run("wait", "--for=condition=Available", "deployment/web", "-n", "shop", "--timeout=2s");
        assertThat(available.exitCode()).as("%s", available).isEqualTo(1);
        assertThat(available.err()).contains("error: timed out waiting for the condition on deployments/web");
    }

    @Test
    @Order(240)
    @DisplayName("wait --for=delete returns when another client deletes the object")
    void waitForDelete() throws Exception {
        ok("create", "configmap", "doomed", "-n", "e2e");
        Process waiter = kubectl.start(Map.of(), "wait", "--for=delete", "configmap/doomed", "-n", "e2e", "--timeout=60s");
        try {
            Lines out = Lines.of(waiter.getInputStream());
            Lines.of(waiter.getErrorStream());
            Thread.sleep(1500); // let kubectl get and start watching; a delete before that is also fine, just a different path
            assertThat(ok("delete", "configmap", "doomed", "-n", "e2e", "--wait=false").out()).isEqualTo("configmap \"doomed\" deleted\n");
            assertThat(waiter.waitFor(60, TimeUnit.SECONDS)).as("wait exits").isTrue();
            assertThat(waiter.exitValue()).isZero();
            out.await(l -> false, Duration.ofMillis(200));
            assertThat(out.all()).containsExactly("configmap/doomed condition met");
        } finally {
            waiter.destroy();
        }
    }

    @Test
    @Order(250)
    @DisplayName("delete --cascade=background: the owner goes at once, the garbage collector removes the dependent")
    void deleteBackground() {
        ownerAndDependent("bg");
        assertThat(ok("delete", "configmap", "owner-bg", "-n", "e2e", "--cascade=background", "--wait", "--timeout=20s").out())
                .isEqualTo("configmap \"owner-bg\" deleted\n");
        assertGone("configmap", "owner-bg");
        ok("wait", "--for=delete", "configmap/child-bg", "-n", "e2e", "--timeout=20s");
        assertGone("configmap", "child-bg");
    }

    @Test
    @Order(260)
    @DisplayName("delete --cascade=foreground --wait: dependents go first, then the owner")
    void deleteForeground() {
        ownerAndDependent("fg");
        Kubectl.Result r = kubectl.run("delete", "configmap", "owner-fg", "-n", "e2e", "--cascade=foreground", "--wait", "--timeout=20s");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.out()).isEqualTo("configmap \"owner-fg\" deleted\n");
        assertGone("configmap", "owner-fg");
        assertGone("configmap", "child-fg");
    }

    @Test
    @Order(270)
    @DisplayName("delete --cascade=orphan --wait: the owner goes, the dependent stays without its ownerReference")
    void deleteOrphan() {
        ownerAndDependent("or");
        Kubectl.Result r = kubectl.run("delete", "configmap", "owner-or", "-n", "e2e", "--cascade=orphan", "--wait", "--timeout=20s");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.out()).isEqualTo("configmap \"owner-or\" deleted\n");
        assertGone("configmap", "owner-or");
        assertThat(ok("get", "configmap", "child-or", "-n", "e2e", "-o", "jsonpath={.metadata.name}:{.metadata.ownerReferences}").out())
                .isEqualTo("child-or:");
    }

    @Test
    @Order(280)
    @DisplayName("auth can-i: the admin may do anything")
    void authCanI() {
        Kubectl.Result r = ok("auth", "can-i", "create", "deployments", "-n", "shop");
        assertThat(r.out()).isEqualTo("yes\n");
        assertThat(ok("auth", "can-i", "*", "*").out()).isEqualTo("yes\n");
        assertThat(ok("auth", "can-i", "delete", "widgets.example.com", "-n", "shop").out()).isEqualTo("yes\n");
    }

    @Test
    @Order(282)
    @DisplayName("auth can-i --list: system:masters may do everything (SelfSubjectRulesReview)")
    void authCanIList() {
        Kubectl.Result r = ok("auth", "can-i", "--list", "-n", "shop");
        assertHeader(r.out(), "Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs");
        assertHasRow(r.out(), "*.*", "[]", "[]", "[*]");
        assertHasRow(r.out(), "[*]", "[]", "[*]");
    }

    @Test
    @Order(281)
    @DisplayName("auth can-i --as a user with no RBAC bindings says no")
    void authCanIAsNobody() {
        Kubectl.Result r = kubectl.run("auth", "can-i", "create", "pods", "-n", "shop", "--as=jane");
        assertThat(r.out()).as("%s", r).isEqualTo("no\n");
        assertThat(r.exitCode()).isEqualTo(1);
    }

    @Test
    @Order(290)
    @DisplayName("describe deployment, service, configmap, namespace and a custom resource")
    void describe() {
        String d = ok("describe", "deployment", "web", "-n", "shop").out();
        assertThat(d.lines().map(String::strip).map(l -> l.replaceAll("\\s+", " ")).toList()).contains(
                "Name: web",
                "Namespace: shop",
                "Labels: app=web",
                "app.kubernetes.io/part-of=shop",
                "stage=canary",
                "Annotations: owner: team-b",
                "Selector: app=web",
                "Replicas: 6 desired | 0 updated | 0 total | 0 available | 0 unavailable",
                "StrategyType: RollingUpdate",
                "MinReadySeconds: 0",
                "RollingUpdateStrategy: 25% max unavailable, 25% max surge",
                "Pod Template:",
                "sidecar:",
                "Image: busybox:1.36",
                "nginx:",
                "Image: nginx:1.27",
                "Port: 80/TCP",
                "Events: <none>");
        // no controller wrote conditions or ReplicaSets, so kubectl prints neither section
        assertThat(d).doesNotContain("Conditions:", "OldReplicaSets:", "NewReplicaSet:");

        String svc = ok("describe", "service", "web", "-n", "shop").out();
        List<String> svcLines = svc.lines().map(l -> l.replaceAll("\\s+", " ").strip()).toList();
        assertThat(svcLines).contains("Name: web", "Namespace: shop", "Selector: app=web", "Type: ClusterIP",
                "IP Family Policy: SingleStack", "IP Families: IPv4", "Port: <unset> 80/TCP", "TargetPort: 80/TCP",
                "Session Affinity: None", "Events: <none>");
        assertThat(svcLines).anyMatch(l -> l.matches("IP: 10\\.43\\.\\d+\\.\\d+"));

        String cm = ok("describe", "configmap", "app-settings", "-n", "e2e").out();
        assertThat(cm).contains("Name:         app-settings\nNamespace:    e2e\n", "level:\n----\n3\n", "mode:\n----\nfast\n", "Events:  <none>");

        String ns = ok("describe", "namespace", "shop").out();
        assertThat(ns).contains("Name:         shop\n", "Labels:       kubernetes.io/metadata.name=shop\n", "Status:       Active\n",
                "No resource quota.", "No LimitRange resource.");

        String widget = ok("describe", "widget", "gizmo", "-n", "shop").out();
        assertThat(widget.lines().map(l -> l.replaceAll("\\s+", " ").strip()).toList())
                .contains("Name: gizmo", "Namespace: shop", "API Version: example.com/v1", "Kind: Widget", "Color: black", "Size: 5");
    }

    @Test
    @Order(300)
    @DisplayName("delete -f a custom resource, then its CRD: the Widget kind disappears from discovery")
    void deleteCustomResourceAndCrd() throws IOException {
        Path file = work.resolve("gizmo.yaml");
        Files.writeString(file, """
                apiVersion: example.com/v1
                kind: Widget
                metadata:
                  name: gizmo
                  namespace: shop
                """);
        assertThat(ok("delete", "-f", file.toString(), "--wait", "--timeout=20s").out()).isEqualTo("widget.example.com \"gizmo\" deleted\n");
        assertThat(ok("delete", "crd", "widgets.example.com", "--wait", "--timeout=20s").out())
                .isEqualTo("customresourcedefinition.apiextensions.k8s.io \"widgets.example.com\" deleted\n");
        assertThat(ok("api-resources", "-o", "name").lines()).doesNotContain("widgets.example.com");
        Kubectl.Result gone = kubectl.run("get", "widgets", "-n", "shop");
        assertThat(gone.exitCode()).as("%s", gone).isEqualTo(1);
        assertThat(gone.err()).contains("error: the server doesn't have a resource type \"widgets\"");
    }

    @Test
    @Order(310)
    @DisplayName("delete namespace --wait: the namespace and everything in it go")
    void deleteNamespaces() {
        assertThat(ok("delete", "namespace", "shop", "--wait", "--timeout=60s").out()).isEqualTo("namespace \"shop\" deleted\n");
        assertGone("namespace", "shop");
        Kubectl.Result empty = ok("get", "all,configmaps", "-n", "shop");
        assertThat(empty.out()).isEmpty();
        assertThat(empty.err()).contains("No resources found in shop namespace.");

        assertThat(ok("delete", "namespace", "e2e", "--wait", "--timeout=60s").out()).isEqualTo("namespace \"e2e\" deleted\n");
        assertGone("namespace", "e2e");
        Kubectl.Result e2e = ok("get", "configmaps,secrets", "-n", "e2e");
        assertThat(e2e.out()).isEmpty();
        assertThat(e2e.err()).contains("No resources found in e2e namespace.");
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private Kubectl.Result ok(String... args) {
        Kubectl.Result r = kubectl.run(args);
        assertThat(r.exitCode()).as("%s", r).isZero();
        return r;
    }

    private JsonNode json(String... args) {
        try {
            return JSON.readTree(ok(args).out());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void assertGone(String resource, String name) {
        List<String> args = resource.equals("namespace")
                ? List.of("get", resource, name)
                : List.of("get", resource, name, "-n", "e2e");
        Kubectl.Result r = kubectl.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as("%s", r).isEqualTo(1);
        assertThat(r.err()).contains("Error from server (NotFound): " + resource + "s \"" + name + "\" not found");
    }

    /** A configmap owner-X and a dependent child-X that blocks its owner's foreground deletion. */
    private void ownerAndDependent(String suffix) {
        ok("create", "configmap", "owner-" + suffix, "-n", "e2e");
        String uid = ok("get", "configmap", "owner-" + suffix, "-n", "e2e", "-o", "jsonpath={.metadata.uid}").out();
        Kubectl.Result r = kubectl.runWithInput("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: child-%s
                  namespace: e2e
                  ownerReferences:
                  - apiVersion: v1
                    kind: ConfigMap
                    name: owner-%s
                    uid: %s
                    blockOwnerDeletion: true
                """.formatted(suffix, suffix, uid), "create", "-f", "-");
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.out()).isEqualTo("configmap/child-" + suffix + " created\n");
    }

    private Path script(String name, String text) throws IOException {
        Path file = work.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** Lines of a running process's stream, collected as they come. */
    static final class Lines {
        private final List<String> lines = new CopyOnWriteArrayList<>();

        static Lines of(InputStream in) {
            Lines l = new Lines();
            Thread.startVirtualThread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) l.lines.add(Kubectl.strip(line));
                } catch (IOException e) {
                    // the process was destroyed
                }
            });
            return l;
        }

        boolean await(Predicate<String> done, Duration timeout) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end) {
                if (lines.stream().anyMatch(done)) return true;
                Thread.sleep(50);
            }
            return lines.stream().anyMatch(done);
        }

        List<String> all() {
            return List.copyOf(lines);
        }
    }
}
