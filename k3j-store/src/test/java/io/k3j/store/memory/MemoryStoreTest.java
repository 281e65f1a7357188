package io.k3j.store.memory;

import io.k3j.store.Store;
import io.k3j.store.StoreConformanceTest;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The in-memory store passes the same contract as every backend; "reopening" a directory reopens its data. */
class MemoryStoreTest extends StoreConformanceTest {
    private final Map<Path, MemoryStore> stores = new HashMap<>();

    @Override
    protected Store openStore(Path dir) {
        MemoryStore previous = stores.get(dir);
        MemoryStore store = previous == null ? new MemoryStore() : previous.reopen();
        stores.put(dir, store);
        return store;
    }
}
