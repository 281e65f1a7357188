package io.k3j.apiserver.etcd;

import io.k3j.store.StoreException;
import io.k3j.store.etcd.EtcdCluster;
import io.k3j.store.etcd.EtcdMember;
import java.io.IOException;
import java.net.URI;
import java.util.List;

/** {@link Members} over the etcd store's member API client. */
final class ClusterMembers implements Members, AutoCloseable {
    private final EtcdCluster cluster;

    ClusterMembers(EtcdCluster cluster) {
        this.cluster = cluster;
    }

    @Override
    public List<Member> list() throws IOException {
        try {
            return cluster.members().stream().map(ClusterMembers::member).toList();
        } catch (StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public List<Member> add(List<String> peerUrls) throws IOException {
        try {
            cluster.add(peerUrls.stream().map(URI::create).toList(), false);
            return list();
        } catch (StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public void remove(long id) throws IOException {
        try {
            cluster.remove(id);
        } catch (StoreException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static Member member(EtcdMember m) {
        return new Member(m.id(), m.name(), m.peerUrls().stream().map(URI::toString).toList(),
                m.clientUrls().stream().map(URI::toString).toList());
    }

    @Override
    public void close() {
        cluster.close();
    }
}
