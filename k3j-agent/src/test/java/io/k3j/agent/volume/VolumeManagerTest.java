package io.k3j.agent.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.volume.MountSpec.Propagation;
import io.k3j.api.Json;
import io.k3j.api.Quantity;
import io.k3j.controllers.testing.FakeClock;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class VolumeManagerTest {

    private static final String CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    private Path tmp;
    private Path pods;
    private FakeClock clock;
    private MemorySources sources;
    private VolumeManager volumes;
    private final List<Path> bindMounts = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        tmp = Files.createTempDirectory("k3j-volume-test");
        pods = tmp.resolve("pods");
        clock = new FakeClock(Instant.parse("2026-01-01T00:00:00Z"));
        sources = new MemorySources(clock);
        NodeFacts node = new NodeFacts("node-1", List.of("10.0.0.5"), Map.of("cpu", Quantity.parse("2"), "memory", Quantity.parse("4Gi")));
        volumes = new VolumeManager(pods, sources, node, clock);
    }

    @AfterEach
    void tearDown() throws IOException {
        for (Path p : bindMounts) run("umount", p.toString());
        volumes.cleanup("u-1");
        HostMounts.unmountAllUnder(tmp);
        AtomicWriter.deleteTree(tmp);
    }

    private static ObjectNode pod(String specYaml) {
        ObjectNode pod = (ObjectNode) Json.parseYamlOrJson(("""
                metadata: {name: web-0, namespace: shop, uid: u-1, labels: {app: web}, annotations: {b: "2", a: "x\\ny"}}
                spec:
                """ + specYaml.indent(2)).getBytes(StandardCharsets.UTF_8));
        return pod;
    }

    private static ObjectNode container(ObjectNode pod) {
        return (ObjectNode) pod.path("spec").path("containers").get(0);
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        } catch (IOException e) {
            throw new RuntimeException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    @Test
    @DisplayName("a configMap volume is kubelet's atomic-writer layout, and refresh swaps ..data so a bind mount sees the update")
    void configMapUpdate() throws IOException {
        sources.configMap("shop", "cfg", Map.of("app.conf", "v1", "old.txt", "gone soon"));
        ObjectNode pod = pod("""
                containers: [{name: c, volumeMounts: [{name: conf, mountPath: /etc/app}, {name: conf, mountPath: /etc/app.conf, subPath: app.conf}]}]
                volumes: [{name: conf, configMap: {name: cfg}}]
                """);
        PreparedVolumes prepared = volumes.prepare(pod);
        Path dir = pods.resolve("u-1/volumes/kubernetes.io~configmap/conf");
        assertThat(prepared.volume("conf").orElseThrow().hostPath()).isEqualTo(dir);
        assertThat(Files.readSymbolicLink(dir.resolve("app.conf"))).isEqualTo(Path.of("..data/app.conf"));
        Path firstStamp = dir.resolve(Files.readSymbolicLink(dir.resolve("..data")));
        assertThat(firstStamp.getFileName().toString()).startsWith("..20");
        assertThat(Files.readString(dir.resolve("app.conf"))).isEqualTo("v1");
        assertThat(mode(firstStamp.resolve("app.conf"))).isEqualTo(0644);

        List<MountSpec> mounts = volumes.mounts(pod, container(pod), prepared, List.of());
        assertThat(mounts.get(0)).isEqualTo(new MountSpec(dir, "/etc/app", true, Propagation.PRIVATE, false));
        // The subPath binds the file itself, inside the timestamped directory: later updates do not reach it.
        assertThat(mounts.get(1).hostPath()).isEqualTo(firstStamp.toRealPath().resolve("app.conf"));

        Path view = null;
        Path fileView = null;
        if (root()) {
            view = Files.createDirectory(tmp.resolve("container-view"));
            run("mount", "--bind", dir.toString(), view.toString());
            bindMounts.add(view);
            fileView = Files.createFile(tmp.resolve("subpath-view"));
            run("mount", "--bind", mounts.get(1).hostPath().toString(), fileView.toString());
            bindMounts.add(0, fileView);
        }

        assertThat(volumes.refresh(pod)).isEmpty();
        sources.configMap("shop", "cfg", Map.of("app.conf", "v2", "new.txt", "hello"));
        assertThat(volumes.refresh(pod)).containsExactly("conf");
        assertThat(Files.readString(dir.resolve("app.conf"))).isEqualTo("v2");
        assertThat(Files.readString(dir.resolve("new.txt"))).isEqualTo("hello");
        assertThat(Files.exists(dir.resolve("old.txt"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(Files.exists(firstStamp)).as("old timestamp dir removed").isFalse();
        if (view != null) {
            assertThat(Files.readString(view.resolve("app.conf"))).isEqualTo("v2");
            assertThat(Files.exists(view.resolve("old.txt"))).isFalse();
            assertThat(Files.readString(fileView)).as("subPath keeps what it had").isEqualTo("v1");
        }
    }

    @Test
    @DisplayName("secret items with paths and modes, defaultMode, base64 decoding and fsGroup ownership")
    void secretItemsAndModes() throws IOException {
        sources.secret("shop", "creds", Map.of("user", "admin", "password", "pw", "unused", "x"));
        ObjectNode pod = pod("""
                securityContext: {fsGroup: 2000}
                containers: [{name: c}]
                volumes: [{name: s, secret: {secretName: creds, defaultMode: 0400, items: [{key: user, path: conf/user}, {key: password, path: pw, mode: 0600}]}}]
                """);
        volumes.prepare(pod);
        Path dir = pods.resolve("u-1/volumes/kubernetes.io~secret/s");
        assertThat(Files.readString(dir.resolve("conf/user"))).isEqualTo("admin");
        assertThat(Files.readString(dir.resolve("pw"))).isEqualTo("pw");
        assertThat(Files.exists(dir.resolve("unused"))).isFalse();
        Path data = dir.resolve("..data").toRealPath();
        // fsGroup adds group read, as kubelet's SetVolumeOwnership for a read-only volume.
        assertThat(mode(data.resolve("conf/user"))).isEqualTo(0440);
        assertThat(mode(data.resolve("pw"))).isEqualTo(0640);
        assertThat(Files.getAttribute(data.resolve("pw"), "unix:gid")).isEqualTo(2000);
        assertThat(mode(data) & 02000).as("setgid directory").isEqualTo(02000);
        assertThat(volumes.refresh(pod)).as("unchanged payload, fsGroup bits included").isEmpty();
    }

    @Test
    @DisplayName("missing sources: kubelet's messages unless optional, an optional missing ConfigMap gives an empty volume")
    void missingSources() throws IOException {
        PodConfigException e = org.junit.jupiter.api.Assertions.assertThrows(PodConfigException.class, () -> volumes.prepare(pod("""
                volumes: [{name: conf, configMap: {name: nope}}]
                """)));
        assertThat(e.getMessage()).isEqualTo("MountVolume.SetUp failed for volume \"conf\" : configmap \"nope\" not found");
        assertThat(e.reason()).isEqualTo("FailedMount");
        assertThatThrownBy(() -> volumes.prepare(pod("volumes: [{name: s, secret: {secretName: nope}}]")))
                .hasMessage("MountVolume.SetUp failed for volume \"s\" : secret \"nope\" not found");
        sources.configMap("shop", "cfg", Map.of("a", "1"));
        assertThatThrownBy(() -> volumes.prepare(pod("volumes: [{name: conf, configMap: {name: cfg, items: [{key: b, path: b}]}}]")))
                .hasMessage("MountVolume.SetUp failed for volume \"conf\" : configmap references non-existent config key: b");

        volumes.prepare(pod("volumes: [{name: conf, configMap: {name: nope, optional: true}}]"));
        Path dir = pods.resolve("u-1/volumes/kubernetes.io~configmap/conf");
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("..20"))).containsExactly("..data");
        }
    }

    @Test
    @DisplayName("downwardAPI: metadata fields, labels/annotations as sorted key=\"value\" lines, resources with divisor and node default")
    void downwardApi() throws IOException {
        ObjectNode pod = pod("""
                containers: [{name: c, resources: {limits: {cpu: 500m}}}]
                volumes:
                - name: info
                  downwardAPI:
                    items:
                    - {path: name, fieldRef: {fieldPath: metadata.name}}
                    - {path: labels, fieldRef: {fieldPath: metadata.labels}}
                    - {path: annotations, fieldRef: {fieldPath: metadata.annotations}, mode: 0600}
                    - {path: cpu_m, resourceFieldRef: {containerName: c, resource: limits.cpu, divisor: 1m}}
                    - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
                """);
        volumes.prepare(pod);
        Path dir = pods.resolve("u-1/volumes/kubernetes.io~downward-api/info");
        assertThat(Files.readString(dir.resolve("name"))).isEqualTo("web-0");
        assertThat(Files.readString(dir.resolve("labels"))).isEqualTo("app=\"web\"");
        assertThat(Files.readString(dir.resolve("annotations"))).isEqualTo("a=\"x\\ny\"\nb=\"2\"");
        assertThat(mode(dir.resolve("annotations").toRealPath())).isEqualTo(0600);
        assertThat(Files.readString(dir.resolve("cpu_m"))).isEqualTo("500");
        assertThat(Files.readString(dir.resolve("mem"))).isEqualTo("4096");

        pod.with("metadata").with("labels").put("version", "2");
        assertThat(volumes.refresh(pod)).containsExactly("info");
        assertThat(Files.readString(dir.resolve("labels"))).isEqualTo("app=\"web\"\nversion=\"2\"");
    }

    @Test
    @DisplayName("the injected kube-api-access volume: token, ca.crt and namespace; the token rotates after 80% of its life")
    void projectedServiceAccount() throws IOException {
        sources.configMap("shop", "kube-root-ca.crt", Map.of("ca.crt", CA));
        ObjectNode pod = pod("""
                serviceAccountName: builder
                containers: [{name: c, volumeMounts: [{name: kube-api-access-abcde, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}]}]
                volumes:
                - name: kube-api-access-abcde
                  projected:
                    defaultMode: 420
                    sources:
                    - serviceAccountToken: {expirationSeconds: 3607, path: token}
                    - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}
                    - downwardAPI: {items: [{path: namespace, fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}]}
                """);
        PreparedVolumes prepared = volumes.prepare(pod);
        Path dir = pods.resolve("u-1/volumes/kubernetes.io~projected/kube-api-access-abcde");
        assertThat(Files.readString(dir.resolve("token"))).isEqualTo("token-1");
        assertThat(Files.readString(dir.resolve("ca.crt"))).isEqualTo(CA);
        assertThat(Files.readString(dir.resolve("namespace"))).isEqualTo("shop");
        assertThat(mode(dir.resolve("token").toRealPath())).isEqualTo(0644);
        assertThat(sources.tokenRequests).containsExactly("shop/builder aud=[] exp=3607 pod=web-0/u-1");
        assertThat(volumes.mounts(pod, container(pod), prepared, List.of())).containsExactly(
                new MountSpec(dir, "/var/run/secrets/kubernetes.io/serviceaccount", true, Propagation.PRIVATE, false));

        clock.advance(Duration.ofSeconds(3607 * 79 / 100));
        assertThat(volumes.refresh(pod)).isEmpty();
        assertThat(sources.tokensIssued.get()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(3607 * 2 / 100));
        assertThat(volumes.refresh(pod)).containsExactly("kube-api-access-abcde");
        assertThat(Files.readString(dir.resolve("token"))).isEqualTo("token-2");

        volumes.cleanup("u-1");
        assertThat(Files.exists(pods.resolve("u-1"))).isFalse();
        volumes.prepare(pod);
        assertThat(Files.readString(dir.resolve("token"))).as("a new pod dir gets a new token").isEqualTo("token-3");
    }

    @Test
    @DisplayName("hostPath type checks with kubelet's messages; the *OrCreate types create what is missing")
    void hostPathTypes() throws IOException {
        Path missing = tmp.resolve("missing");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertThatThrownBy(() -> volumes.prepare(hostPath(missing, "Directory")))
                .hasMessage("MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: " + missing + " is not a directory");
        assertThatThrownBy(() -> volumes.prepare(hostPath(file, "DirectoryOrCreate")))
                .hasMessageEndingWith("hostPath type check failed: " + file + " is not a directory");
        assertThatThrownBy(() -> volumes.prepare(hostPath(tmp, "File")))
                .hasMessageEndingWith("hostPath type check failed: " + tmp + " is not a file");
        assertThatThrownBy(() -> volumes.prepare(hostPath(file, "Socket")))
                .hasMessageEndingWith("hostPath type check failed: " + file + " is not a socket file");
        assertThatThrownBy(() -> volumes.prepare(hostPath(Path.of("/dev/null"), "BlockDevice")))
                .hasMessageEndingWith("hostPath type check failed: /dev/null is not a block device");
        assertThatThrownBy(() -> volumes.prepare(hostPath(file, "CharDevice")))
                .hasMessageEndingWith("hostPath type check failed: " + file + " is not a character device");
        volumes.prepare(hostPath(Path.of("/dev/null"), "CharDevice"));
        volumes.prepare(hostPath(missing, ""));

        Path sock = tmp.resolve("s.sock");
        try (ServerSocketChannel ch = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(sock));
            assertThat(volumes.prepare(hostPath(sock, "Socket")).volume("h").orElseThrow().hostPath()).isEqualTo(sock);
        }

        volumes.prepare(hostPath(tmp.resolve("made/deep"), "DirectoryOrCreate"));
        assertThat(mode(tmp.resolve("made/deep"))).isEqualTo(0755);
        volumes.prepare(hostPath(tmp.resolve("made/f"), "FileOrCreate"));
        assertThat(Files.isRegularFile(tmp.resolve("made/f"))).isTrue();
        ObjectNode pod = hostPath(tmp.resolve("made"), "Directory");
        pod.with("spec").putArray("containers").addObject().put("name", "c").putArray("volumeMounts").addObject()
                .put("name", "h").put("mountPath", "/data").put("mountPropagation", "HostToContainer");
        PreparedVolumes prepared = volumes.prepare(pod);
        assertThat(volumes.mounts(pod, container(pod), prepared, List.of()))
                .containsExactly(new MountSpec(tmp.resolve("made"), "/data", false, Propagation.HOST_TO_CONTAINER, false));
    }

    private static ObjectNode hostPath(Path p, String type) {
        return pod("volumes: [{name: h, hostPath: {path: '" + p + "', type: '" + type + "'}}]");
    }

    @Test
    @DisplayName("subPath and subPathExpr: created in the volume, expanded from env, refused when absolute, climbing or escaping")
    void subPaths() throws IOException {
        ObjectNode pod = pod("""
                containers:
                - name: c
                  securityContext: {privileged: false}
                  volumeMounts:
                  - {name: work, mountPath: /a, subPath: one/two}
                  - {name: work, mountPath: /b, subPathExpr: "logs/$(POD_NAME)", readOnly: true}
                volumes: [{name: work, emptyDir: {}}]
                """);
        PreparedVolumes prepared = volumes.prepare(pod);
        Path dir = pods.resolve("u-1/volumes/kubernetes.io~empty-dir/work");
        assertThat(mode(dir)).isEqualTo(0777);
        List<MountSpec> mounts = volumes.mounts(pod, container(pod), prepared, List.of(Map.entry("POD_NAME", "web-0")));
        assertThat(mounts).containsExactly(
                new MountSpec(dir.toRealPath().resolve("one/two"), "/a", false, Propagation.PRIVATE, false),
                new MountSpec(dir.toRealPath().resolve("logs/web-0"), "/b", true, Propagation.PRIVATE, false));
        assertThat(Files.isDirectory(dir.resolve("logs/web-0"))).isTrue();

        assertThatThrownBy(() -> volumes.mounts(pod, container(pod), prepared, List.of()))
                .isInstanceOf(PodConfigException.class).hasMessage("missing value for POD_NAME");
        assertThatThrownBy(() -> mountOne(prepared, "{name: work, mountPath: /x, subPath: ../../etc}"))
                .hasMessage("unable to provision SubPath `../../etc`: must not contain '..'");
        assertThatThrownBy(() -> mountOne(prepared, "{name: work, mountPath: /x, subPath: /etc}"))
                .hasMessage("error SubPath `/etc` must not be an absolute path");
        // A container could have left a symlink in its emptyDir pointing at the host.
        Files.createSymbolicLink(dir.resolve("evil"), Path.of("/etc"));
        assertThatThrownBy(() -> mountOne(prepared, "{name: work, mountPath: /x, subPath: evil}"))
                .hasMessageStartingWith("subpath \"/etc\" not within volume path");
        assertThatThrownBy(() -> mountOne(prepared, "{name: nope, mountPath: /x}"))
                .hasMessage("cannot find volume \"nope\" to mount into container \"c\"");
        assertThatThrownBy(() -> mountOne(prepared, "{name: work, mountPath: /x, mountPropagation: Bidirectional}"))
                .hasMessage("Bidirectional mount propagation is available only to privileged containers");
    }

    private List<MountSpec> mountOne(PreparedVolumes prepared, String mountYaml) {
        ObjectNode pod = pod("containers: [{name: c, volumeMounts: [" + mountYaml + "]}]");
        return volumes.mounts(pod, container(pod), prepared, List.of());
    }

    @Test
    @DisplayName("cleanup deletes the pod directory without following symlinks out of it")
    void cleanupStaysInside() throws IOException {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("keep"), "keep");
        volumes.prepare(pod("volumes: [{name: work, emptyDir: {}}]"));
        Path dir = pods.resolve("u-1/volumes/kubernetes.io~empty-dir/work");
        Files.createSymbolicLink(dir.resolve("link"), outside);
        volumes.cleanup("u-1");
        assertThat(Files.exists(pods.resolve("u-1"))).isFalse();
        assertThat(Files.readString(outside.resolve("keep"))).isEqualTo("keep");
        volumes.cleanup("u-1"); // nothing left: no error
    }

    @Test
    @DisplayName("emptyDir medium Memory is a tmpfs of sizeLimit, unmounted by cleanup (root only)")
    void tmpfsEmptyDir() throws IOException {
        assumeTrue(root(), "mounting tmpfs needs root");
        ObjectNode pod = pod("volumes: [{name: mem, emptyDir: {medium: Memory, sizeLimit: 2Mi}}]");
        volumes.prepare(pod);
        volumes.prepare(pod); // idempotent: not mounted twice
        Path dir = pods.resolve("u-1/volumes/kubernetes.io~empty-dir/mem").toAbsolutePath();
        List<String> lines = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(l -> l.split(" ")[4].equals(dir.toString())).toList();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains(" - tmpfs ").contains("size=2048k");
        assertThat(mode(dir)).isEqualTo(0777);
        Files.writeString(dir.resolve("f"), "in memory");
        volumes.cleanup("u-1");
        assertThat(HostMounts.mountPoints()).doesNotContain(dir.toString());
        assertThat(Files.exists(pods.resolve("u-1"))).isFalse();

        // Without sizeLimit the tmpfs is bounded by the pod's memory limits (KEP-1967).
        volumes.prepare(pod("""
                containers: [{name: a, resources: {limits: {memory: 1Mi}}}, {name: b, resources: {limits: {memory: 3Mi}}}]
                volumes: [{name: mem, emptyDir: {medium: Memory}}]
                """));
        assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(l -> l.split(" ")[4].equals(dir.toString())).toList()).singleElement().asString().contains("size=4096k");
        volumes.cleanup("u-1");
        assertThat(HostMounts.mountPoints()).doesNotContain(dir.toString());
    }

    @Test
    @DisplayName("a claim bound to a local-path hostPath PV binds (and makes) its directory; unbound claims and other types fail clearly")
    void claims() throws IOException {
        Path pvDir = tmp.resolve("storage/pvc-1_shop_data");
        sources.put("persistentvolumeclaims/shop/data", """
                metadata: {name: data, namespace: shop}
                spec: {volumeName: pvc-1}
                status: {phase: Bound}
                """);
        sources.put("persistentvolumes/pvc-1", "spec: {hostPath: {path: '" + pvDir + "', type: DirectoryOrCreate}}");
        sources.put("persistentvolumeclaims/shop/pending", "metadata: {name: pending}\nstatus: {phase: Pending}");
        ObjectNode pod = pod("""
                containers: [{name: c, volumeMounts: [{name: d, mountPath: /data}]}]
                volumes: [{name: d, persistentVolumeClaim: {claimName: data, readOnly: true}}]
                """);
        PreparedVolumes prepared = volumes.prepare(pod);
        assertThat(Files.isDirectory(pvDir)).isTrue();
        assertThat(volumes.mounts(pod, container(pod), prepared, List.of()))
                .containsExactly(new MountSpec(pvDir, "/data", true, Propagation.PRIVATE, false));

        assertThatThrownBy(() -> volumes.prepare(pod("volumes: [{name: d, persistentVolumeClaim: {claimName: pending}}]")))
                .hasMessage("MountVolume.SetUp failed for volume \"d\" : PVC shop/pending is not bound");
        assertThatThrownBy(() -> volumes.prepare(pod("volumes: [{name: d, persistentVolumeClaim: {claimName: none}}]")))
                .hasMessageEndingWith("persistentvolumeclaim \"none\" not found");
        assertThatThrownBy(() -> volumes.prepare(pod("volumes: [{name: n, nfs: {server: x, path: /}}]")))
                .hasMessageStartingWith("MountVolume.SetUp failed for volume \"n\" : volume type nfs is not supported by k3j");
    }
}
