package io.k3j.store.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.k3j.store.CompactedException;
import io.k3j.store.Event;
import io.k3j.store.KeyValue;
import io.k3j.store.StoreException;
import io.k3j.store.Watch;
import io.k3j.store.WatchListener;
import io.k3j.store.etcd.EtcdProto.WatchResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One store watch as one etcd Watch stream of its own (an HTTP/2 stream: a slow listener holds back no other
 * watch). Responses are decoded on the event loop and queued; a virtual thread hands them to the listener, one
 * revision per call. When the stream breaks (the member died), the watch opens a new one, on whichever member the
 * client reaches, from the revision after the last one received, so the listener sees no gap and no repeat; etcd's
 * progress notifications move that point forward on quiet prefixes, so a resume does not start from a revision
 * compacted since.
 */
final class EtcdWatch implements Watch {
    private static final System.Logger LOG = System.getLogger(EtcdWatch.class.getName());
    /** Revisions waiting for the listener before the watch gives up on it (the Store contract's "fell behind"). */
    static final int QUEUE_CAPACITY = 50_000;
    private static final Object STOP = new Object();

    private final EtcdStore store;
    private final GrpcClient client;
    private final byte[] key;
    private final byte[] rangeEnd;
    private final WatchListener listener;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final ReentrantLock delivering = new ReentrantLock();
    private final Object streamLock = new Object();
    private Thread deliveryThread;
    private GrpcClient.Call call;
    private Stream current;
    /** Our revision of the first change not yet received; touched on the event loop, read on resume. */
    private volatile long next;
    private volatile boolean closed;
    private volatile boolean failed;

    EtcdWatch(EtcdStore store, GrpcClient client, byte[] key, byte[] rangeEnd, long start, WatchListener listener) {
        this.store = store;
        this.client = client;
        this.key = key;
        this.rangeEnd = rangeEnd;
        this.next = start;
        this.listener = listener;
    }

