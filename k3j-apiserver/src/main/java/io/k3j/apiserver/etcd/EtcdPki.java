package io.k3j.apiserver.etcd;

import io.k3j.apiserver.pki.CertificateAuthority;
import io.k3j.apiserver.pki.CertificateAuthority.Usage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Embedded etcd's certificates under {@code <server data dir>/tls/etcd/}, with k3s's file names:
 *
 * <pre>
 * server-ca.crt / .key               trusted by etcd for client connections; shared by every server of the cluster
 * peer-ca.crt / .key                 trusted by etcd for peer connections; shared likewise
 * server-client.crt / .key           the member's client-port certificate (server CA; also a client certificate,
 *                                    since etcd's gateway dials its own gRPC port with it)
 * peer-server-client.crt / .key      the member's peer-port certificate (peer CA; server and client, since members
 *                                    dial each other with it)
 * client.crt / .key                  the API server's datastore client certificate (server CA)
 * </pre>
 *
 * The two CAs come from the first server (joiners get them with the bootstrap data); leaves are made by each server
 * for its own names and addresses.
 */
final class EtcdPki {

    private final Path dir;

    private EtcdPki(Path dir) {
        this.dir = dir;
    }

    /**
     * Loads or creates the CAs and leaves.
     *
     * @param sans the member's addresses and names beyond {@code localhost}, {@code 127.0.0.1} and {@code ::1}
     */
    static EtcdPki loadOrCreate(Path tlsDir, String nodeName, List<String> sans, Clock clock) throws IOException {
        Path dir = tlsDir.resolve("etcd");
        CertificateAuthority serverCa = CertificateAuthority.loadOrCreate(dir, "server-ca", "etcd-server", clock);
        CertificateAuthority peerCa = CertificateAuthority.loadOrCreate(dir, "peer-ca", "etcd-peer", clock);
        LinkedHashSet<String> names = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
        names.addAll(sans);
        if (!nodeName.isEmpty()) names.add(nodeName);
        List<String> all = List.copyOf(names);
        serverCa.loadOrIssue("server-client", "etcd-server", List.of(), all, Usage.SERVER_AND_CLIENT);
        peerCa.loadOrIssue("peer-server-client", "etcd-peer", List.of(), all, Usage.SERVER_AND_CLIENT);
        serverCa.loadOrIssue("client", "etcd-client", List.of(), List.of(), Usage.CLIENT);
        return new EtcdPki(dir);
    }

    Path dir() {
        return dir;
    }

    Path serverCa() {
        return dir.resolve("server-ca.crt");
    }

    Path peerCa() {
        return dir.resolve("peer-ca.crt");
    }

    Path serverCert() {
        return dir.resolve("server-client.crt");
    }

    Path serverKey() {
        return dir.resolve("server-client.key");
    }

    Path peerCert() {
        return dir.resolve("peer-server-client.crt");
    }

    Path peerKey() {
        return dir.resolve("peer-server-client.key");
    }

    Path clientCert() {
        return dir.resolve("client.crt");
    }

    Path clientKey() {
        return dir.resolve("client.key");
    }
}
