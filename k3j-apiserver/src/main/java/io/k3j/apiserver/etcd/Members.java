package io.k3j.apiserver.etcd;

import java.io.IOException;
import java.util.List;

/**
 * The etcd cluster membership API, as embedded etcd uses it: joining adds a member, deleting a server's Node
 * removes one.
 */
interface Members {

    /**
     * One member; {@code name} is empty (and {@code clientUrls} too) for a member that was added but has not
     * started yet.
     */
    record Member(long id, String name, List<String> peerUrls, List<String> clientUrls) {
        public Member {
            name = name == null ? "" : name;
            peerUrls = List.copyOf(peerUrls);
            clientUrls = List.copyOf(clientUrls);
        }

        boolean started() {
            return !name.isEmpty();
        }
    }

    /** The current members, as the member answering sees them. */
    List<Member> list() throws IOException;

    /**
     * Adds a member that will announce {@code peerUrls}.
     *
     * @return the members after the change, the new one included (with an empty name)
     */
    List<Member> add(List<String> peerUrls) throws IOException;

    /** Removes the member {@code id}. */
    void remove(long id) throws IOException;
}
