package io.k3j.agent.pod;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.KubeClient;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sends pod statuses to the API server (kubelet's status manager): a strategic merge patch of pods/status carrying
 * metadata.uid as a guard, only when the status differs from what was last sent. While the server cannot be
 * reached the latest status per pod is kept and sent when it answers again; workers never wait for it.
 *
 * <p>Pods are patched concurrently (at most {@link #MAX_IN_FLIGHT} at once, one patch per pod at a time so a pod's
 * statuses land in order): a burst of pods starting together would otherwise queue behind one another's round trips.
 */
final class StatusManager implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(StatusManager.class.getName());
    static final int MAX_IN_FLIGHT = 8;
    private static final long RETRY_NANOS = 1_000_000_000L;

    private final KubeClient kube;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Thread sender;
    private volatile boolean closed;

    private static final class Entry {
        final String namespace;
        final String name;
        final String uid;
        ObjectNode wanted;
        String sent;
        /** A patch of this pod is on its way (guarded by the lock). */
        boolean sending;
        /** nanoTime of the last failed send, 0 after a success (guarded by the lock). */
        long failedAt;

        Entry(String namespace, String name, String uid) {
            this.namespace = namespace;
            this.name = name;
            this.uid = uid;
        }
    }

    StatusManager(KubeClient kube) {
        this.kube = kube;
        this.sender = Thread.ofVirtual().name("pod-status").start(this::run);
    }

    /** Sets the status to report for a pod; sent soon if it differs from the last one sent. */
    void set(String namespace, String name, String uid, ObjectNode status, String serverStatus) {
        lock.lock();
        try {
            Entry e = entries.computeIfAbsent(uid, u -> new Entry(namespace, name, uid));
            if (e.sent == null && serverStatus != null) e.sent = serverStatus;
            e.wanted = status;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Sends the pod's pending status now (before a deletion is finalized); false when it could not. */
    boolean flush(String uid) {
        Entry e;
        lock.lock();
        try {
            e = entries.get(uid);
            if (e == null) return true;
            while (e.sending) changed.await(); // after the patch in flight, so that this one lands last
            e.sending = true;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
        return sent(e, send(e));
    }

    /**
     * The pod's status as the server has it now. When it contradicts the last status sent on what kubelet owns
     * (phase, conditions, container states), that status is sent again, as kubelet's status manager reconciles
     * with the API server's copy.
     */
    void observed(String uid, com.fasterxml.jackson.databind.JsonNode serverStatus) {
        lock.lock();
        try {
            Entry e = entries.get(uid);
            if (e == null || e.sent == null || e.wanted == null) return;
            if (agrees(Json.parseObject(e.sent.getBytes(java.nio.charset.StandardCharsets.UTF_8)), serverStatus)) return;
            e.sent = null;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the server's status carries what was sent: phase, each sent condition's status, each container's state. */
    static boolean agrees(com.fasterxml.jackson.databind.JsonNode sent, com.fasterxml.jackson.databind.JsonNode server) {
        if (!sent.path("phase").asText().equals(server.path("phase").asText())) return false;
        for (com.fasterxml.jackson.databind.JsonNode c : sent.path("conditions")) {
            String type = c.path("type").asText();
            String theirs = null;
            for (com.fasterxml.jackson.databind.JsonNode sc : server.path("conditions")) {
                if (sc.path("type").asText().equals(type)) theirs = sc.path("status").asText();
            }
            if (!c.path("status").asText().equals(theirs)) return false;
        }
        for (String list : new String[] {"initContainerStatuses", "containerStatuses"}) {
            for (com.fasterxml.jackson.databind.JsonNode c : sent.path(list)) {
                com.fasterxml.jackson.databind.JsonNode theirs = null;
                for (com.fasterxml.jackson.databind.JsonNode sc : server.path(list)) {
                    if (sc.path("name").asText().equals(c.path("name").asText())) theirs = sc;
                }
                if (theirs == null || theirs.path("ready").asBoolean() != c.path("ready").asBoolean()
                        || !theirs.path("containerID").asText().equals(c.path("containerID").asText())
                        || theirs.path("restartCount").asInt() != c.path("restartCount").asInt()) {
                    return false;
                }
            }
        }
        return true;
    }

    void forget(String uid) {
        lock.lock();
        try {
            entries.remove(uid);
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        Semaphore permits = new Semaphore(MAX_IN_FLIGHT);
        lock.lock();
        try {
            while (!closed) {
                boolean retrying = false;
                for (Entry e : entries.values()) {
                    if (e.sending || e.wanted == null || Json.string(e.wanted).equals(e.sent)) continue;
                    if (e.failedAt != 0 && System.nanoTime() - e.failedAt < RETRY_NANOS) {
                        retrying = true;
                        continue;
                    }
                    if (!permits.tryAcquire()) break; // a finishing send signals and the scan resumes
                    e.sending = true;
                    Thread.ofVirtual().name("pod-status-send").start(() -> {
                        boolean ok = false;
                        try {
                            ok = send(e);
                        } finally {
                            permits.release(); // before the signal: the woken scan must find the permit free
                            sent(e, ok);
                        }
                    });
                }
                changed.await(retrying ? 1000 : 5000, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException ex) {
            // closed
        } finally {
            lock.unlock();
        }
    }

    /** Ends a send of {@code e}: the next one may start, and a failure is retried after a while. */
    private boolean sent(Entry e, boolean ok) {
        lock.lock();
        try {
            e.sending = false;
            e.failedAt = ok ? 0 : System.nanoTime();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return ok;
    }

    private boolean send(Entry e) {
        ObjectNode wanted;
        lock.lock();
        try {
            wanted = e.wanted;
        } finally {
            lock.unlock();
        }
        if (wanted == null) return true;
        String body = Json.string(wanted);
        if (body.equals(e.sent)) return true;
        ObjectNode patch = Json.object();
        patch.putObject("metadata").put("uid", e.uid);
        patch.set("status", wanted);
        try {
            kube.patch("/api/v1/namespaces/" + e.namespace + "/pods/" + e.name + "/status", "application/strategic-merge-patch+json",
                    Json.string(patch));
            lock.lock();
            try {
                e.sent = body;
            } finally {
                lock.unlock();
            }
            return true;
        } catch (KubeClient.Unreachable ex) {
            return false;
        } catch (ApiException ex) {
            if (ex.code() == 404 || ex.code() == 409 || ex.code() == 422) {
                // the pod is gone or is another pod of the same name now: nothing to report to
                LOG.log(System.Logger.Level.DEBUG, "status of {0}/{1} not sent: {2}", e.namespace, e.name, ex.getMessage());
                lock.lock();
                try {
                    e.sent = body;
                } finally {
                    lock.unlock();
                }
                return true;
            }
            LOG.log(System.Logger.Level.WARNING, "status of " + e.namespace + "/" + e.name + " not sent: " + ex.getMessage());
            return false;
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.WARNING, "status of " + e.namespace + "/" + e.name + " not sent", ex);
            return false;
        }
    }

    @Override
    public void close() {
        closed = true;
        sender.interrupt();
        try {
            sender.join(2000);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
