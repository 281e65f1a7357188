package io.k3j.store.memory;

import io.k3j.store.CompactedException;
import io.k3j.store.DeleteResult;
import io.k3j.store.Event;
import io.k3j.store.FutureRevisionException;
import io.k3j.store.KeyExistsException;
import io.k3j.store.KeyNotFoundException;
import io.k3j.store.KeyValue;
import io.k3j.store.RangeResult;
import io.k3j.store.RevisionConflictException;
import io.k3j.store.Store;
import io.k3j.store.StoreException;
import io.k3j.store.Watch;
import io.k3j.store.WatchListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A store held in memory: the whole event log is kept until compacted. Meant for tests of the layers above
 * the store and for throwaway servers; it is not durable.
 */
public final class MemoryStore implements Store {
    /** The data, which may outlive one store object (see {@link #reopen()}). */
    private static final class State {
        final NavigableMap<String, KeyValue> live = new TreeMap<>();
        final List<Event> log = new ArrayList<>(); // every event from compactRevision on, in revision order
        long revision;
        long compactRevision;
    }

    private final State state;
    private final NavigableMap<String, KeyValue> live;
    private final List<Event> log;
    private final List<MemoryWatch> watches = new CopyOnWriteArrayList<>();
    private long revision;
    private long compactRevision;
    private boolean closed;

    public MemoryStore() {
        this(new State());
    }

    private MemoryStore(State state) {
        this.state = state;
        this.live = state.live;
        this.log = state.log;
        this.revision = state.revision;
        this.compactRevision = state.compactRevision;
    }

    /** A new store over this one's data, as if reopened from disk; call after {@link #close()}. */
    public MemoryStore reopen() {
        synchronized (this) {
            state.revision = revision;
            state.compactRevision = compactRevision;
        }
        return new MemoryStore(state);
    }

    @Override
    public synchronized long currentRevision() {
        return revision;
    }

    @Override
    public synchronized long compactRevision() {
        return compactRevision;
    }

    @Override
    public synchronized Optional<KeyValue> get(String key) {
        ensureOpen();
        return Optional.ofNullable(live.get(key));
    }

    @Override
    public synchronized RangeResult range(String prefix, String startKey, long atRevision, int limit) {
        ensureOpen();
        if (atRevision > revision) throw new FutureRevisionException(atRevision, revision);
        if (atRevision != 0 && atRevision < compactRevision) throw new CompactedException(atRevision, compactRevision);
        NavigableMap<String, KeyValue> view = atRevision == 0 || atRevision == revision ? live : stateAt(atRevision);
        String from = startKey == null || startKey.compareTo(prefix) < 0 ? prefix : startKey;
        List<KeyValue> out = new ArrayList<>();
        boolean more = false;
        for (Map.Entry<String, KeyValue> e : view.tailMap(from, true).entrySet()) {
            if (!e.getKey().startsWith(prefix)) break;
            if (limit > 0 && out.size() == limit) {
                more = true;
                break;
            }
            out.add(e.getValue());
        }
        return new RangeResult(out, atRevision == 0 ? revision : atRevision, more);
    }

    private NavigableMap<String, KeyValue> stateAt(long rev) {
        NavigableMap<String, KeyValue> state = new TreeMap<>(live);
        for (int i = log.size() - 1; i >= 0 && log.get(i).revision() > rev; i--) {
            Event e = log.get(i);
            if (e.prevKv() == null) state.remove(e.kv().key());
            else state.put(e.kv().key(), e.prevKv());
        }
        return state;
    }

    @Override
    public synchronized long count(String prefix) {
        ensureOpen();
        return live.subMap(prefix, true, prefix + Character.MAX_VALUE, true).size();
    }

    @Override
    public KeyValue create(String key, byte[] value) {
        Event event;
        synchronized (this) {
            ensureOpen();
            if (live.containsKey(key)) throw new KeyExistsException(key);
            KeyValue kv = new KeyValue(key, value.clone(), revision + 1, revision + 1);
            event = append(new Event(Event.Type.PUT, kv, null));
        }
        return event.kv();
    }

