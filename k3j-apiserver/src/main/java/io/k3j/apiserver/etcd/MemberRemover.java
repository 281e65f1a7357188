package io.k3j.apiserver.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.system.Informer;
import io.k3j.apiserver.watch.CacheEvent;
import java.io.IOException;

/**
 * Removes a server from the etcd cluster when its Node is deleted ({@code kubectl delete node}), as k3s's etcd
 * member controller does: a deleted Node labelled {@code node-role.kubernetes.io/etcd=true} loses the members
 * named after it ({@code <node name>-<8 hex>}, or the name in its {@code etcd.k3s.cattle.io/node-name}
 * annotation). Runs where the other cluster-wide controllers run (the leader); a member already gone is fine.
 */
public final class MemberRemover implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MemberRemover.class.getName());
    /** The role label k3s puts on servers that run an etcd member. */
    public static final String ETCD_ROLE = "node-role.kubernetes.io/etcd";
    /** k3s's annotation naming a node's etcd member. */
    public static final String MEMBER_ANNOTATION = "etcd.k3s.cattle.io/node-name";

    private final EmbeddedEtcd etcd;
    private final Informer informer;

    private MemberRemover(EmbeddedEtcd etcd, ObjectStore objects, ResourceType nodes) {
        this.etcd = etcd;
        this.informer = new Informer(objects, nodes, this::onEvent);
    }

    /** Starts following Nodes. */
    public static MemberRemover start(EmbeddedEtcd etcd, ObjectStore objects, ResourceRegistry registry) {
        MemberRemover r = new MemberRemover(etcd, objects, registry.find("", "v1", "nodes").orElseThrow());
        r.informer.start();
        return r;
    }

    private void onEvent(CacheEvent e) {
        if (e.type() != CacheEvent.Type.DELETED) return;
        JsonNode meta = e.object().path("metadata");
        if (!"true".equals(meta.path("labels").path(ETCD_ROLE).asText())) return;
        String node = meta.path("name").asText();
        String annotated = meta.path("annotations").path(MEMBER_ANNOTATION).asText("");
        try (ClusterMembers members = etcd.members()) {
            removeMembersOf(members, node, annotated);
        } catch (IOException ex) {
            LOG.log(System.Logger.Level.WARNING, "removing the etcd member of deleted node " + node + ": " + ex.getMessage());
        }
    }

    /** Removes the members of {@code node}; returns how many. */
    static int removeMembersOf(Members members, String node, String annotatedMember) throws IOException {
        int removed = 0;
        for (Members.Member m : members.list()) {
            boolean match = annotatedMember.isEmpty() ? EmbeddedEtcd.nodeNameOf(m.name()).equals(node) : m.name().equals(annotatedMember);
            if (!match) continue;
            LOG.log(System.Logger.Level.INFO, "node " + node + " was deleted: removing its etcd member " + m.name());
            try {
                members.remove(m.id());
                removed++;
            } catch (IOException ex) {
                // another server's controller was first
                if (!String.valueOf(ex.getMessage()).contains("not found")) throw ex;
            }
        }
        return removed;
    }

    @Override
    public void close() {
        informer.close();
    }
}