    /** Opens the stream and waits until etcd confirms the watch. */
    void start() {
        deliveryThread = Thread.ofVirtual().name("etcd-watch").start(this::deliver);
        Stream s = open();
        try {
            s.created.get(EtcdStore.CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof StoreException se) throw se;
            throw new StoreException("watching " + describe() + ": " + cause.getMessage(), cause);
        } catch (TimeoutException e) {
            throw new StoreException("watching " + describe() + ": etcd did not confirm the watch within " + EtcdStore.CALL_TIMEOUT_MILLIS + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("watching " + describe() + ": interrupted");
        }
    }

    private Stream open() {
        Stream s = new Stream();
        synchronized (streamLock) {
            if (closed || failed) {
                s.created.completeExceptionally(new StoreException("watch of " + describe() + " ended"));
                return s;
            }
            current = s;
        }
        // not under streamLock: opening a stream waits for the event loop, which takes that lock in fail()
        GrpcClient.Call c;
        try {
            // "hasleader": etcd ends the stream when its member loses the leader, instead of leaving it silent
            c = client.stream(EtcdProto.WATCH, 0, s, "hasleader", "true");
        } catch (GrpcException e) {
            s.created.completeExceptionally(new StoreException("watching " + describe() + ": " + e.getMessage(), e));
            return s;
        }
        synchronized (streamLock) {
            if (closed || failed || current != s) {
                c.cancel();
                s.created.completeExceptionally(new StoreException("watch of " + describe() + " ended"));
                return s;
            }
            call = c;
        }
        c.send(EtcdProto.watchCreate(key, rangeEnd, next + 1).toByteArray(), false);
        return s;
    }

    /** Handles one stream's responses on the event loop; a replaced stream's late calls are ignored. */
    private final class Stream implements GrpcClient.StreamListener {
        final CompletableFuture<Void> created = new CompletableFuture<>();

        @Override
        public void onMessage(byte[] message) {
            if (current != this || closed || failed) return;
            WatchResponse r = EtcdProto.watchResponse(new ProtoReader(message));
            if (r.compactRevision() != 0) {
                store.noteCompacted(r.compactRevision());
                fail(new CompactedException(next, r.compactRevision()));
                return;
            }
            if (r.canceled()) {
                fail(new StoreException("etcd cancelled the watch of " + describe() + ": " + r.cancelReason()));
                return;
            }
            if (r.created()) {
                created.complete(null);
                return;
            }
            if (r.events().isEmpty()) {
                // a progress notification: every change up to header.revision was sent
                next = Math.max(next, r.header().revision());
                return;
            }
            List<Event> batch = new ArrayList<>();
            long batchRevision = -1;
            for (EtcdProto.Event e : r.events()) {
                Event ev = event(e);
                if (ev.revision() != batchRevision && !batch.isEmpty()) {
                    enqueue(batch);
                    batch = new ArrayList<>();
                }
                batchRevision = ev.revision();
                batch.add(ev);
            }
            enqueue(batch);
            next = batchRevision + 1;
        }

        @Override
        public void onClose(GrpcException error) {
            if (current != this || closed || failed) return;
            if (error != null && error.code() == GrpcException.UNAVAILABLE && error.description().startsWith("etcdserver:")) {
                // e.g. "etcdserver: no leader": this member can't serve the watch, another may
                GrpcClient.Call c = call;
                if (c != null) client.failover(c.endpoint);
            }
            if (!created.isDone()) {
                created.completeExceptionally(error == null
                        ? new StoreException("watching " + describe() + ": etcd ended the stream")
                        : new StoreException("watching " + describe() + ": " + error.getMessage(), error));
                return;
            }
            if (store.isClosed()) return;
            LOG.log(System.Logger.Level.DEBUG, () -> "etcd watch of " + describe() + " broke (" + error + "), resuming at " + next);
            Thread.ofVirtual().name("etcd-watch-resume").start(EtcdWatch.this::resume);
        }
    }

    /** Opens a new stream from where the broken one stopped, retrying while no member can be reached. */
    private void resume() {
        long backoff = 50;
        while (!closed && !failed && !store.isClosed()) {
            Stream s = open();
            try {
                s.created.get(EtcdStore.CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                return; // later breaks resume again from the stream's own onClose
            } catch (TimeoutException e) {
                // the member took the stream but does not answer (hung): try another one
                GrpcClient.Call c = call;
                if (c != null) client.failover(c.endpoint);
            } catch (ExecutionException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "etcd watch of " + describe() + ": resume failed: " + e);
            } catch (InterruptedException e) {
                return;
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return;
            }
            backoff = Math.min(backoff * 2, 1000);
        }
    }

    private void enqueue(List<Event> batch) {
        if (queue.size() >= QUEUE_CAPACITY) {
            fail(new StoreException("watch of " + describe() + " fell behind: " + QUEUE_CAPACITY + " revisions wait for its listener"));
            return;
        }
        queue.add(List.copyOf(batch));
    }

    /** Ends the watch with {@code error}: the listener gets it after what was queued before, then nothing. */
    private void fail(Throwable error) {
        synchronized (streamLock) {
            if (failed || closed) return;
            failed = true;
            if (call != null) call.cancel();
        }
        queue.add(error);
        store.removed(this);
    }

    void storeClosed() {
        fail(new StoreException("etcd store closed"));
    }

    @SuppressWarnings("unchecked")
    private void deliver() {
        try {
            while (true) {
                Object item = queue.take();
                if (item == STOP) return;
                delivering.lock();
                try {
                    if (closed) return;
                    if (item instanceof Throwable t) {
                        closed = true;
                        listener.onError(t);
                        return;
                    }
                    listener.onEvents((List<Event>) item);
                } catch (Throwable t) {
                    // a listener that throws ends its watch with that exception, as the other backends do
                    fail(t);
                } finally {
                    delivering.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        synchronized (streamLock) {
            if (closed) return;
            closed = true;
            if (call != null && !failed) {
                // tell etcd, then reset the stream: one watch per stream, so nothing else is on it
                call.send(EtcdProto.watchCancel(0).toByteArray(), false);
                call.cancel();
            }
        }
        store.removed(this);
        queue.add(STOP);
        if (Thread.currentThread() != deliveryThread) {
            // a listener call under way finishes before close returns
            delivering.lock();
            delivering.unlock();
        }
    }

    private String describe() {
        return new String(key, UTF_8) + (rangeEnd == null ? "" : "*");
    }

    /** An etcd event in the Store's terms: a deletion carries the key's last value and its createRevision. */
    private static Event event(EtcdProto.Event e) {
        KeyValue prev = e.prevKv() == null ? null : EtcdStore.kv(e.prevKv());
        if (e.type() == EtcdProto.EVENT_DELETE) {
            KeyValue kv = new KeyValue(new String(e.kv().key(), UTF_8), prev == null ? new byte[0] : prev.value(),
                    prev == null ? 0 : prev.createRevision(), e.kv().modRevision() - 1);
            return new Event(Event.Type.DELETE, kv, prev);
        }
        return new Event(Event.Type.PUT, EtcdStore.kv(e.kv()), prev);
    }
}
