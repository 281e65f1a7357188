package io.k3j.store;

/** The requested revision was compacted away. */
public final class CompactedException extends StoreException {
    private final long compactRevision;

    public CompactedException(long requested, long compactRevision) {
        super("required revision " + requested + " has been compacted (compact revision " + compactRevision + ")");
        this.compactRevision = compactRevision;
    }

    public long compactRevision() {
        return compactRevision;
    }
}
