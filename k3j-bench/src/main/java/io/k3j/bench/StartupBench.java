package io.k3j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Exec of {@code ./k3j server --disable-agent} to the first 200 from {@code /readyz} with the admin client
 * certificate: on a fresh data dir each run (PKI, database and system namespaces created), then restarting
 * on one existing data dir. One unmeasured run first warms the page cache and this JVM's TLS client.
 */
final class StartupBench {

    static final double TARGET_MS = 2000;

    private StartupBench() {
    }

    static void run(Env env, int runs) throws IOException, InterruptedException {
        System.out.println("== startup: exec -> /readyz 200 (admin cert), " + runs + " runs each; server JVM flags: " + env.describeJavaOpts());
        once(env, env.freshDir("startup-warmup"), true);
        double[] fresh = new double[runs];
        for (int i = 0; i < runs; i++) {
            fresh[i] = once(env, env.freshDir("startup-fresh"), true);
        }
        Path existing = env.freshDir("startup-existing");
        once(env, existing, false);
        double[] again = new double[runs];
        for (int i = 0; i < runs; i++) {
            again[i] = once(env, existing, false);
        }
        report("fresh data dir", fresh);
        report("existing data dir", again);
    }

    private static double once(Env env, Path dir, boolean fresh) throws IOException, InterruptedException {
        Path kc = dir.resolve("kubeconfig.yaml");
        if (fresh) {
            Files.deleteIfExists(kc);
        }
        Path log = dir.resolve("server-" + System.nanoTime() + ".log");
        try (K3jServer s = K3jServer.start(env.repo(), dir.resolve("data"), kc, Env.freePort(), env.javaOpts(), log)) {
            double ms = s.awaitReady(java.time.Duration.ofSeconds(60)) / 1e6;
            System.out.printf("  %s: %.0f ms, server CPU at ready %.2f s  [server's own steps: %s]%n", fresh ? "fresh" : "existing", ms, Machine.cpuNanos(s.pid()) / 1e9, steps(log));
            return ms;
        }
    }

    /** The server logs each startup step with its duration; quoting them shows where the time went. */
    private static String steps(Path log) throws IOException {
        List<String> out = new ArrayList<>();
        for (String l : Files.readAllLines(log)) {
            int i = l.indexOf("] ");
            if (i > 0 && l.endsWith(" ms)")) {
                out.add(l.substring(i + 2));
            }
        }
        return String.join("; ", out);
    }

    private static void report(String what, double[] ms) {
        double m = Stats.median(ms);
        System.out.printf("RESULT startup %s: median %.0f ms of %d (runs: %s), target <= %.0f ms, ratio %.2fx of target -> %s%n",
                what, m, ms.length, java.util.Arrays.toString(java.util.Arrays.stream(ms).mapToLong(Math::round).toArray()),
                TARGET_MS, m / TARGET_MS, m <= TARGET_MS ? "MET" : "MISSED");
    }
}
