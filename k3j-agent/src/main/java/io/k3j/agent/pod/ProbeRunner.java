package io.k3j.agent.pod;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One probe of one container instance on its own virtual thread (kubelet's probe worker): waits initialDelaySeconds
 * after the container started, runs every periodSeconds, and turns results into a state only after successThreshold
 * successes or failureThreshold failures in a row. A change of state wakes the pod worker.
 */
final class ProbeRunner implements AutoCloseable {
    enum Kind {
        LIVENESS("Liveness"), READINESS("Readiness"), STARTUP("Startup");

        final String title;

        Kind(String title) {
            this.title = title;
        }
    }

    /** What the runner needs from its pod worker. */
    interface Host {
        /** Whether this probe may run now (liveness and readiness wait for the startup probe). */
        boolean mayRun(Kind kind);

        String podIP();

        void unhealthy(Kind kind, String output);

        void changed();
    }

    private final Kind kind;
    private final JsonNode probe;
    private final JsonNode container;
    private final String containerId;
    private final Prober prober;
    private final Host host;
    private final long startedNanos;
    private final Thread thread;
    private volatile boolean closed;
    /** null: not known yet. */
    private volatile Boolean result;
    private int successes;
    private int failures;

    ProbeRunner(Kind kind, JsonNode probe, JsonNode container, String containerId, Prober prober, Host host, Boolean initial, long startedNanos) {
        this.kind = kind;
        this.probe = probe;
        this.container = container;
        this.containerId = containerId;
        this.prober = prober;
        this.host = host;
        this.result = initial;
        this.startedNanos = startedNanos;
        this.thread = Thread.ofVirtual().name("probe-" + kind + "-" + container.path("name").asText()).start(this::run);
    }

    Kind kind() {
        return kind;
    }

    /** The probe's state: true/false, or null before the first decision. */
    Boolean result() {
        return result;
    }

    private void run() {
        long delay = probe.path("initialDelaySeconds").asLong(0) * 1_000_000_000L - (System.nanoTime() - startedNanos);
        long period = Math.max(1, probe.path("periodSeconds").asLong(10)) * 1000;
        int timeout = Math.max(1, probe.path("timeoutSeconds").asInt(1));
        int successThreshold = Math.max(1, probe.path("successThreshold").asInt(1));
        int failureThreshold = Math.max(1, probe.path("failureThreshold").asInt(3));
        try {
            if (delay > 0) Thread.sleep(delay / 1_000_000L);
            while (!closed) {
                if (host.mayRun(kind)) {
                    String ip = host.podIP();
                    Prober.Result r = prober.run(probe, container, containerId, ip, timeout);
                    if (closed) return;
                    if (r.success()) {
                        failures = 0;
                        successes++;
                        if (successes >= successThreshold && !Boolean.TRUE.equals(result)) set(true);
                        if (kind == Kind.STARTUP && Boolean.TRUE.equals(result)) return; // startup probes stop once they pass
                    } else {
                        successes = 0;
                        failures++;
                        host.unhealthy(kind, r.output());
                        if (failures >= failureThreshold && !Boolean.FALSE.equals(result)) {
                            set(false);
                            // liveness and startup failures get the container killed; this runner ends with it
                            if (kind != Kind.READINESS) return;
                        }
                    }
                }
                Thread.sleep(period);
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    private void set(boolean value) {
        result = value;
        host.changed();
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