    @Override
    public KeyValue update(String key, byte[] value, long expectedModRevision) {
        Event event;
        synchronized (this) {
            ensureOpen();
            KeyValue current = live.get(key);
            if (current == null) throw new KeyNotFoundException(key);
            if (current.modRevision() != expectedModRevision) throw new RevisionConflictException(current, expectedModRevision);
            KeyValue kv = new KeyValue(key, value.clone(), current.createRevision(), revision + 1);
            event = append(new Event(Event.Type.PUT, kv, current));
        }
        return event.kv();
    }

    @Override
    public DeleteResult delete(String key, long expectedModRevision) {
        Event event;
        synchronized (this) {
            ensureOpen();
            KeyValue current = live.get(key);
            if (current == null) throw new KeyNotFoundException(key);
            if (expectedModRevision != 0 && current.modRevision() != expectedModRevision) {
                throw new RevisionConflictException(current, expectedModRevision);
            }
            KeyValue tomb = new KeyValue(key, current.value(), current.createRevision(), revision + 1);
            event = append(new Event(Event.Type.DELETE, tomb, current));
        }
        return new DeleteResult(event.prevKv(), event.revision());
    }

    /** Called with the lock held: records the event, then hands it to every matching watch's queue. */
    private Event append(Event event) {
        revision = event.revision();
        if (event.type() == Event.Type.DELETE) live.remove(event.kv().key());
        else live.put(event.kv().key(), event.kv());
        log.add(event);
        for (MemoryWatch w : watches) w.offer(event);
        return event;
    }

    @Override
    public synchronized Watch watch(String prefix, long afterRevision, WatchListener listener) {
        ensureOpen();
        if (afterRevision + 1 < compactRevision) throw new CompactedException(afterRevision + 1, compactRevision);
        MemoryWatch w = new MemoryWatch(prefix, listener, afterRevision);
        for (Event e : log) {
            if (e.revision() > afterRevision) w.offer(e);
        }
        watches.add(w);
        Thread.ofVirtual().name("memory-watch").start(w);
        return w;
    }

    @Override
    public synchronized long compact(long rev) {
        ensureOpen();
        if (rev > revision) throw new FutureRevisionException(rev, revision);
        if (rev <= compactRevision) return compactRevision;
        // the event at the compact revision stays, so a watch from rev - 1 still works
        log.removeIf(e -> e.revision() < rev);
        compactRevision = rev;
        return compactRevision;
    }

    @Override
    public void close() {
        List<MemoryWatch> toEnd;
        synchronized (this) {
            if (closed) return;
            closed = true;
            toEnd = List.copyOf(watches);
        }
        for (MemoryWatch w : toEnd) w.end(new StoreException("store closed"));
    }

    private void ensureOpen() {
        if (closed) throw new StoreException("store closed");
    }

    private final class MemoryWatch implements Watch, Runnable {
        private static final Event END = new Event(Event.Type.PUT, new KeyValue("", new byte[0], 0, 0), null);
        private final String prefix;
        private final WatchListener listener;
        private final LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>();
        private final long afterRevision;
        private volatile Throwable error;

        MemoryWatch(String prefix, WatchListener listener, long afterRevision) {
            this.prefix = prefix;
            this.listener = listener;
            this.afterRevision = afterRevision;
        }

        void offer(Event e) {
            if (e.kv().key().startsWith(prefix) && e.revision() > afterRevision) queue.add(e);
        }

        void end(Throwable cause) {
            error = cause;
            watches.remove(this);
            queue.add(END);
        }

        @Override
        public void run() {
            try {
                while (true) {
                    Event first = queue.take();
                    if (first == END) break;
                    List<Event> batch = new ArrayList<>();
                    batch.add(first);
                    for (Event next = queue.peek(); next != null && next != END && next.revision() == first.revision(); next = queue.peek()) {
                        batch.add(queue.poll());
                    }
                    listener.onEvents(batch);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (error != null) listener.onError(error);
        }

        @Override
        public void close() {
            end(null);
        }
    }
}
