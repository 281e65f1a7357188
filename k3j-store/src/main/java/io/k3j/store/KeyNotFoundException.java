package io.k3j.store;

public final class KeyNotFoundException extends StoreException {
    private final String key;

    public KeyNotFoundException(String key) {
        super("key not found: " + key);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
