package io.k3j.store.etcd;

import java.net.URI;
import java.util.List;

/**
 * One member's view of itself (Maintenance Status).
 *
 * @param endpoint    the client URL that answered
 * @param memberId    the member that answered
 * @param leaderId    the leader it knows of; 0 when it has none
 * @param version     the etcd server version, e.g. "3.4.23"
 * @param dbSize      its backend database size, in bytes
 * @param raftTerm    the current raft term
 * @param raftIndex   its raft log index
 * @param revision    the store revision it answered at, in etcd's numbering
 * @param learner     whether it is a non-voting learner
 * @param errors      alarms it reports (e.g. "NOSPACE")
 */
public record EtcdStatus(URI endpoint, long memberId, long leaderId, String version, long dbSize, long raftTerm,
                         long raftIndex, long revision, boolean learner, List<String> errors) {
    public EtcdStatus {
        errors = List.copyOf(errors);
    }

    public boolean isLeader() {
        return memberId != 0 && memberId == leaderId;
    }
}
