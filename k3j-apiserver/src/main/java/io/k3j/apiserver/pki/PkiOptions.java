package io.k3j.apiserver.pki;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.util.List;

/**
 * What the cluster PKI needs from the server's flags.
 *
 * @param sans          extra subject alternative names for the API server's serving certificate: node IPs,
 *                      hostnames and {@code --tls-san} values, IP literals and DNS names mixed; the fixed names
 *                      ({@code localhost}, {@code 127.0.0.1}, {@code ::1}, {@code kubernetes.default.svc...} and the
 *                      first IP of the service CIDR) are always added
 * @param serviceCidr   {@code --service-cidr}; of a dual-stack list ({@code a,b}) the first range gives the
 *                      {@code kubernetes} service IP, as in k3s
 * @param clusterDomain {@code --cluster-domain}
 * @param clock         the time certificates are issued and checked at
 */
public record PkiOptions(List<String> sans, String serviceCidr, String clusterDomain, Clock clock) {

    public static final String DEFAULT_SERVICE_CIDR = "10.43.0.0/16";
    public static final String DEFAULT_CLUSTER_DOMAIN = "cluster.local";

    /**
     * @throws IllegalArgumentException if a SAN or the service CIDR is malformed
     */
    public PkiOptions {
        sans = List.copyOf(requireNonNull(sans, "sans"));
        requireNonNull(serviceCidr, "serviceCidr");
        requireNonNull(clusterDomain, "clusterDomain");
        requireNonNull(clock, "clock");
        SubjectAltNames.of(sans);
        SubjectAltNames.firstServiceIp(serviceCidr);
        if (clusterDomain.isEmpty()) {
            throw new IllegalArgumentException("clusterDomain : \"\" (expected: a DNS domain such as cluster.local)");
        }
    }

    /** No extra SANs, k3s's default service CIDR and cluster domain, the system clock. */
    public static PkiOptions defaults() {
        return new PkiOptions(List.of(), DEFAULT_SERVICE_CIDR, DEFAULT_CLUSTER_DOMAIN, Clock.systemUTC());
    }

    public PkiOptions withSans(List<String> sans) {
        return new PkiOptions(sans, serviceCidr, clusterDomain, clock);
    }

    public PkiOptions withServiceCidr(String serviceCidr) {
        return new PkiOptions(sans, serviceCidr, clusterDomain, clock);
    }

    public PkiOptions withClusterDomain(String clusterDomain) {
        return new PkiOptions(sans, serviceCidr, clusterDomain, clock);
    }

    public PkiOptions withClock(Clock clock) {
        return new PkiOptions(sans, serviceCidr, clusterDomain, clock);
    }
}
