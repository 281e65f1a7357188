package io.k3j.agent.ingress;

import static io.k3j.agent.kube.Der.GENERALIZED_TIME;
import static io.k3j.agent.kube.Der.INTEGER;
import static io.k3j.agent.kube.Der.OCTET_STRING;
import static io.k3j.agent.kube.Der.SEQUENCE;
import static io.k3j.agent.kube.Der.UTC_TIME;
import static io.k3j.agent.kube.Der.concat;
import static io.k3j.agent.kube.Der.tlv;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.Der;
import io.k3j.agent.kube.TlsMaterial;
import io.k3j.api.Json;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLException;
import javax.security.auth.x500.X500Principal;

/**
 * The certificates the HTTPS listener presents: one server TLS context per TLS secret (offering h2 and http/1.1 by
 * ALPN), and a self-signed default certificate for names no Ingress has a secret for, as Traefik presents its
 * "TRAEFIK DEFAULT CERT". Contexts are cached by the secret's resourceVersion, so a routing rebuild re-reads only
 * secrets that changed.
 */
final class Certificates {
    static final String DEFAULT_CN = "K3J DEFAULT CERT";
    private static final System.Logger LOG = System.getLogger(Certificates.class.getName());

    private final SslContext defaultContext;
    /** Only touched by the controller's single rebuild thread. */
    private Map<String, Cached> cache = new HashMap<>();

    private record Cached(String resourceVersion, SslContext context) { }

    Certificates() {
        this.defaultContext = generateDefault();
    }

    SslContext defaultContext() {
        return defaultContext;
    }

    /**
     * The SNI map for the TLS hosts whose secret exists and holds a usable pair; hosts without one get the default
     * certificate (Traefik's behaviour), logged once per rebuild.
     */
    Map<String, SslContext> contexts(Map<String, RouteCompiler.SecretRef> hosts, Map<String, ObjectNode> secrets) {
        Map<String, Cached> fresh = new HashMap<>();
        Map<String, SslContext> out = new HashMap<>();
        for (Map.Entry<String, RouteCompiler.SecretRef> e : hosts.entrySet()) {
            String key = e.getValue().toString();
            ObjectNode secret = secrets.get(key);
            if (secret == null) {
                LOG.log(System.Logger.Level.DEBUG, "TLS secret " + key + " for " + e.getKey() + " not found; default certificate");
                continue;
            }
            String rv = Json.text(secret.path("metadata"), "resourceVersion");
            Cached c = fresh.get(key);
            if (c == null) {
                Cached old = cache.get(key);
                if (old != null && old.resourceVersion().equals(rv)) {
                    c = old;
                } else {
                    SslContext ctx = fromSecret(key, secret);
                    if (ctx == null) continue;
                    c = new Cached(rv, ctx);
                }
                fresh.put(key, c);
            }
            out.put(e.getKey(), c.context());
        }
        cache = fresh;
        return Map.copyOf(out);
    }

    /** The context for an SNI name: the exact host's, else the wildcard's one label up, else the default. */
    static SslContext select(Map<String, SslContext> sni, SslContext fallback, String serverName) {
        if (serverName == null || serverName.isEmpty()) return fallback;
        String h = serverName.toLowerCase(Locale.ROOT);
        SslContext c = sni.get(h);
        if (c == null) {
            int dot = h.indexOf('.');
            if (dot > 0) c = sni.get("*" + h.substring(dot));
        }
        return c != null ? c : fallback;
    }

    private static SslContext fromSecret(String key, ObjectNode secret) {
        try {
            String cert = decode(secret, "tls.crt");
            String keyPem = decode(secret, "tls.key");
            List<X509Certificate> chain = TlsMaterial.certificates(cert);
            return server(TlsMaterial.privateKey(keyPem), chain.toArray(X509Certificate[]::new));
        } catch (RuntimeException | SSLException e) {
            LOG.log(System.Logger.Level.WARNING, "TLS secret " + key + " is unusable (" + e.getMessage() + "); default certificate");
            return null;
        }
    }

