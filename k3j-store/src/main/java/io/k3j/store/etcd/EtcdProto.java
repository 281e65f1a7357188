package io.k3j.store.etcd;

import java.util.ArrayList;
import java.util.List;

/**
 * The etcd v3 messages k3j uses, encoded and decoded by hand with the field numbers of etcd's
 * {@code etcdserverpb/rpc.proto} and {@code mvccpb/kv.proto} (stable since etcd 3.0; watch_id, fragment and the
 * progress request since 3.4). Only the fields k3j reads or writes are named; the rest are skipped.
 */
final class EtcdProto {
    private EtcdProto() {}

    static final String RANGE = "/etcdserverpb.KV/Range";
    static final String PUT = "/etcdserverpb.KV/Put";
    static final String DELETE_RANGE = "/etcdserverpb.KV/DeleteRange";
    static final String TXN = "/etcdserverpb.KV/Txn";
    static final String COMPACT = "/etcdserverpb.KV/Compact";
    static final String WATCH = "/etcdserverpb.Watch/Watch";
    static final String STATUS = "/etcdserverpb.Maintenance/Status";
    static final String MEMBER_ADD = "/etcdserverpb.Cluster/MemberAdd";
    static final String MEMBER_REMOVE = "/etcdserverpb.Cluster/MemberRemove";
    static final String MEMBER_LIST = "/etcdserverpb.Cluster/MemberList";
    static final String MEMBER_PROMOTE = "/etcdserverpb.Cluster/MemberPromote";

    // Compare.CompareResult and Compare.CompareTarget
    static final int EQUAL = 0;
    static final int TARGET_CREATE = 1;
    static final int TARGET_MOD = 2;
    // Compare's target_union field numbers
    static final int CREATE_REVISION = 5;
    static final int MOD_REVISION = 6;
    // mvccpb.Event.EventType
    static final int EVENT_PUT = 0;
    static final int EVENT_DELETE = 1;

    // ---- requests

    static ProtoWriter range(byte[] key, byte[] rangeEnd, long limit, long revision, boolean countOnly) {
        return new ProtoWriter().bytes(1, key).bytes(2, rangeEnd).uint64(3, limit).uint64(4, revision).bool(9, countOnly);
    }

    static ProtoWriter put(byte[] key, byte[] value, boolean prevKv) {
        return new ProtoWriter().bytes(1, key).bytes(2, value).bool(4, prevKv);
    }

    static ProtoWriter deleteRange(byte[] key, byte[] rangeEnd, boolean prevKv) {
        return new ProtoWriter().bytes(1, key).bytes(2, rangeEnd).bool(3, prevKv);
    }

    /** A Compare of one key's revision-valued target ({@code targetField} names the target_union member). */
    static ProtoWriter compare(byte[] key, int target, int targetField, long value) {
        ProtoWriter w = new ProtoWriter().uint64(1, EQUAL).uint64(2, target).bytes(3, key);
        // a oneof member is present even when 0: "create_revision == 0" is how "the key is absent" is said
        w.uint64Always(targetField, value);
        return w;
    }

    static ProtoWriter requestRange(ProtoWriter range) {
        return new ProtoWriter().message(1, range);
    }

    static ProtoWriter requestPut(ProtoWriter put) {
        return new ProtoWriter().message(2, put);
    }

    static ProtoWriter requestDelete(ProtoWriter delete) {
        return new ProtoWriter().message(3, delete);
    }

    static ProtoWriter txn(ProtoWriter compare, ProtoWriter success, ProtoWriter failure) {
        ProtoWriter w = new ProtoWriter().message(1, compare).message(2, success);
        return failure == null ? w : w.message(3, failure);
    }

    static ProtoWriter compaction(long revision, boolean physical) {
        return new ProtoWriter().uint64(1, revision).bool(2, physical);
    }

