package io.k3j.store.sqlite;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.store.KeyValue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteCrashTest {

    @TempDir
    Path dir;

    @Test
    @DisplayName("every write acknowledged before kill -9 is there after reopening")
    void killNine() throws Exception {
        Path db = dir.resolve("state.db");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                CrashWriterMain.class.getName(), db.toString(), "8")
                .redirectError(dir.resolve("child.err").toFile())
                .start();

        // keep reading while the child runs, so it never blocks on a full pipe
        Map<String, Integer> acked = new HashMap<>();
        CountDownLatch enough = new CountDownLatch(2000);
        Thread reader = Thread.ofPlatform().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.endsWith(" .")) {
                        continue; // cut short by the kill: never acknowledged as a whole
                    }
                    String[] parts = line.split(" ");
                    synchronized (acked) {
                        acked.merge(parts[1], parts[0].equals("UPDATED") ? 2 : 1, Math::max);
                    }
                    enough.countDown();
                }
            } catch (java.io.IOException e) {
                // the pipe breaks when the child dies
            }
        });

        boolean loaded = enough.await(8, TimeUnit.SECONDS);
        child.destroyForcibly(); // SIGKILL on Unix
        assertThat(child.waitFor(5, TimeUnit.SECONDS)).isTrue();
        reader.join(5000);
        assertThat(loaded).as("child acknowledged 2000 writes (stderr: %s)",
                Files.exists(dir.resolve("child.err")) ? Files.readString(dir.resolve("child.err")) : "").isTrue();

        try (SqliteStore store = SqliteStore.open(db)) {
            for (Map.Entry<String, Integer> e : acked.entrySet()) {
                KeyValue kv = store.get(e.getKey()).orElse(null);
                assertThat(kv).as("acknowledged key %s", e.getKey()).isNotNull();
                // an update may have landed without its acknowledgement reaching us: version >= acknowledged
                String v = new String(kv.value(), UTF_8);
                int version = v.equals(CrashWriterMain.valueFor(e.getKey(), 2)) ? 2
                        : v.equals(CrashWriterMain.valueFor(e.getKey(), 1)) ? 1 : -1;
                assertThat(version).as("value of %s", e.getKey()).isGreaterThanOrEqualTo(e.getValue());
            }
            // the store is whole: revisions are dense and it takes new writes
            long rev = store.currentRevision();
            assertThat(store.range("/crash/", null, 0, 0).kvs()).hasSizeGreaterThanOrEqualTo(acked.size());
            assertThat(store.range("", null, 1, 0).kvs()).hasSize(1);
            KeyValue next = store.create("/after-crash", "x".getBytes(UTF_8));
            assertThat(next.modRevision()).isEqualTo(rev + 1);
            List<String> keys = store.range("/crash/", null, 0, 0).kvs().stream().map(KeyValue::key).toList();
            assertThat(keys).doesNotHaveDuplicates();
        }
        System.out.println("crash test: " + acked.size() + " acknowledged keys survived kill -9");
    }
}
