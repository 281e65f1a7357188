package io.k3j.bench;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** Every process a benchmark started, stopped by its PID when it is done or when the runner exits. */
final class Processes {

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Process p : LIVE) {
                p.destroyForcibly();
            }
        }, "stop-benchmark-processes"));
    }

    private Processes() {
    }

    static void track(Process p) {
        LIVE.add(p);
    }

    /** The caller stopped {@code p} itself. */
    static void forget(Process p) {
        LIVE.remove(p);
    }

    /** SIGTERM, then SIGKILL if the process is still there after 20 s. */
    static void stop(Process p) throws InterruptedException {
        if (p.isAlive()) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
        LIVE.remove(p);
    }
}
