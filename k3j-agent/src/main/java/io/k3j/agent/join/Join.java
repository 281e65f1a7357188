package io.k3j.agent.join;

import static java.util.Objects.requireNonNull;

import io.k3j.agent.kube.HttpKubeClient;
import io.k3j.agent.kube.KubeClient;
import io.k3j.agent.kube.TlsMaterial;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.security.auth.x500.X500Principal;

/**
 * How an agent joins a cluster, the k3s way:
 * <ol>
 * <li>download {@code /cacerts} trusting nothing and sending no secret;</li>
 * <li>check the bundle's SHA-256 against the token's hash (a secure token pins the CA: a wrong server or a
 *     man in the middle is refused before the password leaves the node);</li>
 * <li>with that CA trusted and the token as basic auth, send the server CSRs for the kubelet's client certificate
 *     ({@code system:node:<name>} in {@code system:nodes}) and its serving certificate (node name, node IPs,
 *     localhost). The node's private keys never leave it.</li>
 * </ol>
 * Everything is kept under the agent data dir {@code D}:
 * <pre>
 * D/tls/server-ca.crt                       the CA bundle, as /cacerts served it
 * D/tls/client-ca.crt                       the client CA: the kubelet API trusts callers it signed
 * D/tls/client-kubelet.crt, .key (0600)     the node's client identity
 * D/tls/serving-kubelet.crt, .key (0600)    the kubelet API's certificate
 * D/etc/node-password (0600)                the password that holds the node name (k3s: /etc/rancher/node/password)
 * D/etc/kubelet.kubeconfig (0600)           server, CA and client certificate for tools
 * </pre>
 * A restarted agent reuses its certificates while they are signed by the server's CA, name the node (and its IPs),
 * and have more than a third of their lifetime (at most 90 days) left; otherwise it asks again. When the server
 * cannot be reached but valid certificates are on disk, they are used as they are: a node rebooting offline still
 * comes up.
 */
public final class Join {
    private static final System.Logger LOG = System.getLogger(Join.class.getName());
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Duration MAX_RENEW_WINDOW = Duration.ofDays(90);

    private Join() {
    }

    /**
     * What joining produced.
     *
     * @param caPem       the server CA (trust it for the API server)
     * @param clientCaPem the client CA (a kubelet API trusts client certificates it signed: the API server's)
     * @param client      a ready client authenticated as the node; the caller closes it
     */
    public record Joined(String nodeName, URI server, String caPem, String clientCaPem, String clientCertPem,
                         String clientKeyPem, String servingCertPem, String servingKeyPem, Path kubeconfig, HttpKubeClient client) {
        @Override
        public String toString() {
            return "Joined[" + nodeName + " at " + server + ", kubeconfig " + kubeconfig + "]";
        }
    }

    /** {@link #bootstrap(URI, String, String, List, Path, Clock)} on the system clock. */
    public static Joined bootstrap(URI server, String token, String nodeName, List<String> nodeIps, Path agentDataDir) {
        return bootstrap(server, token, nodeName, nodeIps, agentDataDir, Clock.systemUTC());
    }

