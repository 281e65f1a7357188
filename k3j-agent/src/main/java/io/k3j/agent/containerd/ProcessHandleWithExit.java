package io.k3j.agent.containerd;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/** A child's ProcessHandle that also knows its exit code (a plain ProcessHandle forgets it). */
final class ProcessHandleWithExit implements ProcessHandle {
    private final Process process;
    private final ProcessHandle handle;

    ProcessHandleWithExit(Process process) {
        this.process = process;
        this.handle = process.toHandle();
    }

    int exitCode() {
        return process.isAlive() ? -1 : process.exitValue();
    }

    @Override public long pid() { return handle.pid(); }
    @Override public Optional<ProcessHandle> parent() { return handle.parent(); }
    @Override public Stream<ProcessHandle> children() { return handle.children(); }
    @Override public Stream<ProcessHandle> descendants() { return handle.descendants(); }
    @Override public Info info() { return handle.info(); }
    @Override public CompletableFuture<ProcessHandle> onExit() { return process.onExit().thenApply(p -> this); }
    @Override public boolean supportsNormalTermination() { return handle.supportsNormalTermination(); }
    @Override public boolean destroy() { return handle.destroy(); }
    @Override public boolean destroyForcibly() { return handle.destroyForcibly(); }
    @Override public boolean isAlive() { return process.isAlive(); }
    @Override public int hashCode() { return handle.hashCode(); }
    @Override public boolean equals(Object o) { return o instanceof ProcessHandle h && h.pid() == pid(); }
    @Override public int compareTo(ProcessHandle o) { return Long.compare(pid(), o.pid()); }
}