    static ProtoWriter watchCreate(byte[] key, byte[] rangeEnd, long startRevision) {
        ProtoWriter create = new ProtoWriter().bytes(1, key).bytes(2, rangeEnd).uint64(3, startRevision)
                .bool(4, true) // progress_notify: lets a quiet watch resume from a recent revision after a failover
                .bool(6, true); // prev_kv
        return new ProtoWriter().message(1, create);
    }

    static ProtoWriter watchCancel(long watchId) {
        return new ProtoWriter().message(2, new ProtoWriter().uint64Always(1, watchId));
    }

    static ProtoWriter memberAdd(List<String> peerUrls, boolean learner) {
        ProtoWriter w = new ProtoWriter();
        for (String u : peerUrls) w.string(1, u);
        return w.bool(2, learner);
    }

    static ProtoWriter memberId(long id) {
        return new ProtoWriter().uint64(1, id);
    }

    static ProtoWriter empty() {
        return new ProtoWriter();
    }

    // ---- responses

    record Header(long clusterId, long memberId, long revision, long raftTerm) {
        static final Header NONE = new Header(0, 0, 0, 0);
    }

    /** mvccpb.KeyValue. */
    record Kv(byte[] key, long createRevision, long modRevision, long version, byte[] value) {}

    record RangeResponse(Header header, List<Kv> kvs, boolean more, long count) {}

    record PutResponse(Header header, Kv prevKv) {}

    record DeleteRangeResponse(Header header, long deleted, List<Kv> prevKvs) {}

    /** {@code responses} holds RangeResponse, PutResponse or DeleteRangeResponse, in order. */
    record TxnResponse(Header header, boolean succeeded, List<Object> responses) {}

    record Event(int type, Kv kv, Kv prevKv) {}

    record WatchResponse(Header header, long watchId, boolean created, boolean canceled, long compactRevision,
                         String cancelReason, boolean fragment, List<Event> events) {}

    record StatusResponse(Header header, String version, long dbSize, long leader, long raftIndex, long raftTerm,
                          long raftAppliedIndex, List<String> errors, long dbSizeInUse, boolean learner) {}

    record Member(long id, String name, List<String> peerUrls, List<String> clientUrls, boolean learner) {}

    /** MemberAdd/Remove/List/Promote responses: {@code member} only for MemberAdd. */
    record MembersResponse(Header header, Member member, List<Member> members) {}

