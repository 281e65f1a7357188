package io.k3j.apiserver.crd.serving;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real kubectl against an in-process server, with the CronTab CRD of the Kubernetes docs ("Extend the
 * Kubernetes API with CustomResourceDefinitions"), extended with its printer columns, defaults, validation, status
 * and scale examples. Expected texts are what kubectl prints against kube-apiserver.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubectlCustomResourcesTest {
    private static final String KUBECTL = "/usr/bin/kubectl";
    static final String CRONTAB_CRD = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: crontabs.stable.example.com
            spec:
              group: stable.example.com
              versions:
                - name: v1
                  served: true
                  storage: true
                  schema:
                    openAPIV3Schema:
                      type: object
                      properties:
                        spec:
                          type: object
                          properties:
                            cronSpec:
                              type: string
                              pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'
                            image:
                              type: string
                              default: "my-awesome-cron-image"
                            replicas:
                              type: integer
                              minimum: 1
                              maximum: 10
                        status:
                          type: object
                          properties:
                            replicas:
                              type: integer
                            labelSelector:
                              type: string
                  subresources:
                    status: {}
                    scale:
                      specReplicasPath: .spec.replicas
                      statusReplicasPath: .status.replicas
                      labelSelectorPath: .status.labelSelector
                  additionalPrinterColumns:
                    - name: Spec
                      type: string
                      description: The cron spec defining the interval a CronJob is run
                      jsonPath: .spec.cronSpec
                    - name: Replicas
                      type: integer
                      description: The number of jobs launched by the CronJob
                      jsonPath: .spec.replicas
                    - name: Age
                      type: date
                      jsonPath: .metadata.creationTimestamp
              scope: Namespaced
              names:
                plural: crontabs
                singular: crontab
                kind: CronTab
                shortNames:
                - ct
            """;

    @TempDir static Path dir;
    private static ControlPlane server;
    private static Path kubeconfig;

    @BeforeAll
    static void start() {
        assumeTrue(Files.isExecutable(Path.of(KUBECTL)), "needs " + KUBECTL);
        startServer();
    }

    private static void startServer() {
        kubeconfig = dir.resolve("kubeconfig.yaml");
        ServerConfig defaults = ServerConfig.defaults(dir.resolve("data")).withPort(0).withKubeconfig(kubeconfig);
        ServerConfig config = new ServerConfig(defaults.dataDir(), "127.0.0.1", 0, "", List.of(), kubeconfig, "0600", null, "",
                defaults.clusterCidr(), defaults.serviceCidr(), defaults.clusterDns(), defaults.clusterDomain(), "", List.of());
        server = ControlPlane.start(config);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    record Result(int exit, String out, String err) {}

    static Result kubectl(String stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(KUBECTL);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("HOME", dir.toString());
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (stdin != null) p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("kubectl " + args[0] + " hung");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static Result ok(String stdin, String... args) throws IOException, InterruptedException {
        Result r = kubectl(stdin, args);
        assertThat(r.exit()).as("kubectl %s: %s", String.join(" ", args), r.err()).isZero();
        return r;
    }

    @Test
    @Order(1)
    @DisplayName("kubectl apply of a CRD and a custom resource in one file: kubectl maps every object before creating any, "
            + "so the first run creates the CRD and reports the custom resource as kube-apiserver's clients see it; "
            + "an immediate second run creates it")
    void applyCrdAndCustomResourceTogether() throws Exception {
        String cr = """
                apiVersion: stable.example.com/v1
                kind: CronTab
                metadata:
                  name: my-new-cron-object
                  namespace: default
                spec:
                  cronSpec: "* * * * */5"
                  image: my-awesome-cron-image
                  replicas: 2
                """;
        String both = CRONTAB_CRD + "---\n" + cr;
        Result first = kubectl(both, "apply", "-f", "-");
        assertThat(first.exit()).isEqualTo(1);
        assertThat(first.out()).isEqualTo("customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created\n");
        assertThat(first.err()).endsWith("error: resource mapping not found for name: \"my-new-cron-object\" namespace: \"default\" "
                + "from \"STDIN\": no matches for kind \"CronTab\" in version \"stable.example.com/v1\"\n"
                + "ensure CRDs are installed first\n");
        Result second = ok(both, "apply", "-f", "-");
        assertThat(second.out()).isEqualTo("""
                customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com unchanged
                crontab.stable.example.com/my-new-cron-object created
                """);
    }

    @Test
    @Order(2)
    @DisplayName("the CRD becomes Established with accepted names and stored versions")
    void established() throws Exception {
        Result r = ok(null, "wait", "--for", "condition=established", "--timeout=5s", "crd/crontabs.stable.example.com");
        assertThat(r.out()).isEqualTo("customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com condition met\n");
        Result names = ok(null, "get", "crd", "crontabs.stable.example.com", "-o",
                "jsonpath={.status.acceptedNames.kind} {.status.acceptedNames.shortNames} {.status.storedVersions} "
                        + "{.status.conditions[?(@.type==\"NamesAccepted\")].reason}");
        assertThat(names.out()).isEqualTo("CronTab [\"ct\"] [\"v1\"] NoConflicts");
    }

    @Test
    @Order(3)
    @DisplayName("kubectl get shows the additionalPrinterColumns, by plural, singular and short name")
    void printerColumns() throws Exception {
        Result r = ok(null, "get", "crontabs");
        String[] lines = r.out().split("\n");
        assertThat(lines[0]).matches("NAME +SPEC +REPLICAS +AGE");
        assertThat(lines[1]).matches("my-new-cron-object +\\* \\* \\* \\* \\*/5 +2 +\\d+s");
        assertThat(ok(null, "get", "ct").out().split("\n")[1]).startsWith("my-new-cron-object ");
        assertThat(ok(null, "get", "crontab", "my-new-cron-object", "-o", "name").out())
                .isEqualTo("crontab.stable.example.com/my-new-cron-object\n");
    }

    @Test
    @Order(4)
    @DisplayName("kubectl explain reads the schema from OpenAPI")
    void explain() throws Exception {
        Result r = ok(null, "explain", "crontab.spec");
        assertThat(r.out()).startsWith("GROUP:      stable.example.com\nKIND:       CronTab\nVERSION:    v1\n\nFIELD: spec <Object>\n")
                .contains("cronSpec\t<string>").contains("replicas\t<integer>");
    }

    @Test
    @Order(5)
    @DisplayName("schema violations are 422 Invalid with one cause per field")
    void validation() throws Exception {
        Result r = kubectl("""
                apiVersion: stable.example.com/v1
                kind: CronTab
                metadata: {name: bad, namespace: default}
                spec: {cronSpec: "* * * *", replicas: 15}
                """, "create", "-f", "-");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("The CronTab \"bad\" is invalid: \n"
                + "* spec.cronSpec: Invalid value: \"* * * *\": spec.cronSpec in body should match "
                + "'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'\n"
                + "* spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10\n");
    }

    @Test
    @Order(6)
    @DisplayName("unknown fields: Strict refuses, Warn warns, Ignore prunes silently")
    void unknownFields() throws Exception {
        String cr = """
                apiVersion: stable.example.com/v1
                kind: CronTab
                metadata: {name: pruned, namespace: default}
                spec: {cronSpec: "* * * * *", replicas: 1, foo: bar}
                """;
        Result strict = kubectl(cr, "create", "-f", "-");
        assertThat(strict.exit()).isEqualTo(1);
        assertThat(strict.err()).isEqualTo("Error from server (BadRequest): error when creating \"STDIN\": CronTab in version \"v1\" "
                + "cannot be handled as a CronTab: strict decoding error: unknown field \"spec.foo\"\n");
        Result warn = ok(cr, "create", "--validate=warn", "-f", "-");
        assertThat(warn.err()).isEqualTo("Warning: unknown field \"spec.foo\"\n");
        assertThat(warn.out()).isEqualTo("crontab.stable.example.com/pruned created\n");
        Result stored = ok(null, "get", "ct", "pruned", "-o", "jsonpath={.spec}");
        assertThat(stored.out()).isEqualTo("{\"cronSpec\":\"* * * * *\",\"image\":\"my-awesome-cron-image\",\"replicas\":1}");
        ok(null, "delete", "ct", "pruned");
        ok(cr, "create", "--validate=false", "-f", "-");
        assertThat(ok(null, "get", "ct", "pruned", "-o", "jsonpath={.spec.foo}").out()).isEmpty();
    }

    @Test
    @Order(7)
    @DisplayName("defaults apply on create")
    void defaults() throws Exception {
        ok("""
                apiVersion: stable.example.com/v1
                kind: CronTab
                metadata: {name: defaulted, namespace: default}
                spec: {cronSpec: "5 0 * * *"}
                """, "create", "-f", "-");
        assertThat(ok(null, "get", "ct", "defaulted", "-o", "jsonpath={.spec.image}").out()).isEqualTo("my-awesome-cron-image");
    }

    @Test
    @Order(8)
    @DisplayName("status subresource: /status changes only status, the main resource ignores status, spec changes bump generation")
    void status() throws Exception {
        ok(null, "patch", "ct", "my-new-cron-object", "--subresource=status", "--type=merge",
                "-p", "{\"status\":{\"replicas\":2,\"labelSelector\":\"app=cron\"},\"spec\":{\"replicas\":7}}");
        assertThat(ok(null, "get", "ct", "my-new-cron-object", "-o",
                "jsonpath={.status.replicas} {.spec.replicas} {.metadata.generation}").out()).isEqualTo("2 2 1");
        ok(null, "patch", "ct", "my-new-cron-object", "--type=merge", "-p", "{\"status\":{\"replicas\":9},\"spec\":{\"replicas\":3}}");
        assertThat(ok(null, "get", "ct", "my-new-cron-object", "-o",
                "jsonpath={.status.replicas} {.spec.replicas} {.metadata.generation}").out()).isEqualTo("2 3 2");
    }

    @Test
    @Order(9)
    @DisplayName("kubectl scale goes through the CRD's scale subresource")
    void scale() throws Exception {
        Result r = ok(null, "scale", "ct", "my-new-cron-object", "--replicas=5");
        assertThat(r.out()).isEqualTo("crontab.stable.example.com/my-new-cron-object scaled\n");
        assertThat(ok(null, "get", "ct", "my-new-cron-object", "-o", "jsonpath={.spec.replicas}").out()).isEqualTo("5");
        Result scale = ok(null, "get", "--raw", "/apis/stable.example.com/v1/namespaces/default/crontabs/my-new-cron-object/scale");
        assertThat(scale.out()).contains("\"kind\":\"Scale\"").contains("\"spec\":{\"replicas\":5}")
                .contains("\"status\":{\"replicas\":2,\"selector\":\"app=cron\"}");
    }

    @Test
    @Order(10)
    @DisplayName("a multi-version CRD (conversion None) serves one stored object at every version")
    void multiVersion() throws Exception {
        ok("""
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata: {name: widgets.example.org}
                spec:
                  group: example.org
                  scope: Cluster
                  names: {plural: widgets, singular: widget, kind: Widget}
                  versions:
                  - name: v1beta1
                    served: true
                    storage: false
                    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true}}}}
                  - name: v1
                    served: true
                    storage: true
                    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true}}}}
                """, "apply", "-f", "-");
        ok("""
                apiVersion: example.org/v1beta1
                kind: Widget
                metadata: {name: w1}
                spec: {size: 3}
                """, "create", "-f", "-");
        assertThat(ok(null, "get", "--raw", "/apis/example.org/v1/widgets/w1").out()).startsWith("{\"apiVersion\":\"example.org/v1\",\"kind\":\"Widget\"");
        assertThat(ok(null, "get", "--raw", "/apis/example.org/v1beta1/widgets").out()).contains("\"apiVersion\":\"example.org/v1beta1\",\"kind\":\"Widget\"");
        // kubectl prefers the GA version
        assertThat(ok(null, "get", "widget", "w1", "-o", "jsonpath={.apiVersion}").out()).isEqualTo("example.org/v1");
    }

    @Test
    @Order(11)
    @DisplayName("deleting a CRD deletes its custom resources, then the CRD, then stops serving it")
    void deleteCrd() throws Exception {
        Result r = ok(null, "delete", "crd", "widgets.example.org", "--timeout=10s");
        assertThat(r.out()).isEqualTo("customresourcedefinition.apiextensions.k8s.io \"widgets.example.org\" deleted\n");
        Result gone = kubectl(null, "get", "--raw", "/apis/example.org/v1/widgets");
        assertThat(gone.exit()).isEqualTo(1);
        assertThat(server.objects().cache().caches()).noneMatch(c -> c.prefix().equals("/registry/example.org/widgets/"));
        // recreating the CRD finds no leftover objects
        ok("""
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata: {name: widgets.example.org}
                spec:
                  group: example.org
                  scope: Cluster
                  names: {plural: widgets, singular: widget, kind: Widget}
                  versions:
                  - name: v1
                    served: true
                    storage: true
                    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {color: {type: string}}}}}}
                    selectableFields: [{jsonPath: .spec.color}]
                """, "create", "-f", "-");
        assertThat(ok(null, "get", "widgets", "-o", "name").out()).isEmpty();
        // the create returned only once the CRD was served and Established
        ObjectNode crd = server.objects().find(server.registry().find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
                .orElseThrow(), null, "widgets.example.org").orElseThrow();
        assertThat(crd.at("/status/conditions/1/type").asText()).isEqualTo("Established");
        assertThat(crd.at("/status/conditions/1/status").asText()).isEqualTo("True");
    }

    @Test
    @Order(12)
    @DisplayName("spec.versions[].selectableFields work as field selectors")
    void selectableFields() throws Exception {
        ok("""
                apiVersion: example.org/v1
                kind: Widget
                metadata: {name: red}
                spec: {color: red}
                ---
                apiVersion: example.org/v1
                kind: Widget
                metadata: {name: blue}
                spec: {color: blue}
                """, "create", "-f", "-");
        assertThat(ok(null, "get", "widgets", "--field-selector", "spec.color=red", "-o", "name").out())
                .isEqualTo("widget.example.org/red\n");
        Result bad = kubectl(null, "get", "widgets", "--field-selector", "spec.size=1");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("field label not supported: spec.size");
    }

    @Test
    @Order(13)
    @DisplayName("a CRD whose schema is not structural is refused with 422")
    void nonStructural() throws Exception {
        Result r = kubectl("""
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata: {name: gadgets.example.org}
                spec:
                  group: example.org
                  scope: Namespaced
                  names: {plural: gadgets, kind: Gadget}
                  versions:
                  - name: v1
                    served: true
                    storage: true
                    schema: {openAPIV3Schema: {type: object, properties: {spec: {properties: {a: {type: string}}}}}}
                """, "create", "-f", "-");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("The CustomResourceDefinition \"gadgets.example.org\" is invalid: "
                + "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields\n");
        assertThat(kubectl(null, "get", "gadgets").exit()).isEqualTo(1);
    }

    @Test
    @Order(20)
    @DisplayName("after a restart, stored CRDs are served from the first request")
    void restart() throws Exception {
        server.close();
        startServer();
        Result r = ok(null, "get", "ct", "my-new-cron-object", "-o", "jsonpath={.spec.replicas} {.status.replicas}");
        assertThat(r.out()).isEqualTo("5 2");
        assertThat(ok(null, "get", "crontabs").out()).startsWith("NAME ");
    }
}
