package io.k3j.apiserver.pki;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLException;

/**
 * The cluster's certificate authorities and the certificates the server itself needs, kept under
 * {@code <server data dir>/tls/} with k3s's file names:
 *
 * <pre>
 * server-ca.crt / .key               signs serving certificates (API server, later kubelets); its PEM file is the
 *                                    bundle joiners download from /cacerts and that the K10 token hashes
 * client-ca.crt / .key               signs client certificates; the API server trusts it for client auth
 * serving-kube-apiserver.crt / .key  the API server's serving certificate (leaf + server CA)
 * client-admin.crt / .key            CN=system:admin, O=system:masters (leaf + client CA), for the admin kubeconfig
 * client-kube-apiserver.crt / .key   CN=system:apiserver, O=system:masters (leaf + client CA): the API server's
 *                                    identity when it calls kubelets (logs, exec, port-forward), as in k3s
 * service.key                        the key that signs (and verifies) service-account tokens
 * </pre>
 *
 * <p>Two CAs, as in k3s: a client certificate can then never be presented as a serving certificate or the other way
 * round, and the server CA that joiners pin by hash only vouches for servers. Keys are ECDSA P-256, as k3s's
 * certificate keys are. A new service.key is ECDSA P-256 too (tokens signed ES256, which kube-apiserver accepts
 * and kubeadm makes with {@code encryptionAlgorithm: ECDSA-P256}), not RSA 2048 as k3s's: an RSA key's prime search
 * was the largest single cost of a first start (0.3-0.5 s of CPU in a cold JVM, ~1 s with C1 only, and of varying
 * length), and was on the way to the first ready answer. An existing service.key, RSA included, is kept: the tokens
 * it signed stay valid. CAs last 10 years, leaves 1 year; a leaf is
 * re-issued at start when it is missing, not signed by the current CA, within 90 days of expiry (k3s's renewal
 * window), or (the serving certificate) when its SANs no longer cover the required ones. CAs are never replaced.
 * Keys are written 0600, certificates 0644, the folder 0700.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ClusterPki {

    /** k3s's CA lifetime. */
    public static final Duration CA_VALIDITY = Duration.ofDays(3650);
    /** k3s's leaf lifetime. */
    public static final Duration LEAF_VALIDITY = Duration.ofDays(365);
    /** k3s renews leaves that expire within this window (CertificateRenewDays). */
    static final Duration RENEW_BEFORE = Duration.ofDays(90);
    /** Leaves start a little in the past so that a joining node whose clock lags still accepts them. */
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

    private final Path tlsDir;
    private final PkiOptions options;
    private final Authority serverCa;
    private final Authority clientCa;
    private final X509Certificate[] servingChain;
    private final PrivateKey servingKey;
    private final CertAndKey admin;
    private final CertAndKey kubeletClient;
    private final KeyPair serviceAccountKey;
    private final List<String> servingSans;
    private volatile SslContext sslContext;

    record Authority(X509Certificate cert, PrivateKey key, String pem) {
    }

    private ClusterPki(Path tlsDir, PkiOptions options, Authority serverCa, Authority clientCa,
                       X509Certificate[] servingChain, PrivateKey servingKey, CertAndKey admin,
                       CertAndKey kubeletClient, KeyPair serviceAccountKey) {
        this.tlsDir = tlsDir;
        this.options = options;
        this.serverCa = serverCa;
        this.clientCa = clientCa;
        this.servingChain = servingChain;
        this.servingKey = servingKey;
        this.admin = admin;
        this.kubeletClient = kubeletClient;
        this.serviceAccountKey = serviceAccountKey;
        this.servingSans = List.copyOf(SubjectAltNames.namesOf(servingChain[0]));
    }

    /**
     * Loads the PKI from {@code <serverDataDir>/tls/}, creating whatever is missing and re-issuing leaves that no
     * longer fit (see the class comment).
     *
     * @throws IOException if the folder cannot be written, or a CA's certificate or key exists without the other
     *                     or cannot be read (a CA is never silently replaced: every issued certificate hangs on it)
     */
    public static ClusterPki loadOrCreate(Path serverDataDir, PkiOptions opts) throws IOException {
        requireNonNull(serverDataDir, "serverDataDir");
        requireNonNull(opts, "opts");
        Path tls = serverDataDir.resolve("tls");
        SecureFiles.createPrivateDirectory(tls);
        Instant now = opts.clock().instant();

        Authority serverCa = loadOrCreateCa(tls, "server-ca", "k3j-server", now);
        Authority clientCa = loadOrCreateCa(tls, "client-ca", "k3j-client", now);

        SubjectAltNames required = requiredSans(opts);
        Leaf serving = loadOrIssueLeaf(tls, "serving-kube-apiserver", "kube-apiserver", List.of(), required,
                Certificates.Usage.SERVER, serverCa, now);
        Leaf admin = loadOrIssueLeaf(tls, "client-admin", "system:admin", List.of("system:masters"),
                SubjectAltNames.of(List.of()), Certificates.Usage.CLIENT, clientCa, now);
        Leaf kubeletClient = loadOrIssueLeaf(tls, "client-kube-apiserver", "system:apiserver",
                List.of("system:masters"), SubjectAltNames.of(List.of()), Certificates.Usage.CLIENT, clientCa, now);
        KeyPair serviceKey = loadOrCreateServiceKey(tls.resolve("service.key"));

        return new ClusterPki(tls, opts, serverCa, clientCa, serving.chain.toArray(X509Certificate[]::new),
                serving.key, new CertAndKey(admin.certPem, admin.keyPem),
                new CertAndKey(kubeletClient.certPem, kubeletClient.keyPem), serviceKey);
    }

    /** The fixed names every API server certificate carries, then the configured ones. */
    static SubjectAltNames requiredSans(PkiOptions opts) {
        SubjectAltNames fixed = SubjectAltNames.of(List.of(
                "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc." + opts.clusterDomain(),
                "127.0.0.1", "::1", SubjectAltNames.firstServiceIp(opts.serviceCidr()).getHostAddress()));
        return fixed.plus(SubjectAltNames.of(opts.sans()));
    }

    // ---- accessors -------------------------------------------------------------------------------------------

    /** {@code <serverDataDir>/tls}. */
    public Path tlsDir() {
        return tlsDir;
    }

    public X509Certificate serverCaCertificate() {
        return serverCa.cert;
    }

    public X509Certificate clientCaCertificate() {
        return clientCa.cert;
    }

    /**
     * The server CA bundle exactly as stored in {@code server-ca.crt}: what {@code /cacerts} answers and what the
     * K10 join token's hash is computed over.
     */
    public String serverCaPem() {
        return serverCa.pem;
    }

    /** {@link #serverCaPem()} as the bytes that are hashed. */
    public byte[] serverCaBundle() {
        return serverCa.pem.getBytes(StandardCharsets.US_ASCII);
    }

    public String clientCaPem() {
        return clientCa.pem;
    }

    /** The admin client certificate (CN=system:admin, O=system:masters; chain with the client CA) and its key. */
    public CertAndKey adminCredentials() {
        return admin;
    }

    /**
     * The API server's client certificate for calling kubelets (CN=system:apiserver, O=system:masters; chain with
     * the client CA) and its key; a kubelet API trusts the client CA and this identity.
     */
    public CertAndKey kubeletClientCredentials() {
        return kubeletClient;
    }

    /**
     * {@link #kubeletClientCredentials()} ready for a TLS client: the key and the chain (leaf, then the client CA).
     *
     * @throws SSLException if the stored PEM cannot be read
     */
    public KeyAndChain kubeletClientKeyAndChain() throws SSLException {
        try {
            return new KeyAndChain(Pem.parsePrivateKey(kubeletClient.privateKeyPem()),
                    Pem.parseCertificates(kubeletClient.certificatePem()).toArray(X509Certificate[]::new));
        } catch (IOException | CertificateException e) {
            throw new SSLException("reading the kubelet client certificate: " + e.getMessage(), e);
        }
    }

    /** A private key and its certificate chain, leaf first. */
    public record KeyAndChain(PrivateKey key, X509Certificate[] chain) { }

    /** The API server's serving chain: leaf first, then the server CA. */
    public X509Certificate[] servingCertificateChain() {
        return servingChain.clone();
    }

    /** The DNS names and IPs the serving certificate carries. */
    public List<String> servingSans() {
        return servingSans;
    }

    /**
     * The key pair in {@code service.key} that signs service-account tokens: ECDSA P-256 when this server made it,
     * or whatever RSA or EC key an existing data dir holds.
     */
    public KeyPair serviceAccountKeyPair() {
        return serviceAccountKey;
    }

    /**
     * The TLS context for the API server's listener: the serving chain, TLS 1.3/1.2 with HTTP/2-approved ciphers,
     * ALPN offering {@code h2} then {@code http/1.1} (JDK provider; a client that offers neither still gets
     * through, and the server falls back to HTTP/1.1), and optional client certificates that must chain to the
     * client CA (a client presenting a certificate from another CA fails the handshake, like kube-apiserver).
     *
     * @throws SSLException if the JDK rejects the key material
     */
    public SslContext serverSslContext() throws SSLException {
        SslContext ctx = sslContext;
        if (ctx == null) {
            synchronized (this) {
                ctx = sslContext;
                if (ctx == null) {
                    ctx = SslContextBuilder.forServer(servingKey, servingChain)
                            .keyStoreType(IN_MEMORY_KEY_STORE)
                            .sslProvider(SslProvider.isAlpnSupported(SslProvider.OPENSSL) ? SslProvider.OPENSSL : SslProvider.JDK)
                            .protocols("TLSv1.3", "TLSv1.2")
                            .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                            .trustManager(clientCa.cert)
                            .clientAuth(ClientAuth.OPTIONAL)
                            .applicationProtocolConfig(new ApplicationProtocolConfig(
                                    ApplicationProtocolConfig.Protocol.ALPN,
                                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                                    ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                            .build();
                    sslContext = ctx;
                }
            }
        }
        return ctx;
    }

    /**
     * Loads and probes the TLS engine {@link #serverSslContext()} prefers, BoringSSL through netty-tcnative (its native
     * library copied out of the jar and loaded, its ciphers listed: ~0.3 s of CPU in a cold JVM, as much as reading or
     * making all the keys), so that a server can have it done on another thread while the keys are read or made.
     * Safe to call from any thread, any number of times: the work is a class initializer, which the JVM runs once
     * while other callers wait for it.
     */
    public static void prepareTlsEngine() {
        SslProvider.isAlpnSupported(SslProvider.OPENSSL);
    }

    /**
     * The type of the key store Netty puts a key and its chain in to make a key manager: JKS, not the default
     * PKCS12, whose key protection is PBKDF2 with 10,000 iterations, once to store and once to read back; that was
     * ~40% of the server's start-up work on its main thread (JFR). The store lives in memory only.
     */
    public static final String IN_MEMORY_KEY_STORE = "JKS";

    // ---- issuing ---------------------------------------------------------------------------------------------

    /**
     * Issues a client certificate signed by the client CA, with a fresh P-256 key, e.g. {@code system:node:<name>}
     * in {@code system:nodes} for an agent. Nothing is written to disk.
     *
     * @return the certificate chain (leaf, client CA) and key, as PEM
     * @throws IllegalArgumentException if {@code cn} is empty or {@code validity} is not positive
     */
    public CertAndKey issueClientCert(String cn, List<String> orgs, Duration validity) {
        checkSubject(cn, orgs, validity);
        return issue(cn, orgs, SubjectAltNames.of(List.of()), Certificates.Usage.CLIENT, clientCa, validity);
    }

    /**
     * Issues a serving certificate signed by the server CA, with a fresh P-256 key, e.g. for a kubelet's :10250
     * listener (k3s signs those with the server CA too). Nothing is written to disk.
     *
     * @param sans IP literals and DNS names
     * @return the certificate chain (leaf, server CA) and key, as PEM
     * @throws IllegalArgumentException if {@code cn} is empty, a SAN is malformed or {@code validity} is not
     *                                  positive
     */
    public CertAndKey issueServingCert(String cn, List<String> sans, Duration validity) {
        checkSubject(cn, List.of(), validity);
        return issue(cn, List.of(), SubjectAltNames.of(requireNonNull(sans, "sans")), Certificates.Usage.SERVER,
                serverCa, validity);
    }

    /**
     * Signs a client certificate for a key the requester keeps (an agent sends its public key in a CSR, so its
     * private key never leaves the node).
     *
     * @return the certificate chain (leaf, client CA) as PEM
     * @throws IllegalArgumentException as {@link #issueClientCert}
     */
    public String signClientCert(String cn, List<String> orgs, java.security.PublicKey key, Duration validity) {
        checkSubject(cn, orgs, validity);
        return sign(cn, orgs, SubjectAltNames.of(List.of()), Certificates.Usage.CLIENT, clientCa,
                requireNonNull(key, "key"), validity);
    }

    /**
     * Signs a serving certificate (server CA) for a key the requester keeps.
     *
     * @return the certificate chain (leaf, server CA) as PEM
     * @throws IllegalArgumentException as {@link #issueServingCert}
     */
    public String signServingCert(String cn, List<String> sans, java.security.PublicKey key, Duration validity) {
        checkSubject(cn, List.of(), validity);
        return sign(cn, List.of(), SubjectAltNames.of(requireNonNull(sans, "sans")), Certificates.Usage.SERVER,
                serverCa, requireNonNull(key, "key"), validity);
    }

    private String sign(String cn, List<String> orgs, SubjectAltNames sans, Certificates.Usage usage, Authority ca,
                        java.security.PublicKey key, Duration validity) {
        Instant now = options.clock().instant();
        X509Certificate cert = Certificates.newLeaf(cn, orgs, sans, usage, key, ca.cert, ca.key,
                notBefore(now, ca.cert), now.plus(validity));
        return Pem.encode(cert, ca.cert);
    }

    private CertAndKey issue(String cn, List<String> orgs, SubjectAltNames sans, Certificates.Usage usage,
                             Authority ca, Duration validity) {
        Instant now = options.clock().instant();
        KeyPair keys = Certificates.newEcKeyPair();
        X509Certificate cert = Certificates.newLeaf(cn, orgs, sans, usage, keys.getPublic(), ca.cert, ca.key,
                notBefore(now, ca.cert), now.plus(validity));
        return new CertAndKey(Pem.encode(cert, ca.cert), Pem.encode(keys));
    }

    private static void checkSubject(String cn, List<String> orgs, Duration validity) {
        requireNonNull(cn, "cn");
        requireNonNull(orgs, "orgs");
        requireNonNull(validity, "validity");
        if (cn.isEmpty()) {
            throw new IllegalArgumentException("cn : \"\" (expected: a non-empty common name)");
        }
        if (orgs.stream().anyMatch(o -> o == null || o.isEmpty())) {
            throw new IllegalArgumentException("orgs : " + orgs + " (expected: non-empty organization names)");
        }
        if (validity.isNegative() || validity.isZero()) {
            throw new IllegalArgumentException("validity : " + validity + " (expected: > 0)");
        }
    }

    private static Instant notBefore(Instant now, X509Certificate ca) {
        Instant early = now.minus(CLOCK_SKEW);
        Instant caStart = ca.getNotBefore().toInstant();
        return early.isBefore(caStart) ? caStart : early;
    }

    // ---- files -----------------------------------------------------------------------------------------------

    static Authority loadOrCreateCa(Path tls, String base, String cnPrefix, Instant now) throws IOException {
        Path crt = tls.resolve(base + ".crt");
        Path key = tls.resolve(base + ".key");
        boolean hasCrt = Files.exists(crt);
        boolean hasKey = Files.exists(key);
        if (hasCrt != hasKey) {
            throw new IOException("found " + (hasCrt ? crt : key) + " without " + (hasCrt ? key : crt)
                    + "; restore it or remove both to create a new CA (every issued certificate will be invalid)");
        }
        if (hasCrt) {
            String pem = Files.readString(crt, StandardCharsets.US_ASCII);
            try {
                X509Certificate cert = Pem.parseCertificates(pem).getFirst();
                PrivateKey privateKey = Pem.parsePrivateKey(Files.readString(key, StandardCharsets.US_ASCII));
                if (!Certificates.pairs(cert.getPublicKey(), privateKey)) {
                    throw new IOException(key + " is not the key of " + crt);
                }
                return new Authority(cert, privateKey, pem);
            } catch (CertificateException e) {
                throw new IOException("reading CA certificate " + crt, e);
            }
        }
        KeyPair keys = Certificates.newEcKeyPair();
        // k3s names its CAs <program>-<kind>-ca@<unix seconds>, so a re-created CA is told apart at a glance.
        X509Certificate cert = Certificates.newCa(cnPrefix + "-ca@" + now.getEpochSecond(), keys, now,
                now.plus(CA_VALIDITY));
        String pem = Pem.encode(cert);
        SecureFiles.write(key, Pem.encode(keys), SecureFiles.KEY_MODE);
        SecureFiles.write(crt, pem, SecureFiles.CERT_MODE);
        return new Authority(cert, keys.getPrivate(), pem);
    }

    record Leaf(List<X509Certificate> chain, PrivateKey key, String certPem, String keyPem) {
    }

    static Leaf loadOrIssueLeaf(Path tls, String base, String cn, List<String> orgs, SubjectAltNames sans,
                                        Certificates.Usage usage, Authority ca, Instant now) throws IOException {
        Path crt = tls.resolve(base + ".crt");
        Path key = tls.resolve(base + ".key");
        Leaf existing = readLeaf(crt, key);
        if (existing != null && stillGood(existing, cn, sans, ca, now)) {
            return existing;
        }
        KeyPair keys = Certificates.newEcKeyPair();
        X509Certificate cert = Certificates.newLeaf(cn, orgs, sans, usage, keys.getPublic(), ca.cert, ca.key,
                notBefore(now, ca.cert), now.plus(LEAF_VALIDITY));
        String certPem = Pem.encode(cert, ca.cert);
        String keyPem = Pem.encode(keys);
        // Key first: a crash in between leaves a pair that fails the pairing check and is re-issued next start.
        SecureFiles.write(key, keyPem, SecureFiles.KEY_MODE);
        SecureFiles.write(crt, certPem, SecureFiles.CERT_MODE);
        return new Leaf(List.of(cert, ca.cert), keys.getPrivate(), certPem, keyPem);
    }

    /** The stored leaf, or null when it is absent or unreadable (it is then re-issued). */
    private static Leaf readLeaf(Path crt, Path key) throws IOException {
        if (!Files.exists(crt) || !Files.exists(key)) {
            return null;
        }
        String certPem = Files.readString(crt, StandardCharsets.US_ASCII);
        String keyPem = Files.readString(key, StandardCharsets.US_ASCII);
        try {
            List<X509Certificate> chain = Pem.parseCertificates(certPem);
            PrivateKey privateKey = Pem.parsePrivateKey(keyPem);
            return new Leaf(chain, privateKey, certPem, keyPem);
        } catch (CertificateException | IOException e) {
            return null;
        }
    }

    private static boolean stillGood(Leaf leaf, String cn, SubjectAltNames sans, Authority ca, Instant now) {
        X509Certificate cert = leaf.chain.getFirst();
        return Certificates.signedBy(cert, ca.cert)
                && Certificates.pairs(cert.getPublicKey(), leaf.key)
                && cert.getNotAfter().toInstant().isAfter(now.plus(RENEW_BEFORE))
                && !cert.getNotBefore().toInstant().isAfter(now.plus(CLOCK_SKEW))
                && Objects.equals(commonName(cert), cn)
                && sans.coveredBy(cert);
    }

    static String commonName(X509Certificate cert) {
        var name = org.bouncycastle.asn1.x500.X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
        var rdns = name.getRDNs(org.bouncycastle.asn1.x500.style.BCStyle.CN);
        return rdns.length == 0 ? null : rdns[0].getFirst().getValue().toString();
    }

    private static KeyPair loadOrCreateServiceKey(Path file) throws IOException {
        if (Files.exists(file)) {
            return Pem.parseKeyPair(Files.readString(file, StandardCharsets.US_ASCII));
        }
        KeyPair keys = Certificates.newEcKeyPair();
        SecureFiles.write(file, Pem.encode(keys), SecureFiles.KEY_MODE);
        return keys;
    }

    @Override
    public String toString() {
        return "ClusterPki[" + tlsDir + ", serving SANs " + new ArrayList<>(servingSans) + "]";
    }
}
