package io.k3j.bench;

import java.util.Map;

/**
 * The CPU a server process and this JVM (the load generator, by thread) used over one measured run: started just
 * before the run, ended just after it and before the generator's threads exit, so its event loop is still counted by
 * name.
 */
final class CpuWindow {

    private static final long SELF = ProcessHandle.current().pid();

    private final long pid;
    private final long server0;
    private final Map<String, Long> serverThreads0;
    private final long self0;
    private final Map<String, Long> selfThreads0;
    private long server;
    private Map<String, Long> serverThreads;
    private long self;
    private Map<String, Long> selfThreads;

    private CpuWindow(long pid) {
        this.pid = pid;
        this.server0 = Machine.cpuNanos(pid);
        this.serverThreads0 = Machine.threadCpuNanos(pid);
        this.selfThreads0 = Machine.threadCpuNanosByName(SELF);
        this.self0 = Machine.selfCpuNanos();
    }

    /** Starts a window on the server process {@code pid}. */
    static CpuWindow start(long pid) {
        return new CpuWindow(pid);
    }

    /** Ends the window (the first call counts). */
    void end() {
        if (selfThreads != null) {
            return;
        }
        self = Machine.selfCpuNanos() - self0;
        server = Machine.cpuNanos(pid) - server0;
        serverThreads = Machine.threadCpuNanos(pid);
        selfThreads = Machine.threadCpuNanosByName(SELF);
    }

    long serverNanos() {
        return server;
    }

    long selfNanos() {
        return self;
    }

    /** The server's CPU by thread group, us per operation. */
    String serverThreads(int per) {
        StringBuilder b = new StringBuilder();
        serverThreads.forEach((group, nanos) -> b.append(String.format(" %s %.0f;", group,
                (nanos - serverThreads0.getOrDefault(group, 0L)) / 1e3 / per)));
        return b.toString().strip();
    }

    /** This JVM's CPU by thread name, us per operation (JIT compilers, the generator's event loop, GC...). */
    String selfThreads(int per) {
        return Machine.threadCpuDeltaMicros(selfThreads0, selfThreads, per);
    }
}