    /**
     * Joins (or re-joins) the cluster at {@code server}.
     *
     * @param token    {@code K10<hash>::<user>:<password>} or a bare password
     * @param nodeIps  the node's addresses, put in the serving certificate
     * @throws JoinException        for what the operator must fix: a malformed token, the token's CA hash not matching
     *                              the server's CA, the token refused (401), the node name taken (403)
     * @throws KubeClient.Unreachable when the server cannot be reached and no usable certificates are on disk
     */
    public static Joined bootstrap(URI server, String token, String nodeName, List<String> nodeIps, Path agentDataDir,
                                   Clock clock) {
        requireNonNull(server, "server");
        requireNonNull(nodeName, "nodeName");
        requireNonNull(nodeIps, "nodeIps");
        requireNonNull(agentDataDir, "agentDataDir");
        JoinToken parsed;
        try {
            parsed = JoinToken.parse(token);
        } catch (IllegalArgumentException e) {
            throw new JoinException("invalid --token: " + e.getMessage(), e);
        }
        Layout d = new Layout(agentDataDir);
        try {
            d.create();
            String caPem;
            try {
                caPem = fetchCa(server, parsed);
            } catch (KubeClient.Unreachable e) {
                Joined offline = fromDisk(d, server, nodeName, nodeIps, clock, null);
                if (offline == null) throw e;
                LOG.log(System.Logger.Level.WARNING, "server " + server + " unreachable (" + e.getMessage()
                        + "); using the node certificates on disk");
                return offline;
            }
            Joined reused = fromDisk(d, server, nodeName, nodeIps, clock, caPem);
            if (reused != null) return reused;

            String password = d.nodePassword();
            try (HttpKubeClient http = HttpKubeClient.withBasicAuth(server, caPem, parsed.username(), parsed.password())) {
                KeyPair clientKeys = newKeyPair();
                String clientChain = requestCert(http, "client-kubelet.crt", nodeName, password, nodeIps,
                        Csr.pem("system:node:" + nodeName, clientKeys));
                KeyPair servingKeys = newKeyPair();
                String servingChain = requestCert(http, "serving-kubelet.crt", nodeName, password, nodeIps,
                        Csr.pem(nodeName, servingKeys));
                String clientCa = fetchClientCa(http, server);
                String clientKey = pkcs8(clientKeys.getPrivate());
                String servingKey = pkcs8(servingKeys.getPrivate());
                writeAtomically(d.ca, caPem, "rw-r--r--");
                writeAtomically(d.clientCa, clientCa, "rw-r--r--");
                writeAtomically(d.clientKey, clientKey, "rw-------");
                writeAtomically(d.clientCert, clientChain, "rw-r--r--");
                writeAtomically(d.servingKey, servingKey, "rw-------");
                writeAtomically(d.servingCert, servingChain, "rw-r--r--");
                LOG.log(System.Logger.Level.INFO, "joined " + server + " as node " + nodeName);
                return finish(d, server, nodeName, caPem, clientCa, clientChain, clientKey, servingChain, servingKey);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("joining " + server + ": writing " + agentDataDir, e);
        }
    }

    // ---- steps -----------------------------------------------------------------------------------------------

    private static String fetchCa(URI server, JoinToken token) {
        byte[] bundle;
        try (HttpKubeClient http = HttpKubeClient.trustingAnyServer(server)) {
            HttpKubeClient.Answer resp = http.exchange("GET", "/cacerts", Map.of(), null, TIMEOUT);
            if (resp.status() != 200) {
                throw new JoinException("fetching the cluster CA from " + server + "/cacerts: HTTP " + resp.status()
                        + " (is this a k3j or k3s server?)");
            }
            bundle = resp.body();
        }
        if (token.caHash().isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "the token has no CA hash: trusting the CA " + server
                    + " sent without verification (use the K10... token from the server to pin it)");
        } else if (!token.matches(bundle)) {
            throw new JoinException("token CA hash does not match the server's CA: wrong server or wrong token"
                    + " (token " + token.caHash().get() + ", server " + JoinToken.hash(bundle) + ")");
        }
        String pem = new String(bundle, StandardCharsets.US_ASCII);
        try {
            TlsMaterial.certificates(pem);
        } catch (IllegalArgumentException e) {
            throw new JoinException(server + "/cacerts did not answer a PEM certificate bundle: " + e.getMessage(), e);
        }
        return pem;
    }

    private static String fetchClientCa(HttpKubeClient http, URI server) {
        HttpKubeClient.Answer resp = http.exchange("GET", "/v1-k3s/client-ca.crt", Map.of(), null, TIMEOUT);
        if (resp.status() == 401) throw new JoinException("the server refused the join token (401): check --token");
        if (resp.status() != 200) {
            throw new JoinException("fetching the client CA from " + server + ": HTTP " + resp.status());
        }
        String pem = new String(resp.body(), StandardCharsets.US_ASCII);
        TlsMaterial.certificates(pem);
        return pem;
    }

