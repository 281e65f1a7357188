package io.k3j.apiserver.pki;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * A certificate authority kept as {@code <dir>/<name>.crt} and {@code .key}, with the same rules as the cluster's
 * own CAs in {@link ClusterPki}: created once (ECDSA P-256, 10 years), never replaced, and leaves issued into the
 * same folder are re-issued at load time when missing, no longer signed by it, near expiry or short of a SAN.
 * Used for the CAs that are not the API server's, such as embedded etcd's server and peer CAs
 * ({@code tls/etcd/server-ca}, {@code tls/etcd/peer-ca}, as k3s lays them out).
 */
public final class CertificateAuthority {

    /** What a leaf may be used for (its extended key usage, which Go's and the JDK's verifiers check). */
    public enum Usage {
        SERVER(Certificates.Usage.SERVER),
        CLIENT(Certificates.Usage.CLIENT),
        /** Both: an etcd member presents its serving certificate when it dials its peers (and its own gateway). */
        SERVER_AND_CLIENT(Certificates.Usage.SERVER_AND_CLIENT);

        private final Certificates.Usage usage;

        Usage(Certificates.Usage usage) {
            this.usage = usage;
        }
    }

    private final Path dir;
    private final ClusterPki.Authority authority;
    private final Clock clock;

    private CertificateAuthority(Path dir, ClusterPki.Authority authority, Clock clock) {
        this.dir = dir;
        this.authority = authority;
        this.clock = clock;
    }

    /**
     * Loads {@code <dir>/<name>.crt/.key}, creating the CA (and the folder, mode 0700) when both are absent.
     *
     * @param cnPrefix the CA's common name is {@code <cnPrefix>-ca@<unix seconds>}, as k3s names its CAs
     * @throws IOException if the folder cannot be written, or one of the two files exists without the other or is
     *                     unreadable (a CA is never silently replaced)
     */
    public static CertificateAuthority loadOrCreate(Path dir, String name, String cnPrefix, Clock clock) throws IOException {
        requireNonNull(dir, "dir");
        requireNonNull(name, "name");
        requireNonNull(cnPrefix, "cnPrefix");
        requireNonNull(clock, "clock");
        SecureFiles.createPrivateDirectory(dir);
        return new CertificateAuthority(dir, ClusterPki.loadOrCreateCa(dir, name, cnPrefix, clock.instant()), clock);
    }

    /** The CA certificate as stored in {@code <name>.crt}. */
    public String certificatePem() {
        return authority.pem();
    }

    /**
     * Loads the leaf {@code <dir>/<name>.crt/.key}, issuing (and writing: key 0600, certificate 0644, chain = leaf
     * then this CA) a fresh one with a new P-256 key when it is missing or no longer fits.
     *
     * @param sans IP literals and DNS names
     * @throws IOException              if the files cannot be written
     * @throws IllegalArgumentException if {@code cn} is empty or a SAN is malformed
     */
    public CertAndKey loadOrIssue(String name, String cn, List<String> orgs, List<String> sans, Usage usage) throws IOException {
        requireNonNull(name, "name");
        requireNonNull(cn, "cn");
        requireNonNull(orgs, "orgs");
        requireNonNull(sans, "sans");
        requireNonNull(usage, "usage");
        if (cn.isEmpty()) {
            throw new IllegalArgumentException("cn : \"\" (expected: a non-empty common name)");
        }
        ClusterPki.Leaf leaf = ClusterPki.loadOrIssueLeaf(dir, name, cn, orgs, SubjectAltNames.of(sans), usage.usage,
                authority, clock.instant());
        return new CertAndKey(leaf.certPem(), leaf.keyPem());
    }

    /** The folder the CA and its leaves live in. */
    public Path dir() {
        return dir;
    }

    @Override
    public String toString() {
        return "CertificateAuthority[" + dir + ", " + authority.cert().getSubjectX500Principal() + "]";
    }
}
