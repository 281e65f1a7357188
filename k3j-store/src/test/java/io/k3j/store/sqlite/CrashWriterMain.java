package io.k3j.store.sqlite;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.k3j.store.KeyValue;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Child process of {@link SqliteCrashTest}: writes to a store from several threads until it is killed, and
 * prints every acknowledged write to stdout, one line each, after the store call returned.
 */
public final class CrashWriterMain {
    private CrashWriterMain() {}

    /** A value of about 1 KiB that can be recomputed from the key and version. */
    static String valueFor(String key, int version) {
        return (key + "#" + version + ";").repeat(1024 / (key.length() + 4) + 1);
    }

    public static void main(String[] args) throws Exception {
        Path db = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, UTF_8);
        SqliteStore store = SqliteStore.open(db);
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread.ofPlatform().start(() -> {
                for (int i = 0; ; i++) {
                    String key = "/crash/" + thread + "/" + i;
                    KeyValue kv = store.create(key, valueFor(key, 1).getBytes(UTF_8));
                    ack(out, "CREATED " + key);
                    if (i % 3 == 0) {
                        store.update(key, valueFor(key, 2).getBytes(UTF_8), kv.modRevision());
                        ack(out, "UPDATED " + key);
                    }
                }
            });
        }
        Thread.currentThread().join(); // runs until killed
    }

    private static void ack(PrintStream out, String line) {
        synchronized (out) {
            out.print(line + " .\n"); // the trailing " ." tells a complete line from one cut by the kill
            out.flush();
        }
    }
}
