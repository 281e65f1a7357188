package io.k3j.api.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real kubectl 1.32 and 1.33 send their typed-client bodies as protobuf. Each command runs twice against a fake
 * API server: once for real, recording the protobuf body, and once with {@code --dry-run=client -o json}, which
 * prints the very object kubectl built. The decoded body must be that JSON.
 */
class KubectlProtobufBodiesTest {
    private static final Path KUBECTL_DIR = Path.of("/usr/lib/google-cloud-sdk/bin");

    @TempDir
    static Path dir;
    private static FakeKubeApi api;
    private static Path kubeconfig;

    @BeforeAll
    static void start() throws IOException {
        api = new FakeKubeApi();
        kubeconfig = dir.resolve("kubeconfig");
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters: [{name: fake, cluster: {server: "%s"}}]
                users: [{name: u, user: {token: t}}]
                contexts: [{name: fake, context: {cluster: fake, user: u, namespace: default}}]
                current-context: fake
                """.formatted(api.url()));
    }

    @AfterAll
    static void stop() {
        if (api != null) api.close();
    }

    static Stream<Arguments> createCommands() {
        List<String> commands = List.of(
                "create configmap x --from-literal=a=b --from-literal=empty=",
                "create secret generic s --from-literal=a=b --from-literal=empty=",
                "create secret docker-registry d --docker-username=u --docker-password=p --docker-server=r",
                "create deployment web --image=nginx:1.25 --replicas=0",
                "create deployment web2 --image=nginx:1.25 --port=8080",
                "create namespace ns1",
                "create service clusterip svc --tcp=80:8080",
                "create service nodeport np --tcp=80:http",
                "create service externalname ex --external-name=example.com",
                "create job j --image=busybox -- echo hi",
                "create cronjob cj --image=busybox --schedule=*/1_*_*_*_* --restart=OnFailure",
                "create role r --verb=get --verb=list --resource=pods --resource-name=p1",
                "create clusterrole cr --verb=get --non-resource-url=/healthz",
                "create clusterrole agg --aggregation-rule=rbac.example.com/aggregate=true",
                "create rolebinding rb --role=r --user=bob --serviceaccount=default:sa",
                "create clusterrolebinding crb --clusterrole=cr --group=devs",
                "create serviceaccount sa",
                "create quota q --hard=cpu=1,pods=2,memory=1Gi --scopes=BestEffort",
                "create priorityclass pc --value=0 --description=d",
                "create priorityclass pc2 --value=1000 --global-default --preemption-policy=Never",
                "create poddisruptionbudget pdb --selector=app=x --min-available=0",
                "create poddisruptionbudget pdb2 --selector=app=x --max-unavailable=50%",
                "create ingress ing --rule=foo.com/bar=svc1:8080 --class=nginx",
                "create ingress ing2 --rule=foo.com/*=svc1:http,tls=secret --default-backend=def:80");
        List<Arguments> cases = new ArrayList<>();
        for (String version : List.of("1.32", "1.33")) {
            for (String command : commands) cases.add(Arguments.of(version, command));
        }
        // 1.32 sends an autoscaling/v1 HPA; 1.33 sends autoscaling/v2, which client-java-proto 24 lacks
        cases.add(Arguments.of("1.32", "autoscale deployment web --max=3 --cpu-percent=50"));
        return cases.stream();
    }

    @ParameterizedTest(name = "kubectl {0} {1}")
    @MethodSource("createCommands")
    @DisplayName("kubectl's protobuf body decodes to the JSON that kubectl prints for --dry-run=client -o json")
    void createBodiesDecodeToDryRunJson(String version, String command) throws Exception {
        List<String> args = splitArgs(command);
        FakeKubeApi.Post post = send(version, args);
        assertThat(post.contentType()).isEqualTo("application/vnd.kubernetes.protobuf");

        List<String> dryRun = new ArrayList<>(args);
        int dashes = dryRun.indexOf("--");
        int at = dashes < 0 ? dryRun.size() : dashes;
        dryRun.addAll(at, List.of("--dry-run=client", "-o", "json"));
        JsonNode expected = Json.parse(kubectl(version, dryRun).getBytes(StandardCharsets.UTF_8));

        assertThat(KubeProtobuf.decode(post.body())).isEqualTo(expected);
    }

    @ParameterizedTest(name = "kubectl {0}")
    @MethodSource("versions")
    @DisplayName("kubectl create configmap sends protobuf that decodes to the ConfigMap")
    void configMapBody(String version) throws Exception {
        FakeKubeApi.Post post = send(version, List.of("create", "configmap", "x", "--from-literal=a=b"));
        assertThat(post.path()).startsWith("/api/v1/namespaces/default/configmaps?");
        assertThat(KubeProtobuf.decode(post.body())).isEqualTo(json("""
                {"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","creationTimestamp":null},"data":{"a":"b"}}"""));
    }

    static Stream<String> versions() {
        return Stream.of("1.32", "1.33");
    }

    @ParameterizedTest(name = "kubectl {0}")
    @MethodSource("versions")
    @DisplayName("kubectl create token, auth can-i and auth whoami bodies decode to their request objects")
    void tokenAndReviewBodies(String version) throws Exception {
        // Go shows token, expirationTimestamp (zero Time: null), audiences and allowed: no omitempty there
        FakeKubeApi.Post token = send(version, List.of("create", "token", "sa", "--duration=10m", "--audience=api"));
        assertThat(token.path()).startsWith("/api/v1/namespaces/default/serviceaccounts/sa/token");
        assertThat(KubeProtobuf.decode(token.body())).isEqualTo(json("""
                {"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},
                 "spec":{"audiences":["api"],"expirationSeconds":600},"status":{"token":"","expirationTimestamp":null}}"""));

        FakeKubeApi.Post canI = send(version, List.of("auth", "can-i", "get", "pods", "--subresource=log"));
        assertThat(canI.path()).startsWith("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews");
        assertThat(KubeProtobuf.decode(canI.body())).isEqualTo(json("""
                {"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},
                 "spec":{"resourceAttributes":{"namespace":"default","verb":"get","resource":"pods","subresource":"log"}},
                 "status":{"allowed":false}}"""));

        FakeKubeApi.Post whoami = send(version, List.of("auth", "whoami"));
        assertThat(KubeProtobuf.decode(whoami.body())).isEqualTo(json("""
                {"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},
                 "status":{"userInfo":{}}}"""));
    }

    private static JsonNode json(String text) {
        return Json.parse(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Space-separated, with {@code _} standing for a space inside one argument (the cron schedule). */
    private static List<String> splitArgs(String command) {
        List<String> args = new ArrayList<>();
        for (String word : command.split(" ")) args.add(word.replace('_', ' '));
        return args;
    }

    /** Runs kubectl for real and returns the last body it POSTed. */
    private static FakeKubeApi.Post send(String version, List<String> args) throws Exception {
        api.clear();
        kubectl(version, args);
        List<FakeKubeApi.Post> posts = api.posts();
        assertThat(posts).as("POSTs of kubectl %s", args).isNotEmpty();
        return posts.getLast();
    }

    private static String kubectl(String version, List<String> args) throws Exception {
        Path binary = KUBECTL_DIR.resolve("kubectl." + version);
        assumeTrue(Files.isExecutable(binary), "kubectl " + version + " is not installed at " + binary);
        List<String> command = new ArrayList<>(List.of(binary.toString(), "--cache-dir=" + dir.resolve("cache")));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(dir.resolve("stderr").toFile());
        builder.environment().put("KUBECONFIG", kubeconfig.toString());
        Process process = builder.start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("kubectl " + args + " did not finish");
        }
        String stdout = new String(out, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            System.out.println("kubectl " + args + " exited " + process.exitValue() + ": " + Files.readString(dir.resolve("stderr")));
        }
        return stdout;
    }
}
