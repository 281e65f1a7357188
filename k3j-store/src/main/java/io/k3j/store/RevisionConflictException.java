package io.k3j.store;

/** The key's modification revision was not the expected one; {@link #current()} is its value now. */
public final class RevisionConflictException extends StoreException {
    private final transient KeyValue current;

    public RevisionConflictException(KeyValue current, long expected) {
        super("revision conflict on " + current.key() + ": expected " + expected + ", is " + current.modRevision());
        this.current = current;
    }

    public KeyValue current() {
        return current;
    }
}
