package io.k3j.apiserver.registry;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Warnings for the client of one request, sent as HTTP {@code Warning: 299 - "<text>"} headers (kubectl prints
 * each as {@code Warning: <text>}). Anything on the write path adds to the collector its {@link WriteOptions}
 * carry; the REST layer renders them on the response, error responses included.
 *
 * <p>Like kube-apiserver's warning recorder (KEP-1693) it drops repeated texts and bounds the total: past
 * {@value #MAX_TOTAL} characters each warning is cut to {@value #MAX_ITEM} characters, and warnings that still
 * don't fit are dropped. Thread-safe.
 */
public final class Warnings {
    static final int MAX_TOTAL = 4 * 1024;
    static final int MAX_ITEM = 256;
    private final Set<String> texts = new LinkedHashSet<>();

    /**
     * Adds a warning unless the same text was added before; blank texts are ignored.
     *
     * @throws NullPointerException if {@code text} is null
     */
    public synchronized void add(String text) {
        Objects.requireNonNull(text, "text");
        if (!text.isBlank()) texts.add(text);
    }

    /** The warnings to send, in the order added, within the size bounds. */
    public synchronized List<String> list() {
        int total = 0;
        for (String t : texts) total += t.length();
        boolean truncate = total > MAX_TOTAL;
        List<String> out = new ArrayList<>();
        int size = 0;
        for (String t : texts) {
            String s = truncate && t.length() > MAX_ITEM ? t.substring(0, MAX_ITEM) : t;
            if (size + s.length() > MAX_TOTAL) break;
            size += s.length();
            out.add(s);
        }
        return out;
    }

    public synchronized boolean isEmpty() {
        return texts.isEmpty();
    }
}
