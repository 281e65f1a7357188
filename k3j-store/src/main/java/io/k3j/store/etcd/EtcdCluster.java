package io.k3j.store.etcd;

import io.k3j.store.StoreException;
import io.k3j.store.etcd.EtcdProto.MembersResponse;
import io.k3j.store.etcd.EtcdProto.StatusResponse;
import java.net.URI;
import java.util.List;
import java.util.Objects;

/**
 * etcd's Cluster and Maintenance APIs for managing members (what {@code etcdctl member ...} and
 * {@code etcdctl endpoint status} do): the embedded HA supervisor adds a joining server's member, removes a
 * deleted node's member, promotes learners, and finds the leader.
 *
 * <p>Every method is one call to whichever endpoint the client is connected to, failing over to the others.
 *
 * @see <a href="https://etcd.io/docs/v3.4/op-guide/runtime-configuration/">etcd runtime reconfiguration</a>
 */
public final class EtcdCluster implements AutoCloseable {
    private final GrpcClient client;
    private final boolean ownsClient;

    EtcdCluster(GrpcClient client, boolean ownsClient) {
        this.client = client;
        this.ownsClient = ownsClient;
    }

    /**
     * Opens a client for member management.
     *
     * @param endpoints client URLs of (some of) the members, http:// or https://
     * @param tls       for https endpoints; may be null
     */
    public static EtcdCluster open(List<URI> endpoints, EtcdTls tls) {
        Objects.requireNonNull(endpoints, "endpoints");
        return new EtcdCluster(new GrpcClient(endpoints, EtcdStore.sslContext(endpoints, tls)), true);
    }

    /**
     * The members, started or not.
     *
     * @throws StoreException when no endpoint answers
     */
    public List<EtcdMember> members() {
        return membersResponse(call(EtcdProto.MEMBER_LIST, EtcdProto.empty(), "listing etcd members"), false).members().stream()
                .map(EtcdCluster::member).toList();
    }

    /**
     * Adds a member that will then be started with {@code --initial-cluster-state existing} and an
     * {@code --initial-cluster} naming every member including itself.
     *
     * @param peerUrls its peer URLs
     * @param learner  add it as a non-voting learner (etcd ≥ 3.4), to be promoted once it caught up
     * @return the new member (no name yet)
     * @throws StoreException e.g. "etcdserver: Peer URLs already exists", or "unhealthy cluster" when adding it
     *                        would lose quorum while members are down
     */
    public EtcdMember add(List<URI> peerUrls, boolean learner) {
        MembersResponse r = membersResponse(call(EtcdProto.MEMBER_ADD,
                EtcdProto.memberAdd(peerUrls.stream().map(URI::toString).toList(), learner), "adding etcd member " + peerUrls), true);
        if (r.member() == null) throw new StoreException("adding etcd member " + peerUrls + ": etcd's answer names no member");
        return member(r.member());
    }

    /**
     * Removes a member (it stops serving once it learns it was removed).
     *
     * @return the members left
     * @throws StoreException e.g. "etcdserver: member not found"
     */
    public List<EtcdMember> remove(long memberId) {
        return membersResponse(call(EtcdProto.MEMBER_REMOVE, EtcdProto.memberId(memberId), "removing etcd member " + Long.toHexString(memberId)), false)
                .members().stream().map(EtcdCluster::member).toList();
    }

    /**
     * Promotes a learner to a voting member.
     *
     * @return the members now
     * @throws StoreException e.g. "etcdserver: can only promote a learner member which is in sync with leader"
     */
    public List<EtcdMember> promote(long memberId) {
        return membersResponse(call(EtcdProto.MEMBER_PROMOTE, EtcdProto.memberId(memberId), "promoting etcd member " + Long.toHexString(memberId)), false)
                .members().stream().map(EtcdCluster::member).toList();
    }

    /** The status of the member this client is connected to. */
    public EtcdStatus status() {
        byte[] answer = call(EtcdProto.STATUS, EtcdProto.empty(), "reading etcd status");
        return status(client.connectedEndpoint(), answer);
    }

    /**
     * The status of the member at {@code endpoint}, through a short-lived connection of its own (to find the
     * leader, ask each member).
     */
    public static EtcdStatus status(URI endpoint, EtcdTls tls) {
        try (EtcdCluster one = open(List.of(endpoint), tls)) {
            return one.status();
        }
    }

    private static EtcdStatus status(URI endpoint, byte[] answer) {
        StatusResponse s = EtcdProto.statusResponse(new ProtoReader(answer));
        return new EtcdStatus(endpoint, s.header().memberId(), s.leader(), s.version(), s.dbSize(), s.raftTerm(), s.raftIndex(),
                s.header().revision(), s.learner(), s.errors());
    }

    private static MembersResponse membersResponse(byte[] answer, boolean add) {
        try {
            return EtcdProto.membersResponse(new ProtoReader(answer), add);
        } catch (IllegalStateException e) {
            throw new StoreException("malformed member answer from etcd: " + e.getMessage(), e);
        }
    }

    private byte[] call(String method, ProtoWriter request, String what) {
        try {
            return client.unary(method, request.toByteArray(), EtcdStore.CALL_TIMEOUT_MILLIS);
        } catch (GrpcException e) {
            throw new StoreException(what + ": " + e.getMessage(), e);
        }
    }

    private static EtcdMember member(EtcdProto.Member m) {
        return new EtcdMember(m.id(), m.name(), m.peerUrls().stream().map(URI::create).toList(),
                m.clientUrls().stream().map(URI::create).toList(), m.learner());
    }

    /** Closes the connection, unless it is an {@link EtcdStore}'s (then the store's close does). */
    @Override
    public void close() {
        if (ownsClient) client.close();
    }
}
