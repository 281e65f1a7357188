package io.k3j.apiserver;

import io.k3j.apiserver.etcd.EtcdOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What {@code k3j server} runs with: k3s's flags, mapped by the CLI into one record.
 *
 * @param dataDir             {@code --data-dir}: server state lives in {@code <dataDir>/server}
 * @param bindAddress         {@code --bind-address}
 * @param httpsPort           {@code --https-listen-port}
 * @param advertiseAddress    {@code --advertise-address}: what discovery tells clients (defaults to the node IP)
 * @param tlsSans             {@code --tls-san}
 * @param writeKubeconfig     {@code --write-kubeconfig}; null to skip
 * @param writeKubeconfigMode {@code --write-kubeconfig-mode}, e.g. "0600"
 * @param token               {@code --token}; null to generate one on first start
 * @param datastoreEndpoint   {@code --datastore-endpoint}; "" for embedded SQLite, {@code memory://} for a
 *                            throwaway in-memory store, {@code http(s)://HOST:2379,...} for an external etcd
 * @param datastoreCaFile     {@code --datastore-cafile}: CA bundle the datastore's server certificate must chain to; may be null
 * @param datastoreCertFile   {@code --datastore-certfile}: client certificate for the datastore; may be null
 * @param datastoreKeyFile    {@code --datastore-keyfile}: its key; may be null
 * @param etcd                {@code --cluster-init}, {@code --server} and the other embedded-etcd flags
 */
public record ServerConfig(
        Path dataDir,
        String bindAddress,
        int httpsPort,
        String advertiseAddress,
        List<String> tlsSans,
        Path writeKubeconfig,
        String writeKubeconfigMode,
        String token,
        String datastoreEndpoint,
        String clusterCidr,
        String serviceCidr,
        String clusterDns,
        String clusterDomain,
        String nodeName,
        List<String> nodeIps,
        Path datastoreCaFile,
        Path datastoreCertFile,
        Path datastoreKeyFile,
        EtcdOptions etcd) {

    public ServerConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        if (etcd == null) etcd = EtcdOptions.defaults();
        tlsSans = List.copyOf(tlsSans);
        nodeIps = List.copyOf(nodeIps);
        if (httpsPort < 0 || httpsPort > 65535) {
            throw new IllegalArgumentException("https-listen-port : " + httpsPort + " (expected: 0-65535)");
        }
    }

    /** Without datastore TLS files and embedded etcd (the record as it was before they were added). */
    public ServerConfig(Path dataDir, String bindAddress, int httpsPort, String advertiseAddress, List<String> tlsSans,
                        Path writeKubeconfig, String writeKubeconfigMode, String token, String datastoreEndpoint,
                        String clusterCidr, String serviceCidr, String clusterDns, String clusterDomain, String nodeName,
                        List<String> nodeIps) {
        this(dataDir, bindAddress, httpsPort, advertiseAddress, tlsSans, writeKubeconfig, writeKubeconfigMode, token,
                datastoreEndpoint, clusterCidr, serviceCidr, clusterDns, clusterDomain, nodeName, nodeIps, null, null, null, EtcdOptions.defaults());
    }

    public Path serverDir() {
        return dataDir.resolve("server");
    }

    /**
     * The address this server gives the rest of the cluster (the {@code kubernetes} Endpoints, its etcd member's
     * URLs, discovery): {@code --advertise-address}, else the first {@code --node-ip}, else {@code --bind-address}
     * when it names one address, else (as k3s does) the node's primary address: the source address of its default
     * route; 127.0.0.1 only when there is no route at all. Pods reach the API through the {@code kubernetes}
     * Service, so a loopback address there would be unreachable from every pod.
     */
    public String advertisedAddress() {
        if (advertiseAddress != null && !advertiseAddress.isBlank()) return advertiseAddress.strip();
        if (!nodeIps.isEmpty()) return nodeIps.getFirst();
        if (bindAddress != null && !bindAddress.isBlank() && !bindAddress.equals("0.0.0.0") && !bindAddress.equals("::")) return bindAddress;
        // the source address the kernel would use towards the outside; connecting a UDP socket sends nothing
        try (DatagramSocket s = new DatagramSocket()) {
            s.connect(new InetSocketAddress("192.0.2.1", 9));
            InetAddress a = s.getLocalAddress();
            if (a != null && !a.isAnyLocalAddress()) return a.getHostAddress();
        } catch (IOException | UncheckedIOException noRoute) {
            // loopback below
        }
        return "127.0.0.1";
    }

    /** Defaults as k3s has them, under {@code dataDir}. */
    public static ServerConfig defaults(Path dataDir) {
        return new ServerConfig(dataDir, "0.0.0.0", 6443, "", List.of(), null, "0600", null, "",
                "10.42.0.0/16", "10.43.0.0/16", "10.43.0.10", "cluster.local", "", List.of());
    }

    public ServerConfig withPort(int port) {
        return new ServerConfig(dataDir, bindAddress, port, advertiseAddress, tlsSans, writeKubeconfig, writeKubeconfigMode, token,
                datastoreEndpoint, clusterCidr, serviceCidr, clusterDns, clusterDomain, nodeName, nodeIps,
                datastoreCaFile, datastoreCertFile, datastoreKeyFile, etcd);
    }

    public ServerConfig withKubeconfig(Path file) {
        return new ServerConfig(dataDir, bindAddress, httpsPort, advertiseAddress, tlsSans, file, writeKubeconfigMode, token,
                datastoreEndpoint, clusterCidr, serviceCidr, clusterDns, clusterDomain, nodeName, nodeIps,
                datastoreCaFile, datastoreCertFile, datastoreKeyFile, etcd);
    }

    public ServerConfig withEtcd(EtcdOptions etcd) {
        return new ServerConfig(dataDir, bindAddress, httpsPort, advertiseAddress, tlsSans, writeKubeconfig, writeKubeconfigMode, token,
                datastoreEndpoint, clusterCidr, serviceCidr, clusterDns, clusterDomain, nodeName, nodeIps,
                datastoreCaFile, datastoreCertFile, datastoreKeyFile, etcd);
    }

    public ServerConfig withToken(String token) {
        return new ServerConfig(dataDir, bindAddress, httpsPort, advertiseAddress, tlsSans, writeKubeconfig, writeKubeconfigMode, token,
                datastoreEndpoint, clusterCidr, serviceCidr, clusterDns, clusterDomain, nodeName, nodeIps,
                datastoreCaFile, datastoreCertFile, datastoreKeyFile, etcd);
    }

    public ServerConfig withDatastore(String endpoint) {
        return new ServerConfig(dataDir, bindAddress, httpsPort, advertiseAddress, tlsSans, writeKubeconfig, writeKubeconfigMode, token,
                endpoint, clusterCidr, serviceCidr, clusterDns, clusterDomain, nodeName, nodeIps,
                datastoreCaFile, datastoreCertFile, datastoreKeyFile, etcd);
    }

    /** With {@code --datastore-cafile/--datastore-certfile/--datastore-keyfile}; each may be null. */
    public ServerConfig withDatastoreTls(Path caFile, Path certFile, Path keyFile) {
        return new ServerConfig(dataDir, bindAddress, httpsPort, advertiseAddress, tlsSans, writeKubeconfig, writeKubeconfigMode, token,
                datastoreEndpoint, clusterCidr, serviceCidr, clusterDns, clusterDomain, nodeName, nodeIps, caFile, certFile, keyFile, etcd);
    }
}