    private static String decode(ObjectNode secret, String field) {
        String b64 = Json.text(secret.path("data"), field);
        if (b64.isEmpty()) throw new IllegalArgumentException("no " + field);
        return new String(Base64.getDecoder().decode(b64), StandardCharsets.US_ASCII);
    }

    static SslContext server(PrivateKey key, X509Certificate... chain) throws SSLException {
        // the default provider: BoringSSL (netty-tcnative) as the agent's API client and kubelet API use, else the
        // JDK's. Netty's JDK server context, at its first use, builds a test context whose key it reads through
        // BouncyCastle when that is on the class path: ~800 classes and a registered BC provider for good.
        // An empty trust list: the ingress asks no client for a certificate, and without a list Netty's OpenSSL
        // server context loads the JDK's default trust store and keeps it (~145 CA certificates parsed in the heap).
        return SslContextBuilder.forServer(key, chain)
                .trustManager(new X509Certificate[0])
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1))
                .build();
    }

    /** A fresh P-256 key and a self-signed certificate valid for a year, with a random SAN as Traefik's has. */
    private static SslContext generateDefault() {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = gen.generateKeyPair();
            SecureRandom random = new SecureRandom();
            byte[] id = new byte[16];
            random.nextBytes(id);
            Instant now = Instant.now();
            X509Certificate cert = selfSigned(new X500Principal("CN=" + DEFAULT_CN), HexFormat.of().formatHex(id) + ".k3j.default",
                    new BigInteger(127, random), now.minus(Duration.ofMinutes(5)), now.plus(Duration.ofDays(365)), pair);
            return server(pair.getPrivate(), cert);
        } catch (GeneralSecurityException | SSLException e) {
            throw new IllegalStateException("generating the ingress default certificate", e);
        }
    }

    // the one certificate shape needed here, written with Der (the JDK alone): BouncyCastle's builder loaded
    // ~800 classes into the agent for this single certificate
    /** OBJECT IDENTIFIER id-ce-subjectAltName (2.5.29.17). */
    private static final byte[] SUBJECT_ALT_NAME = {0x06, 0x03, 0x55, 0x1d, 0x11};

    /**
     * An X.509 v3 certificate (RFC 5280 section 4.1) for {@code subject}, issued by itself and signed with the pair's EC
     * key (SHA256withECDSA), with one non-critical subjectAltName dNSName.
     */
    static X509Certificate selfSigned(X500Principal subject, String dnsName, BigInteger serial, Instant notBefore, Instant notAfter,
            KeyPair keys) throws GeneralSecurityException {
        byte[] name = subject.getEncoded();
        byte[] san = tlv(SEQUENCE, tlv(0x82, dnsName.getBytes(StandardCharsets.US_ASCII))); // GeneralNames { [2] dNSName }
        byte[] extensions = tlv(0xa3, tlv(SEQUENCE, tlv(SEQUENCE, concat(SUBJECT_ALT_NAME, tlv(OCTET_STRING, san)))));
        byte[] tbs = tlv(SEQUENCE, concat(
                new byte[]{(byte) 0xa0, 0x03, INTEGER, 0x01, 0x02}, // [0] version v3
                tlv(INTEGER, serial.toByteArray()),
                Der.ecdsaWithSha256(),
                name,
                tlv(SEQUENCE, concat(time(notBefore), time(notAfter))),
                name,
                keys.getPublic().getEncoded(), // SubjectPublicKeyInfo
                extensions));
        byte[] der = Der.signedWithEcdsa(tbs, keys.getPrivate());
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
    }

    /** UTCTime through 2049, GeneralizedTime from 2050 on (RFC 5280 section 4.1.2.5). */
    private static byte[] time(Instant t) {
        var utc = t.atOffset(ZoneOffset.UTC);
        boolean utcTime = utc.getYear() < 2050;
        String s = utc.format(DateTimeFormatter.ofPattern(utcTime ? "yyMMddHHmmss'Z'" : "yyyyMMddHHmmss'Z'"));
        return tlv(utcTime ? UTC_TIME : GENERALIZED_TIME, s.getBytes(StandardCharsets.US_ASCII));
    }
}