    private static String requestCert(HttpKubeClient http, String file, String nodeName, String nodePassword,
                                      List<String> nodeIps, String csrPem) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/pkcs10");
        headers.put("k3s-Node-Name", nodeName);
        headers.put("k3s-Node-Password", nodePassword);
        if (!nodeIps.isEmpty()) headers.put("k3s-Node-IP", String.join(",", nodeIps));
        HttpKubeClient.Answer resp = http.exchange("POST", "/v1-k3s/" + file, headers,
                csrPem.getBytes(StandardCharsets.US_ASCII), TIMEOUT);
        int code = resp.status();
        if (code == 401) throw new JoinException("the server refused the join token (401): check --token");
        if (code != 200) {
            String message = new String(resp.body(), StandardCharsets.UTF_8);
            try {
                message = Json.text(Json.parseObject(resp.body()), "message");
            } catch (ApiException | IllegalArgumentException e) {
                // not a Status: keep the text
            }
            throw new JoinException("requesting " + file + " for node " + nodeName + " was refused (" + code + "): "
                    + message);
        }
        return new String(resp.body(), StandardCharsets.US_ASCII);
    }

    private static Joined fromDisk(Layout d, URI server, String nodeName, List<String> nodeIps, Clock clock,
                                   String serverCaPem) throws IOException {
        if (!java.nio.file.Files.exists(d.ca) || !java.nio.file.Files.exists(d.clientCa)
                || !java.nio.file.Files.exists(d.clientCert)
                || !java.nio.file.Files.exists(d.clientKey) || !java.nio.file.Files.exists(d.servingCert)
                || !java.nio.file.Files.exists(d.servingKey)) {
            return null;
        }
        String caPem = java.nio.file.Files.readString(d.ca, StandardCharsets.US_ASCII);
        if (serverCaPem != null && !serverCaPem.equals(caPem)) return null;
        String clientChain = java.nio.file.Files.readString(d.clientCert, StandardCharsets.US_ASCII);
        String clientKey = java.nio.file.Files.readString(d.clientKey, StandardCharsets.US_ASCII);
        String servingChain = java.nio.file.Files.readString(d.servingCert, StandardCharsets.US_ASCII);
        String servingKey = java.nio.file.Files.readString(d.servingKey, StandardCharsets.US_ASCII);
        try {
            X509Certificate ca = TlsMaterial.certificates(caPem).getFirst();
            X509Certificate client = TlsMaterial.certificates(clientChain).getFirst();
            X509Certificate serving = TlsMaterial.certificates(servingChain).getFirst();
            Instant now = clock.instant();
            if (!usable(client, now) || !usable(serving, now)) return null;
            if (!client.getSubjectX500Principal().equals(
                    new X500Principal("CN=system:node:" + nodeName + ", O=system:nodes"))
                    && !cn(client).equals("system:node:" + nodeName)) {
                return null;
            }
            if (!cn(serving).equals(nodeName) || !sans(serving).containsAll(servingSans(nodeName, nodeIps))) return null;
            // the client chain ends with the client CA; the serving certificate must hang on the server CA
            serving.verify(ca.getPublicKey());
            if (!pairs(client, TlsMaterial.privateKey(clientKey)) || !pairs(serving, TlsMaterial.privateKey(servingKey))) {
                return null;
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return null;
        }
        return finish(d, server, nodeName, caPem, java.nio.file.Files.readString(d.clientCa, StandardCharsets.US_ASCII),
                clientChain, clientKey, servingChain, servingKey);
    }

    private static Joined finish(Layout d, URI server, String nodeName, String caPem, String clientCaPem,
                                 String clientChain, String clientKey, String servingChain, String servingKey) throws IOException {
        writeAtomically(d.kubeconfig, kubeconfig(server, caPem, clientChain, clientKey), "rw-------");
        HttpKubeClient client = HttpKubeClient.withClientCertificate(server, caPem, clientChain, clientKey);
        return new Joined(nodeName, server, caPem, clientCaPem, clientChain, clientKey, servingChain, servingKey,
                d.kubeconfig, client);
    }

    // ---- certificates ----------------------------------------------------------------------------------------

    private static boolean usable(X509Certificate cert, Instant now) {
        Instant start = cert.getNotBefore().toInstant();
        Instant end = cert.getNotAfter().toInstant();
        Duration window = Duration.between(start, end).dividedBy(3);
        if (window.compareTo(MAX_RENEW_WINDOW) > 0) window = MAX_RENEW_WINDOW;
        return !now.isBefore(start.minus(Duration.ofMinutes(5))) && now.plus(window).isBefore(end);
    }

    private static String cn(X509Certificate cert) {
        for (String part : cert.getSubjectX500Principal().getName(X500Principal.RFC2253).split(",")) {
            if (part.startsWith("CN=")) return part.substring(3);
        }
        return "";
    }

    private static List<String> sans(X509Certificate cert) throws CertificateParsingException {
        List<String> out = new ArrayList<>();
        if (cert.getSubjectAlternativeNames() == null) return out;
        for (List<?> san : cert.getSubjectAlternativeNames()) out.add(normalizeIp(String.valueOf(san.get(1))));
        return out;
    }

    static List<String> servingSans(String nodeName, List<String> nodeIps) {
        List<String> out = new ArrayList<>(List.of(nodeName, "localhost", "127.0.0.1"));
        for (String ip : nodeIps) out.add(normalizeIp(ip));
        return out;
    }

    private static String normalizeIp(String s) {
        if (s.contains(":")) {
            try {
                // a literal with ':' is never looked up in DNS
                return java.net.InetAddress.getByName(s).getHostAddress();
            } catch (java.net.UnknownHostException e) {
                return s;
            }
        }
        return s;
    }

    private static boolean pairs(X509Certificate cert, PrivateKey key) {
        try {
            String alg = "EC".equals(key.getAlgorithm()) ? "SHA256withECDSA" : "SHA256withRSA";
            byte[] probe = "k3j".getBytes(StandardCharsets.US_ASCII);
            java.security.Signature s = java.security.Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            java.security.Signature v = java.security.Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            return gen.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot generate P-256 keys", e);
        }
    }

    /** PKCS#8 {@code PRIVATE KEY}: what Go's tls.X509KeyPair, kubectl and the JDK all read. */
    private static String pkcs8(PrivateKey key) {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

    // ---- files --------------------------------------------------------------------------------------------

    private static String kubeconfig(URI server, String caPem, String certPem, String keyPem) {
        Base64.Encoder b64 = Base64.getEncoder();
        return """
                apiVersion: v1
                kind: Config
                clusters:
                - name: default
                  cluster:
                    server: %s
                    certificate-authority-data: %s
                contexts:
                - name: default
                  context:
                    cluster: default
                    user: default
                current-context: default
                users:
                - name: default
                  user:
                    client-certificate-data: %s
                    client-key-data: %s
                """.formatted(server, b64.encodeToString(caPem.getBytes(StandardCharsets.US_ASCII)),
                b64.encodeToString(certPem.getBytes(StandardCharsets.US_ASCII)),
                b64.encodeToString(keyPem.getBytes(StandardCharsets.US_ASCII)));
    }

    static void writeAtomically(Path file, String content, String perms) throws IOException {
        Path tmp = java.nio.file.Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            java.nio.file.Files.writeString(tmp, content, StandardCharsets.US_ASCII);
            java.nio.file.Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(perms));
            try {
                java.nio.file.Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                java.nio.file.Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            java.nio.file.Files.deleteIfExists(tmp);
        }
    }

    /** The files under the agent data dir. */
    private static final class Layout {
        final Path tls;
        final Path etc;
        final Path ca;
        final Path clientCa;
        final Path clientCert;
        final Path clientKey;
        final Path servingCert;
        final Path servingKey;
        final Path password;
        final Path kubeconfig;

        Layout(Path d) {
            tls = d.resolve("tls");
            etc = d.resolve("etc");
            ca = tls.resolve("server-ca.crt");
            clientCa = tls.resolve("client-ca.crt");
            clientCert = tls.resolve("client-kubelet.crt");
            clientKey = tls.resolve("client-kubelet.key");
            servingCert = tls.resolve("serving-kubelet.crt");
            servingKey = tls.resolve("serving-kubelet.key");
            password = etc.resolve("node-password");
            kubeconfig = etc.resolve("kubelet.kubeconfig");
        }

        void create() throws IOException {
            for (Path dir : List.of(tls, etc)) {
                java.nio.file.Files.createDirectories(dir);
                java.nio.file.Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            }
        }

        /** The node password, made once (32 random bytes as hex) and kept: it holds the node's name. */
        String nodePassword() throws IOException {
            if (java.nio.file.Files.exists(password)) {
                String p = java.nio.file.Files.readString(password, StandardCharsets.US_ASCII).strip();
                if (!p.isEmpty()) return p;
            }
            byte[] b = new byte[32];
            new SecureRandom().nextBytes(b);
            String p = HexFormat.of().formatHex(b);
            writeAtomically(password, p + "\n", "rw-------");
            return p;
        }
    }
}
