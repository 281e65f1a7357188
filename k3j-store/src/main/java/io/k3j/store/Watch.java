package io.k3j.store;

/** A running watch; closing it stops delivery. */
public interface Watch extends AutoCloseable {
    /**
     * Stops delivery: once this returns, the listener is not called again (a call already under way is
     * waited for, unless close is called from the listener itself). Closing twice is harmless.
     */
    @Override
    void close();
}
