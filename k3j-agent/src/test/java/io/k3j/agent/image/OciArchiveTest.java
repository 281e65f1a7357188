package io.k3j.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OciArchiveTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** One tar entry as read back by the test's own reader. */
    record Item(String name, char type, int mode, int uid, int gid, String link, byte[] content) { }

    @Test
    @DisplayName("an archive is an OCI layout whose index names the image fully and whose digests all check out")
    void layoutAndDigests() throws IOException {
        Path src = Files.createDirectories(dir.resolve("rootfs/app"));
        Files.writeString(src.resolve("hello.txt"), "hi\n");
        Files.createSymbolicLink(src.resolve("link"), Path.of("hello.txt"));
        OciArchive.Written w = OciArchive.image("docker.io/k3j/test:1.0")
                .layer(OciArchive.Layer.of(List.of(
                        OciArchive.Entry.directory("bin", 0755),
                        OciArchive.Entry.file("/bin/tool", 0755, "#!/bin/sh\necho tool\n".getBytes()),
                        OciArchive.Entry.symlink("bin/sh", "tool"),
                        OciArchive.Entry.directory("tmp", 01777))))
                .layer(OciArchive.Layer.fromDirectory(dir.resolve("rootfs")))
                .entrypoint("/bin/tool")
                .cmd("a", "b")
                .env("PATH=/bin", "X=1")
                .workingDir("/app")
                .writeTo(dir.resolve("out/test.oci.tar"));

        Map<String, Item> outer = read(Files.readAllBytes(w.archive()));
        assertThat(outer).containsKeys("oci-layout", "index.json");
        assertThat(JSON.readTree(outer.get("oci-layout").content()).path("imageLayoutVersion").asText()).isEqualTo("1.0.0");

        JsonNode index = JSON.readTree(outer.get("index.json").content());
        JsonNode desc = index.path("manifests").get(0);
        assertThat(desc.path("annotations").path("org.opencontainers.image.ref.name").asText()).isEqualTo("docker.io/k3j/test:1.0");
        assertThat(desc.path("digest").asText()).isEqualTo(w.manifestDigest());

        // every blob is stored under its own sha256 and has the size its descriptor claims
        for (Item i : outer.values()) {
            if (i.type() == '0' && i.name().startsWith("blobs/sha256/")) {
                assertThat(OciArchive.digest(i.content())).isEqualTo("sha256:" + i.name().substring("blobs/sha256/".length()));
            }
        }
        byte[] manifestBytes = blob(outer, w.manifestDigest());
        assertThat(desc.path("size").asLong()).isEqualTo(manifestBytes.length);
        JsonNode manifest = JSON.readTree(manifestBytes);
        assertThat(manifest.path("mediaType").asText()).isEqualTo(OciArchive.MEDIA_MANIFEST);
        assertThat(manifest.path("config").path("digest").asText()).isEqualTo(w.configDigest());
        JsonNode config = JSON.readTree(blob(outer, w.configDigest()));
        assertThat(config.path("architecture").asText()).isEqualTo("amd64");
        assertThat(config.path("os").asText()).isEqualTo("linux");
        assertThat(config.path("config").path("Entrypoint").toString()).isEqualTo("[\"/bin/tool\"]");
        assertThat(config.path("config").path("Cmd").toString()).isEqualTo("[\"a\",\"b\"]");
        assertThat(config.path("config").path("Env").toString()).isEqualTo("[\"PATH=/bin\",\"X=1\"]");
        assertThat(config.path("config").path("WorkingDir").asText()).isEqualTo("/app");

        // diff_ids are the digests of the uncompressed layers, layer digests those of the gzip blobs
        assertThat(manifest.path("layers")).hasSize(2);
        for (int n = 0; n < 2; n++) {
            JsonNode layer = manifest.path("layers").get(n);
            assertThat(layer.path("mediaType").asText()).isEqualTo(OciArchive.MEDIA_LAYER_GZIP);
            byte[] gz = blob(outer, layer.path("digest").asText());
            assertThat(layer.path("size").asLong()).isEqualTo(gz.length);
            byte[] tar = gunzip(gz);
            assertThat(config.path("rootfs").path("diff_ids").get(n).asText()).isEqualTo(OciArchive.digest(tar));
        }

        Map<String, Item> first = read(gunzip(blob(outer, manifest.path("layers").get(0).path("digest").asText())));
        assertThat(first.keySet()).containsExactly("bin/", "bin/tool", "bin/sh", "tmp/");
        assertThat(first.get("bin/tool").mode()).isEqualTo(0755);
        assertThat(new String(first.get("bin/tool").content(), StandardCharsets.UTF_8)).isEqualTo("#!/bin/sh\necho tool\n");
        assertThat(first.get("bin/sh").type()).isEqualTo('2');
        assertThat(first.get("bin/sh").link()).isEqualTo("tool");
        assertThat(first.get("tmp/").mode()).isEqualTo(01777);
        assertThat(first.values()).allSatisfy(i -> {
            assertThat(i.uid()).isZero();
            assertThat(i.gid()).isZero();
        });

        Map<String, Item> second = read(gunzip(blob(outer, manifest.path("layers").get(1).path("digest").asText())));
        assertThat(second.keySet()).containsExactly("app/", "app/hello.txt", "app/link");
        assertThat(second.get("app/link").type()).isEqualTo('2');
        assertThat(second.get("app/link").link()).isEqualTo("hello.txt");
        assertThat(new String(second.get("app/hello.txt").content(), StandardCharsets.UTF_8)).isEqualTo("hi\n");
    }

    @Test
    @DisplayName("the same content gives the same digests; no temp files are left next to the archive")
    void deterministic() throws IOException {
        OciArchive.Written a = TestImages.pause(dir.resolve("a"));
        OciArchive.Written b = TestImages.pause(dir.resolve("b"));
        assertThat(a.manifestDigest()).isEqualTo(b.manifestDigest());
        assertThat(a.layerDigests()).isEqualTo(b.layerDigests());
        try (var files = Files.list(dir.resolve("a"))) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("pause-3.10.oci.tar");
        }
    }

    @Test
    @DisplayName("the busybox image has an applet symlink for every busybox applet, passwd with nobody, and Cmd sh")
    void busybox() throws IOException {
        OciArchive.Written w = TestImages.busybox(dir);
        Map<String, Item> outer = read(Files.readAllBytes(w.archive()));
        JsonNode config = JSON.readTree(blob(outer, w.configDigest()));
        assertThat(config.path("config").path("Cmd").toString()).isEqualTo("[\"sh\"]");
        Map<String, Item> layer = read(gunzip(blob(outer, w.layerDigests().getFirst())));
        assertThat(layer.get("bin/busybox").content().length).isEqualTo(Files.size(TestImages.BUSYBOX_BINARY));
        for (String applet : TestImages.applets()) {
            if (applet.equals("busybox")) continue;
            assertThat(layer.get("bin/" + applet)).as(applet).isNotNull();
            assertThat(layer.get("bin/" + applet).link()).isEqualTo("busybox");
        }
        assertThat(layer).containsKey("bin/sh");
        assertThat(new String(layer.get("etc/passwd").content(), StandardCharsets.UTF_8)).contains("nobody:x:65534:65534:");
        assertThat(new String(layer.get("etc/group").content(), StandardCharsets.UTF_8)).contains("nobody:x:65534:");
        assertThat(layer.get("tmp/").mode()).isEqualTo(01777);
    }

    @Test
    void rejectsShortReferences() {
        assertThatThrownBy(() -> OciArchive.image("busybox:1.35")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("registry/repository:tag");
    }

    private static byte[] blob(Map<String, Item> outer, String digest) {
        Item i = outer.get("blobs/sha256/" + digest.substring("sha256:".length()));
        assertThat(i).as("blob " + digest).isNotNull();
        return i.content();
    }

    private static byte[] gunzip(byte[] gz) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    /** A ustar reader written for the test, independent of the writer. */
    private static Map<String, Item> read(byte[] tar) {
        Map<String, Item> items = new LinkedHashMap<>();
        int pos = 0;
        while (pos + 512 <= tar.length) {
            byte[] h = java.util.Arrays.copyOfRange(tar, pos, pos + 512);
            if (allZero(h)) break;
            long sum = 0;
            for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
            assertThat(octal(h, 148, 8)).as("checksum").isEqualTo(sum);
            assertThat(str(h, 257, 6)).isEqualTo("ustar");
            String name = str(h, 0, 100);
            String prefix = str(h, 345, 155);
            if (!prefix.isEmpty()) name = prefix + "/" + name;
            int size = (int) octal(h, 124, 12);
            byte[] content = java.util.Arrays.copyOfRange(tar, pos + 512, pos + 512 + size);
            items.put(name, new Item(name, (char) h[156], (int) octal(h, 100, 8), (int) octal(h, 108, 8),
                    (int) octal(h, 116, 8), str(h, 157, 100), content));
            pos += 512 + ((size + 511) / 512) * 512;
        }
        return items;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    private static String str(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) end++;
        return new String(h, off, end - off, StandardCharsets.UTF_8);
    }

    private static long octal(byte[] h, int off, int len) {
        String s = str(h, off, len).trim();
        return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    }
}
