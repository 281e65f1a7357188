package io.k3j.store.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.k3j.store.CompactedException;
import io.k3j.store.DeleteResult;
import io.k3j.store.FutureRevisionException;
import io.k3j.store.KeyExistsException;
import io.k3j.store.KeyNotFoundException;
import io.k3j.store.KeyValue;
import io.k3j.store.RangeResult;
import io.k3j.store.RevisionConflictException;
import io.k3j.store.Store;
import io.k3j.store.StoreException;
import io.k3j.store.Watch;
import io.k3j.store.WatchListener;
import io.k3j.store.etcd.EtcdProto.DeleteRangeResponse;
import io.k3j.store.etcd.EtcdProto.Kv;
import io.k3j.store.etcd.EtcdProto.PutResponse;
import io.k3j.store.etcd.EtcdProto.RangeResponse;
import io.k3j.store.etcd.EtcdProto.TxnResponse;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Store} on an external etcd v3 cluster: keys are etcd keys as they are (the API server's
 * {@code /registry/...}), writes are etcd transactions, watches are etcd watches. It speaks gRPC itself over one
 * HTTP/2 connection ({@link GrpcClient}) to one of the endpoints, failing over to the next when it drops.
 *
 * <h2>Revisions</h2>
 * A fresh etcd is at revision 1 with no key written, where the Store contract has 0; so this store's revision
 * <i>r</i> is etcd's revision <i>r</i> + 1, in both directions (resource versions are etcd's minus one).
 *
 * <h2>Compaction</h2>
 * The contract keeps, after {@code compact(r)}, the events of revision r with their previous values, so that a watch
 * from r - 1 works; etcd compacted at (its) revision E keeps only what a read at E needs: no prior value of
 * changes at E, no deletion at E. So {@code compact(r)} compacts etcd at its revision r, which is this store's
 * r - 1, one revision more than asked, and this store refuses reads below r itself. The compact revision in
 * effect is thus etcd's own, number for number: it is found at start-up by bisecting with cheap count-only
 * ranges (the first revision etcd still serves; about log2(revision) calls, no key of ours in the keyspace),
 * and then raised by this store's compactions and by what etcd reports (a watch's compact_revision, or a
 * range failing as compacted, which starts a new search). Another client's compaction is thus noticed when it
 * matters, not at once.
 *
 * <p>{@link #currentRevision()} asks etcd (a linearizable count-only range of one absent key), so a read that
 * waits for "every write acknowledged so far" sees other servers' writes too.
 */
public final class EtcdStore implements Store {
    private static final System.Logger LOG = System.getLogger(EtcdStore.class.getName());

    /** For calls whose answer may be large (a range), and for member management. */
    static final long CALL_TIMEOUT_MILLIS = 15_000;
    /**
     * For writes and small reads. A follower holds a proposal it forwarded to a leader that then died for etcd's
     * request timeout (5 s + 2 election timeouts) before failing it; giving up sooner and moving to another member
     * gets writes going again within seconds after a member dies. As with any timeout, the outcome of a write that
     * timed out is unknown.
     */
    static final long SHORT_TIMEOUT_MILLIS = 3_000;
    /** A physical compaction of a large history takes a while. */
    private static final long COMPACT_TIMEOUT_MILLIS = 120_000;
    private static final byte[] NO_KEY = {0};

    private final GrpcClient client;
    private final boolean ownsClient;
    private final Set<EtcdWatch> watches = ConcurrentHashMap.newKeySet();
    private final AtomicLong compactRevision = new AtomicLong();
    private volatile boolean closed;

    private EtcdStore(GrpcClient client, boolean ownsClient) {
        this.client = client;
        this.ownsClient = ownsClient;
    }

    /**
     * Connects to etcd and learns its compact revision.
     *
     * @param endpoints client URLs, http:// or https://, tried in order when one fails
     * @param tls       for https endpoints; null for http ones (or https with the JDK's trusted roots and no client certificate)
     * @throws StoreException when no endpoint answers
     */
    public static EtcdStore open(List<URI> endpoints, EtcdTls tls) {
        GrpcClient client = new GrpcClient(checkEndpoints(endpoints, tls), sslContext(endpoints, tls));
        EtcdStore store = new EtcdStore(client, true);
        try {
            store.compactRevision.set(store.findCompactRevision());
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /**
     * Parses k3s's {@code --datastore-endpoint} form for etcd: one or more comma-separated
     * {@code http(s)://host:port} URLs (port 2379 when left out).
     *
     * @throws IllegalArgumentException naming the bad part and the accepted forms
     */
    public static List<URI> parseEndpoints(String endpoint) {
        List<URI> out = new ArrayList<>();
        for (String part : endpoint.split(",")) {
            String s = part.trim();
            if (s.isEmpty()) continue;
            try {
                URI u = new URI(s);
                if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null
                        || (u.getPath() != null && !u.getPath().isEmpty() && !u.getPath().equals("/")) || u.getQuery() != null) {
                    throw new URISyntaxException(s, "not an etcd client URL");
                }
                out.add(new URI(u.getScheme(), null, u.getHost(), u.getPort() == -1 ? 2379 : u.getPort(), null, null, null));
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("bad etcd endpoint \"" + s + "\" in --datastore-endpoint: use https://HOST:PORT or "
                        + "http://HOST:PORT, several separated by commas (e.g. https://10.0.0.1:2379,https://10.0.0.2:2379)");
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no etcd endpoint in \"" + endpoint + "\"");
        return out;
    }

    private static List<URI> checkEndpoints(List<URI> endpoints, EtcdTls tls) {
        Objects.requireNonNull(endpoints, "endpoints");
        if (endpoints.isEmpty()) throw new IllegalArgumentException("no etcd endpoint");
        for (URI u : endpoints) {
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null || u.getPort() <= 0) {
                throw new IllegalArgumentException("etcd endpoint " + u + " (expected: http(s)://HOST:PORT)");
            }
        }
        return endpoints;
    }

    static io.netty.handler.ssl.SslContext sslContext(List<URI> endpoints, EtcdTls tls) {
        boolean https = endpoints.stream().anyMatch(u -> "https".equals(u.getScheme()));
        if (!https) return null;
        return (tls == null ? new EtcdTls(null, null, null) : tls).sslContext();
    }

    /** Member list, add, remove and status on the same connection; closing the store closes it. */
    public EtcdCluster cluster() {
        return new EtcdCluster(client, false);
    }

    // ---- reads

    @Override
    public long currentRevision() {
        RangeResponse r = range(EtcdProto.range(NO_KEY, null, 1, 0, true), "reading the current revision");
        return r.header().revision() - 1;
    }

    @Override
    public long compactRevision() {
        checkOpen();
        return compactRevision.get();
    }

    @Override
    public Optional<KeyValue> get(String key) {
        RangeResponse r = range(EtcdProto.range(utf8(key), null, 0, 0, false), "reading " + key);
        return r.kvs().isEmpty() ? Optional.empty() : Optional.of(kv(r.kvs().getFirst()));
    }

    @Override
    public RangeResult range(String prefix, String startKey, long revision, int limit) {
        long compacted = compactRevision.get();
        if (revision > 0 && revision < compacted) throw new CompactedException(revision, compacted);
        byte[] p = utf8(prefix);
        byte[] end = prefixEnd(p);
        byte[] key = p.length == 0 ? NO_KEY : p;
        if (startKey != null && !startKey.isEmpty()) {
            byte[] s = utf8(startKey);
            if (Arrays.compareUnsigned(s, key) > 0) key = s;
        }
        boolean empty = end.length > 0 && !(end.length == 1 && end[0] == 0) && Arrays.compareUnsigned(key, end) >= 0;
        RangeResponse r;
        try {
            r = range(EtcdProto.range(empty ? NO_KEY : key, empty ? null : end, empty ? 1 : limit, revision == 0 ? 0 : revision + 1, empty),
                    "listing " + prefix, CALL_TIMEOUT_MILLIS);
        } catch (StoreException e) {
            throw revisionError(e, revision);
        }
        List<KeyValue> kvs = new ArrayList<>(r.kvs().size());
        if (!empty) r.kvs().forEach(k -> kvs.add(kv(k)));
        return new RangeResult(kvs, revision == 0 ? r.header().revision() - 1 : revision, !empty && r.more());
    }

    @Override
    public long count(String prefix) {
        byte[] p = utf8(prefix);
        return range(EtcdProto.range(p.length == 0 ? NO_KEY : p, prefixEnd(p), 0, 0, true), "counting " + prefix, CALL_TIMEOUT_MILLIS).count();
    }

    // ---- writes

    @Override
    public KeyValue create(String key, byte[] value) {
        byte[] k = utf8(key);
        byte[] v = value.clone();
        TxnResponse t = txn(EtcdProto.txn(
                EtcdProto.compare(k, EtcdProto.TARGET_CREATE, EtcdProto.CREATE_REVISION, 0),
                EtcdProto.requestPut(EtcdProto.put(k, v, false)),
                null), "creating " + key);
        if (!t.succeeded()) throw new KeyExistsException(key);
        long rev = t.header().revision() - 1;
        return new KeyValue(key, v, rev, rev);
    }

    @Override
    public KeyValue update(String key, byte[] value, long expectedModRevision) {
        byte[] k = utf8(key);
        byte[] v = value.clone();
        TxnResponse t = txn(EtcdProto.txn(
                EtcdProto.compare(k, EtcdProto.TARGET_MOD, EtcdProto.MOD_REVISION, expectedModRevision + 1),
                EtcdProto.requestPut(EtcdProto.put(k, v, true)),
                EtcdProto.requestRange(EtcdProto.range(k, null, 0, 0, false))), "updating " + key);
        if (!t.succeeded()) throw conflict(key, t, expectedModRevision);
        PutResponse put = (PutResponse) t.responses().getFirst();
        long rev = t.header().revision() - 1;
        // the compare held, so the key existed: prev_kv is there unless etcd compacted it away in between
        long created = put.prevKv() == null ? rev : put.prevKv().createRevision() - 1;
        return new KeyValue(key, v, created, rev);
    }

    @Override
    public DeleteResult delete(String key, long expectedModRevision) {
        byte[] k = utf8(key);
        if (expectedModRevision == 0) {
            DeleteRangeResponse d;
            try {
                d = EtcdProto.deleteRangeResponse(new ProtoReader(call(EtcdProto.DELETE_RANGE, EtcdProto.deleteRange(k, null, true), "deleting " + key, SHORT_TIMEOUT_MILLIS)));
            } catch (IllegalStateException e) {
                throw new StoreException("deleting " + key + ": malformed answer from etcd: " + e.getMessage(), e);
            }
            if (d.deleted() == 0 || d.prevKvs().isEmpty()) throw new KeyNotFoundException(key);
            return new DeleteResult(kv(d.prevKvs().getFirst()), d.header().revision() - 1);
        }
        TxnResponse t = txn(EtcdProto.txn(
                EtcdProto.compare(k, EtcdProto.TARGET_MOD, EtcdProto.MOD_REVISION, expectedModRevision + 1),
                EtcdProto.requestDelete(EtcdProto.deleteRange(k, null, true)),
                EtcdProto.requestRange(EtcdProto.range(k, null, 0, 0, false))), "deleting " + key);
        if (!t.succeeded()) throw conflict(key, t, expectedModRevision);
        DeleteRangeResponse d = (DeleteRangeResponse) t.responses().getFirst();
        if (d.prevKvs().isEmpty()) throw new KeyNotFoundException(key);
        return new DeleteResult(kv(d.prevKvs().getFirst()), t.header().revision() - 1);
    }

    private static StoreException conflict(String key, TxnResponse t, long expected) {
        RangeResponse now = (RangeResponse) t.responses().getFirst();
        if (now.kvs().isEmpty()) return new KeyNotFoundException(key);
        return new RevisionConflictException(kv(now.kvs().getFirst()), expected);
    }

    @Override
    public long compact(long revision) {
        long known = compactRevision.get();
        if (revision <= known) return known;
        long current = currentRevision();
        if (revision > current) throw new FutureRevisionException(revision, current);
        try {
            // etcd's revision `revision` is ours `revision - 1`: see the class comment for why one more is kept
            call(EtcdProto.COMPACT, EtcdProto.compaction(revision, true), "compacting at " + revision, COMPACT_TIMEOUT_MILLIS);
        } catch (StoreException e) {
            if (!isCompacted(e)) throw e;
            // someone compacted further already: learn how far
            noteCompacted(findCompactRevision());
            return compactRevision.get();
        }
        noteCompacted(revision);
        return compactRevision.get();
    }

    // ---- watch

    @Override
    public Watch watch(String prefix, long afterRevision, WatchListener listener) {
        checkOpen();
        Objects.requireNonNull(listener, "listener");
        long start = afterRevision + 1;
        long compacted = compactRevision.get();
        if (start < compacted) throw new CompactedException(start, compacted);
        byte[] p = utf8(prefix);
        EtcdWatch w = new EtcdWatch(this, client, p.length == 0 ? NO_KEY : p, prefixEnd(p), start, listener);
        watches.add(w);
        try {
            w.start();
        } catch (RuntimeException e) {
            watches.remove(w);
            w.close();
            throw e;
        }
        if (closed) w.storeClosed();
        return w;
    }

    void removed(EtcdWatch w) {
        watches.remove(w);
    }

    /** A compact revision etcd reported (same numbering as ours): keep the newest. */
    void noteCompacted(long revision) {
        compactRevision.accumulateAndGet(revision, Math::max);
    }

    // ---- lifecycle

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (EtcdWatch w : List.copyOf(watches)) w.storeClosed();
        if (ownsClient) client.close();
    }

    boolean isClosed() {
        return closed;
    }

    // ---- helpers

    /** The first revision etcd still serves (its compact revision, 0 when nothing was compacted). */
    private long findCompactRevision() {
        // the first call of a fresh client may wait for a member that just started: the long timeout
        long current = range(EtcdProto.range(NO_KEY, null, 1, 0, true), "reading the current revision", CALL_TIMEOUT_MILLIS)
                .header().revision();
        if (readable(1)) return 0;
        long lo = 1, hi = current; // lo compacted, hi readable (etcd never compacts past its current revision)
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (readable(mid)) hi = mid;
            else lo = mid;
        }
        return hi;
    }

    private boolean readable(long etcdRevision) {
        try {
            range(EtcdProto.range(NO_KEY, null, 1, etcdRevision, true), "probing the compact revision");
            return true;
        } catch (StoreException e) {
            if (isCompacted(e)) return false;
            throw e;
        }
    }

    private StoreException revisionError(StoreException e, long revision) {
        if (isCompacted(e)) {
            long found = findCompactRevision();
            noteCompacted(found);
            return new CompactedException(revision, compactRevision.get());
        }
        if (e.getCause() instanceof GrpcException g && g.description().contains("future revision")) {
            return new FutureRevisionException(revision, currentRevision());
        }
        return e;
    }

    static boolean isCompacted(Throwable e) {
        return e.getCause() instanceof GrpcException g && g.description().contains("required revision has been compacted");
    }

    private RangeResponse range(ProtoWriter request, String what) {
        return range(request, what, SHORT_TIMEOUT_MILLIS);
    }

    private RangeResponse range(ProtoWriter request, String what, long timeoutMillis) {
        byte[] answer = call(EtcdProto.RANGE, request, what, timeoutMillis);
        try {
            return EtcdProto.rangeResponse(new ProtoReader(answer));
        } catch (IllegalStateException e) {
            throw new StoreException(what + ": malformed answer from etcd: " + e.getMessage(), e);
        }
    }

    private TxnResponse txn(ProtoWriter request, String what) {
        byte[] answer = call(EtcdProto.TXN, request, what, SHORT_TIMEOUT_MILLIS);
        try {
            return EtcdProto.txnResponse(new ProtoReader(answer));
        } catch (IllegalStateException e) {
            throw new StoreException(what + ": malformed answer from etcd: " + e.getMessage(), e);
        }
    }

    /** One unary call; gRPC failures become StoreExceptions that say what was being done. */
    private byte[] call(String method, ProtoWriter request, String what, long timeoutMillis) {
        checkOpen();
        try {
            return client.unary(method, request.toByteArray(), timeoutMillis);
        } catch (GrpcException e) {
            if (closed) throw new StoreException(what + ": etcd store closed", e);
            if (e.code() == GrpcException.DEADLINE_EXCEEDED
                    || e.code() == GrpcException.UNAVAILABLE && e.description().startsWith("etcdserver:")) {
                // the member answers but can't serve (no leader, partitioned): try another one next time
                URI at = client.connectedEndpoint();
                if (at != null) client.failover(at);
            }
            throw new StoreException(what + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // the client's event loop ended under a call: only when the store is closing
            if (closed) throw new StoreException(what + ": etcd store closed", e);
            throw e;
        }
    }

    private void checkOpen() {
        if (closed) throw new StoreException("etcd store closed");
    }

    static byte[] utf8(String s) {
        return s.getBytes(UTF_8);
    }

    /** The end of the range of keys starting with {@code prefix}: "\0" (no end) for "" or a prefix of 0xff bytes. */
    static byte[] prefixEnd(byte[] prefix) {
        for (int i = prefix.length - 1; i >= 0; i--) {
            if (prefix[i] != (byte) 0xff) {
                byte[] end = Arrays.copyOf(prefix, i + 1);
                end[i]++;
                return end;
            }
        }
        return new byte[] {0};
    }

    /** An etcd key/value in this store's revision numbering. */
    static KeyValue kv(Kv k) {
        return new KeyValue(new String(k.key(), UTF_8), k.value(), k.createRevision() - 1, k.modRevision() - 1);
    }
}
