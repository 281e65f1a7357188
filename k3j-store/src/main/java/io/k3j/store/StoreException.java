package io.k3j.store;

/** Base of the store's errors; backends wrap I/O failures in it with what they were doing. */
public class StoreException extends RuntimeException {
    public StoreException(String message) {
        super(message);
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
