package io.k3j.apiserver.watch;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The JSON bytes of one cached object, shared by every list and watch that sends it, so an object is serialized
 * once however many clients read it (kube-apiserver's cacher does the same).
 *
 * <p>An object decoded from the store is not serialized at all: its bytes are the stored value with
 * {@code "resourceVersion":"N"} spliced in at the end of {@code metadata} (where decoding puts it), so the cache
 * holds one array per object, which is also the one its newest window event holds, instead of that plus a second,
 * serialized copy. Long-lived instances ({@link CachedObject}) splice on each read, with {@link #writeTo} straight
 * into a list body; an event's instance keeps the spliced bytes for its many watchers.
 */
public final class Serialized {
    private static final int UNKNOWN = -2;
    private static final int NO_SPLICE = -1;

    private final ObjectNode object;
    /** The store's value {@link #object} was decoded from, or null. */
    private final byte[] stored;
    private final long revision;
    private final boolean keep;
    private volatile byte[] bytes;
    private volatile WatchLine line;
    /** Where the resourceVersion goes in {@link #stored}; a race computes the same value twice, harmlessly. */
    private int insertAt = UNKNOWN;

    Serialized(ObjectNode object) {
        this(object, null, 0, true);
    }

    private Serialized(ObjectNode object, byte[] stored, long revision, boolean keep) {
        this.object = object;
        this.stored = stored;
        this.revision = revision;
        this.keep = keep;
    }

    /**
     * The bytes of {@code object}, decoded from {@code stored} with resourceVersion {@code revision}.
     *
     * @param keep whether to keep the bytes once made (an event's, read by every watcher) or to splice on each
     *             read (a cached object's, which must not cost a second copy of its JSON)
     */
    public static Serialized ofStored(ObjectNode object, byte[] stored, long revision, boolean keep) {
        return new Serialized(object, stored, revision, keep);
    }

    /** The object as JSON; never modify the array. */
    public byte[] bytes() {
        byte[] b = bytes;
        if (b != null) return b;
        int at = spliceAt();
        if (at >= 0) {
            byte[] rv = resourceVersionField(at);
            b = new byte[stored.length + rv.length];
            System.arraycopy(stored, 0, b, 0, at);
            System.arraycopy(rv, 0, b, at, rv.length);
            System.arraycopy(stored, at, b, at + rv.length, stored.length - at);
            if (keep) bytes = b;
            return b;
        }
        // a race makes the same bytes twice, harmlessly
        b = Json.bytes(object);
        bytes = b;
        return b;
    }

    /**
     * The watch stream's line for this object, {@code {"type":…,"object":…}} and a newline; never modify the array.
     * An event's line is made once and shared by every watcher that sees the event as {@code type}.
     */
    public byte[] watchLine(String type) {
        WatchLine l = line;
        if (l != null && l.type.equals(type)) return l.bytes;
        byte[] object = bytes();
        byte[] head = ("{\"type\":\"" + type + "\",\"object\":").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + object.length + 2];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(object, 0, out, head.length, object.length);
        out[out.length - 2] = '}';
        out[out.length - 1] = '\n';
        // a cached object's Serialized (keep = false) must not hold a second copy of its JSON
        if (keep) line = new WatchLine(type, out);
        return out;
    }

    private record WatchLine(String type, byte[] bytes) {
    }

    /** The length of {@link #bytes()}, without making them when they are spliced. */
    public int length() {
        byte[] b = bytes;
        if (b != null) return b.length;
        int at = spliceAt();
        return at >= 0 ? stored.length + resourceVersionField(at).length : bytes().length;
    }

    /**
     * Writes {@link #bytes()} to {@code out}, without an intermediate array when they are spliced.
     *
     * @throws IOException what {@code out} throws
     */
    public void writeTo(OutputStream out) throws IOException {
        byte[] b = bytes;
        int at = b == null ? spliceAt() : NO_SPLICE;
        if (at < 0) {
            out.write(b != null ? b : bytes());
            return;
        }
        out.write(stored, 0, at);
        out.write(resourceVersionField(at));
        out.write(stored, at, stored.length - at);
    }

    private int spliceAt() {
        if (stored == null) return NO_SPLICE;
        int at = insertAt;
        if (at == UNKNOWN) {
            at = metadataEnd(stored);
            insertAt = at;
        }
        return at;
    }

    private byte[] resourceVersionField(int at) {
        boolean empty = previousNonSpace(stored, at) == '{';
        return ((empty ? "" : ",") + "\"resourceVersion\":\"" + revision + "\"").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The index of the closing brace of the top-level {@code metadata} object, or {@link #NO_SPLICE} when there is
     * none, it already holds a resourceVersion, or the JSON is not as expected (then the tree is serialized).
     */
    static int metadataEnd(byte[] b) {
        int i = skipSpace(b, 0);
        if (i >= b.length || b[i] != '{') return NO_SPLICE;
        i++;
        while (true) {
            i = skipSpace(b, i);
            if (i >= b.length || b[i] != '"') return NO_SPLICE;
            int keyEnd = skipString(b, i);
            if (keyEnd < 0) return NO_SPLICE;
            boolean metadata = is(b, i + 1, keyEnd - 1, "metadata");
            i = skipSpace(b, keyEnd);
            if (i >= b.length || b[i] != ':') return NO_SPLICE;
            i = skipSpace(b, i + 1);
            if (i >= b.length) return NO_SPLICE;
            if (metadata) return b[i] == '{' ? objectEndWithout(b, i, "resourceVersion") : NO_SPLICE;
            i = skipValue(b, i);
            if (i < 0) return NO_SPLICE;
            i = skipSpace(b, i);
            if (i >= b.length || b[i] != ',') return NO_SPLICE; // the end, without metadata
            i++;
        }
    }

    /** The index of the brace closing the object at {@code i}, or NO_SPLICE when it has the member {@code key}. */
    private static int objectEndWithout(byte[] b, int i, String key) {
        i = skipSpace(b, i + 1);
        if (i < b.length && b[i] == '}') return i;
        while (true) {
            if (i >= b.length || b[i] != '"') return NO_SPLICE;
            int keyEnd = skipString(b, i);
            if (keyEnd < 0 || is(b, i + 1, keyEnd - 1, key)) return NO_SPLICE;
            i = skipSpace(b, keyEnd);
            if (i >= b.length || b[i] != ':') return NO_SPLICE;
            i = skipValue(b, skipSpace(b, i + 1));
            if (i < 0) return NO_SPLICE;
            i = skipSpace(b, i);
            if (i >= b.length) return NO_SPLICE;
            if (b[i] == '}') return i;
            if (b[i] != ',') return NO_SPLICE;
            i = skipSpace(b, i + 1);
        }
    }

    private static boolean is(byte[] b, int from, int to, String ascii) {
        if (to - from != ascii.length()) return false;
        for (int k = 0; k < ascii.length(); k++) if (b[from + k] != ascii.charAt(k)) return false;
        return true;
    }

    private static int skipSpace(byte[] b, int i) {
        while (i < b.length && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) i++;
        return i;
    }

    private static int previousNonSpace(byte[] b, int i) {
        i--;
        while (i >= 0 && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) i--;
        return i < 0 ? -1 : b[i];
    }

    /** The index after the string starting at {@code i} (a quote), or -1. */
    private static int skipString(byte[] b, int i) {
        for (int j = i + 1; j < b.length; j++) {
            if (b[j] == '\\') j++;
            else if (b[j] == '"') return j + 1;
        }
        return -1;
    }

    /** The index after the value starting at {@code i}, or -1. */
    private static int skipValue(byte[] b, int i) {
        if (i >= b.length) return -1;
        byte c = b[i];
        if (c == '"') return skipString(b, i);
        if (c == '{' || c == '[') {
            int depth = 0;
            for (int j = i; j < b.length; j++) {
                byte d = b[j];
                if (d == '"') {
                    j = skipString(b, j);
                    if (j < 0) return -1;
                    j--;
                } else if (d == '{' || d == '[') {
                    depth++;
                } else if (d == '}' || d == ']') {
                    if (--depth == 0) return j + 1;
                }
            }
            return -1;
        }
        int j = i;
        while (j < b.length && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t') j++;
        return j == i ? -1 : j;
    }
}
