package io.k3j.controllers.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock that stands still until the test moves it ({@link #advance}, {@link #set}). Controllers and work
 * queues read it, so a test jumps an hour ahead instead of sleeping. Thread-safe; all zones share the instant.
 */
public final class FakeClock extends Clock {
    private final AtomicReference<Instant> now;
    private final ZoneId zone;

    private FakeClock(AtomicReference<Instant> now, ZoneId zone) {
        this.now = now;
        this.zone = zone;
    }

    public FakeClock(Instant start) {
        this(new AtomicReference<>(start), ZoneOffset.UTC);
    }

    /** Moves time forward by {@code d} and returns the new instant. */
    public Instant advance(Duration d) {
        if (d.isNegative()) throw new IllegalArgumentException("advance : " + d + " (expected: >= 0)");
        return now.updateAndGet(t -> t.plus(d));
    }

    public void set(Instant t) {
        now.set(t);
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    @Override
    public Clock withZone(ZoneId z) {
        return new FakeClock(now, z);
    }

    @Override
    public Instant instant() {
        return now.get();
    }
}