    static Header header(ProtoReader r) {
        long cluster = 0, member = 0, revision = 0, term = 0;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> cluster = r.int64();
                case 2 -> member = r.int64();
                case 3 -> revision = r.int64();
                case 4 -> term = r.int64();
                default -> r.skip();
            }
        }
        return new Header(cluster, member, revision, term);
    }

    static Kv kv(ProtoReader r) {
        byte[] key = new byte[0], value = new byte[0];
        long create = 0, mod = 0, version = 0;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> key = r.bytes();
                case 2 -> create = r.int64();
                case 3 -> mod = r.int64();
                case 4 -> version = r.int64();
                case 5 -> value = r.bytes();
                default -> r.skip();
            }
        }
        return new Kv(key, create, mod, version, value);
    }

    static RangeResponse rangeResponse(ProtoReader r) {
        Header h = Header.NONE;
        List<Kv> kvs = new ArrayList<>();
        boolean more = false;
        long count = 0;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> h = header(r.message());
                case 2 -> kvs.add(kv(r.message()));
                case 3 -> more = r.bool();
                case 4 -> count = r.int64();
                default -> r.skip();
            }
        }
        return new RangeResponse(h, kvs, more, count);
    }

    static PutResponse putResponse(ProtoReader r) {
        Header h = Header.NONE;
        Kv prev = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> h = header(r.message());
                case 2 -> prev = kv(r.message());
                default -> r.skip();
            }
        }
        return new PutResponse(h, prev);
    }

    static DeleteRangeResponse deleteRangeResponse(ProtoReader r) {
        Header h = Header.NONE;
        long deleted = 0;
        List<Kv> prev = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> h = header(r.message());
                case 2 -> deleted = r.int64();
                case 3 -> prev.add(kv(r.message()));
                default -> r.skip();
            }
        }
        return new DeleteRangeResponse(h, deleted, prev);
    }

    static TxnResponse txnResponse(ProtoReader r) {
        Header h = Header.NONE;
        boolean succeeded = false;
        List<Object> responses = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> h = header(r.message());
                case 2 -> succeeded = r.bool();
                case 3 -> {
                    ProtoReader op = r.message();
                    while (op.next()) {
                        switch (op.field()) {
                            case 1 -> responses.add(rangeResponse(op.message()));
                            case 2 -> responses.add(putResponse(op.message()));
                            case 3 -> responses.add(deleteRangeResponse(op.message()));
                            default -> op.skip();
                        }
                    }
                }
                default -> r.skip();
            }
        }
        return new TxnResponse(h, succeeded, responses);
    }

    static Header headerOnly(ProtoReader r) {
        Header h = Header.NONE;
        while (r.next()) {
            if (r.field() == 1) h = header(r.message());
            else r.skip();
        }
        return h;
    }

    static WatchResponse watchResponse(ProtoReader r) {
        Header h = Header.NONE;
        long watchId = 0, compactRevision = 0;
        boolean created = false, canceled = false, fragment = false;
        String reason = "";
        List<Event> events = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> h = header(r.message());
                case 2 -> watchId = r.int64();
                case 3 -> created = r.bool();
                case 4 -> canceled = r.bool();
                case 5 -> compactRevision = r.int64();
                case 6 -> reason = r.string();
                case 7 -> fragment = r.bool();
                case 11 -> events.add(event(r.message()));
                default -> r.skip();
            }
        }
        return new WatchResponse(h, watchId, created, canceled, compactRevision, reason, fragment, events);
    }

    private static Event event(ProtoReader r) {
        int type = EVENT_PUT;
        Kv kv = null, prev = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> type = (int) r.int64();
                case 2 -> kv = kv(r.message());
                case 3 -> prev = kv(r.message());
                default -> r.skip();
            }
        }
        return new Event(type, kv, prev);
    }

    static StatusResponse statusResponse(ProtoReader r) {
        Header h = Header.NONE;
        String version = "";
        long dbSize = 0, leader = 0, raftIndex = 0, raftTerm = 0, applied = 0, inUse = 0;
        boolean learner = false;
        List<String> errors = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> h = header(r.message());
                case 2 -> version = r.string();
                case 3 -> dbSize = r.int64();
                case 4 -> leader = r.int64();
                case 5 -> raftIndex = r.int64();
                case 6 -> raftTerm = r.int64();
                case 7 -> applied = r.int64();
                case 8 -> errors.add(r.string());
                case 9 -> inUse = r.int64();
                case 10 -> learner = r.bool();
                default -> r.skip();
            }
        }
        return new StatusResponse(h, version, dbSize, leader, raftIndex, raftTerm, applied, errors, inUse, learner);
    }

    static Member member(ProtoReader r) {
        long id = 0;
        String name = "";
        List<String> peers = new ArrayList<>(), clients = new ArrayList<>();
        boolean learner = false;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> id = r.int64();
                case 2 -> name = r.string();
                case 3 -> peers.add(r.string());
                case 4 -> clients.add(r.string());
                case 5 -> learner = r.bool();
                default -> r.skip();
            }
        }
        return new Member(id, name, peers, clients, learner);
    }

    /** Field numbers differ: MemberAdd has member=2, members=3; the others members=2. */
    static MembersResponse membersResponse(ProtoReader r, boolean add) {
        Header h = Header.NONE;
        Member added = null;
        List<Member> members = new ArrayList<>();
        while (r.next()) {
            int f = r.field();
            if (f == 1) h = header(r.message());
            else if (add && f == 2) added = member(r.message());
            else if ((add && f == 3) || (!add && f == 2)) members.add(member(r.message()));
            else r.skip();
        }
        return new MembersResponse(h, added, members);
    }
}
