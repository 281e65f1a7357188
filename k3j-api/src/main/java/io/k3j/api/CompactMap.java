package io.k3j.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.AbstractCollection;
import java.util.AbstractSet;
import java.util.Collection;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * The fields of one JSON object of a long-lived tree, in insertion order, as one array of alternating keys and
 * values. A {@code LinkedHashMap} costs a 56-byte map, a table and a 32-byte entry per field; this costs the
 * array (8 bytes per field plus slack), which made cached trees about half as large. Lookups scan the keys:
 * JSON objects hold a few fields, keys are mostly shared strings (equal by identity), and an object past
 * {@link #INDEXED} fields gets a hash index so that large maps (ConfigMap data, big label sets) stay O(1).
 *
 * <p>Fully mutable like the map it replaces (a deep copy of a cached tree is changed in place), not thread-safe;
 * except a {@link #frozen} one, which a subtree shared between cached trees uses ({@link SharedSubtrees}): any
 * change throws, so that code changing a cached object without copying it fails instead of changing every object
 * that shares the subtree. Not an {@code AbstractMap}: its two cached view fields would add 8 bytes to each of a
 * million maps.
 */
final class CompactMap implements Map<String, JsonNode> {
    private static final Object[] EMPTY = {};
    /** From this many fields on, lookups go through {@link #index}. */
    private static final int INDEXED = 12;

    private Object[] kv = EMPTY;
    private int size;
    /** Key to slot, only for large objects; rebuilt after removals. */
    private java.util.HashMap<String, Integer> index;
    /** Set once filled by {@link #frozen}: every change throws (fits in the object's alignment padding). */
    private boolean frozen;

    CompactMap() {
    }

    /** An unmodifiable map of {@code fields}, in their order, with no spare slots. */
    static CompactMap frozen(Map<String, JsonNode> fields) {
        CompactMap m = new CompactMap();
        if (!fields.isEmpty()) m.kv = new Object[2 * fields.size()];
        for (Map.Entry<String, JsonNode> e : fields.entrySet()) m.put(e.getKey(), e.getValue());
        m.frozen = true;
        return m;
    }

    private void checkNotFrozen() {
        if (frozen) throw new UnsupportedOperationException("a subtree shared between cached objects is read-only: deepCopy() the object before changing it");
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    private int slot(Object key) {
        if (!(key instanceof String)) return -1;
        if (index != null) {
            Integer i = index.get(key);
            return i == null ? -1 : i;
        }
        Object[] a = kv;
        for (int i = 0, n = size * 2; i < n; i += 2) {
            if (a[i] == key) return i >> 1;
        }
        for (int i = 0, n = size * 2; i < n; i += 2) {
            if (key.equals(a[i])) return i >> 1;
        }
        return -1;
    }

    @Override
    public boolean containsKey(Object key) {
        return slot(key) >= 0;
    }

    @Override
    public JsonNode get(Object key) {
        int i = slot(key);
        return i < 0 ? null : (JsonNode) kv[2 * i + 1];
    }

    @Override
    public JsonNode put(String key, JsonNode value) {
        checkNotFrozen();
        if (key == null) throw new NullPointerException("null key");
        int i = slot(key);
        if (i >= 0) {
            JsonNode old = (JsonNode) kv[2 * i + 1];
            kv[2 * i + 1] = value;
            return old;
        }
        if (2 * size == kv.length) {
            // grow by half (at least two fields): a parsed object keeps its array, so slack stays small
            int fields = size + Math.max(2, size >> 1);
            kv = Arrays.copyOf(kv, 2 * fields);
        }
        kv[2 * size] = key;
        kv[2 * size + 1] = value;
        if (index != null) index.put(key, size);
        size++;
        if (index == null && size >= INDEXED) reindex();
        return null;
    }

    @Override
    public JsonNode remove(Object key) {
        int i = slot(key);
        if (i < 0) return null;
        JsonNode old = (JsonNode) kv[2 * i + 1];
        removeAt(i);
        return old;
    }

    private void removeAt(int i) {
        checkNotFrozen();
        System.arraycopy(kv, 2 * i + 2, kv, 2 * i, 2 * (size - i - 1));
        size--;
        kv[2 * size] = null;
        kv[2 * size + 1] = null;
        if (index != null) {
            if (size < INDEXED) index = null;
            else reindex();
        }
    }

    private void reindex() {
        index = new java.util.HashMap<>(size * 2);
        for (int i = 0; i < size; i++) index.put((String) kv[2 * i], i);
    }

    @Override
    public void clear() {
        checkNotFrozen();
        kv = EMPTY;
        size = 0;
        index = null;
    }

    @Override
    public boolean containsValue(Object value) {
        for (int i = 0; i < size; i++) if (java.util.Objects.equals(value, kv[2 * i + 1])) return true;
        return false;
    }

    @Override
    public void putAll(Map<? extends String, ? extends JsonNode> m) {
        for (Map.Entry<? extends String, ? extends JsonNode> e : m.entrySet()) put(e.getKey(), e.getValue());
    }

    @Override
    public Set<String> keySet() {
        return new AbstractSet<>() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public boolean contains(Object o) {
                return containsKey(o);
            }

            @Override
            public boolean remove(Object o) {
                int before = size;
                CompactMap.this.remove(o);
                return size != before;
            }

            @Override
            public Iterator<String> iterator() {
                return mapped(Map.Entry::getKey);
            }
        };
    }

    /** An iterator over the entries seen through {@code part} (key or value), removing through the entry set's. */
    private <T> Iterator<T> mapped(java.util.function.Function<Map.Entry<String, JsonNode>, T> part) {
        Iterator<Map.Entry<String, JsonNode>> it = entrySet().iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public T next() {
                return part.apply(it.next());
            }

            @Override
            public void remove() {
                it.remove();
            }
        };
    }

    @Override
    public Collection<JsonNode> values() {
        return new AbstractCollection<>() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public Iterator<JsonNode> iterator() {
                return mapped(Map.Entry::getValue);
            }
        };
    }

    @Override
    public boolean equals(Object o) {
        if (o == this) return true;
        if (!(o instanceof Map<?, ?> m) || m.size() != size) return false;
        for (int i = 0; i < size; i++) {
            Object v = m.get(kv[2 * i]);
            if (v == null || !v.equals(kv[2 * i + 1])) return false;
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 0;
        for (int i = 0; i < size; i++) h += kv[2 * i].hashCode() ^ java.util.Objects.hashCode(kv[2 * i + 1]);
        return h;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < size; i++) b.append(i == 0 ? "" : ", ").append(kv[2 * i]).append('=').append(kv[2 * i + 1]);
        return b.append('}').toString();
    }

    @Override
    public Set<Map.Entry<String, JsonNode>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public Iterator<Map.Entry<String, JsonNode>> iterator() {
                return new Iterator<>() {
                    private int next;
                    private int last = -1;
                    /** No modification count (4 bytes a map): a change of size is what this detects. */
                    private int expected = size;

                    @Override
                    public boolean hasNext() {
                        return next < size;
                    }

                    @Override
                    public Map.Entry<String, JsonNode> next() {
                        if (expected != size) throw new ConcurrentModificationException();
                        if (next >= size) throw new NoSuchElementException();
                        last = next++;
                        return new Field(last);
                    }

                    @Override
                    public void remove() {
                        if (last < 0) throw new IllegalStateException();
                        if (expected != size) throw new ConcurrentModificationException();
                        removeAt(last);
                        next = last;
                        last = -1;
                        expected = size;
                    }
                };
            }
        };
    }

    /** A view of one slot; {@link #setValue} writes through, as a HashMap entry does. */
    private final class Field implements Map.Entry<String, JsonNode> {
        private final int i;
        private final String key;

        Field(int i) {
            this.i = i;
            this.key = (String) kv[2 * i];
        }

        @Override
        public String getKey() {
            return key;
        }

        @Override
        public JsonNode getValue() {
            return 2 * i < kv.length && kv[2 * i] == key ? (JsonNode) kv[2 * i + 1] : get(key);
        }

        @Override
        public JsonNode setValue(JsonNode value) {
            return put(key, value);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Map.Entry<?, ?> e && key.equals(e.getKey()) && java.util.Objects.equals(getValue(), e.getValue());
        }

        @Override
        public int hashCode() {
            return key.hashCode() ^ java.util.Objects.hashCode(getValue());
        }

        @Override
        public String toString() {
            return key + "=" + getValue();
        }
    }
}
