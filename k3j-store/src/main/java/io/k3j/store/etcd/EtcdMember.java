package io.k3j.store.etcd;

import java.net.URI;
import java.util.List;

/**
 * One etcd cluster member, as the Cluster API lists it.
 *
 * @param id         the member's ID (etcd prints it in hex)
 * @param name       its --name; empty while a member that was added has not started yet
 * @param peerUrls   where the other members reach it
 * @param clientUrls where clients reach it; empty until it started
 * @param learner    a non-voting member, still catching up (see {@link EtcdCluster#promote})
 */
public record EtcdMember(long id, String name, List<URI> peerUrls, List<URI> clientUrls, boolean learner) {
    public EtcdMember {
        peerUrls = List.copyOf(peerUrls);
        clientUrls = List.copyOf(clientUrls);
    }

    /** True once the member has started and published its name and client URLs. */
    public boolean started() {
        return !name.isEmpty();
    }

    /** The ID as etcd prints it. */
    public String hexId() {
        return Long.toHexString(id);
    }
}
