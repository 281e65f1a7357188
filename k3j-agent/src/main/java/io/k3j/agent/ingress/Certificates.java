package io.k3j.agent.ingress;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.kube.TlsMaterial;
import io.k3j.api.Json;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

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
        return SslContextBuilder.forServer(key, chain)
                .sslProvider(SslProvider.JDK)
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
            X500Name name = new X500Name("CN=" + DEFAULT_CN);
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(127, random),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(365))), name, pair.getPublic());
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, HexFormat.of().formatHex(id) + ".k3j.default")));
            X509Certificate cert = new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
            return server(pair.getPrivate(), cert);
        } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
            throw new IllegalStateException("generating the ingress default certificate", e);
        }
    }
}
