package io.k3j.agent.kube;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * PEM certificates and keys turned into JDK TLS contexts, all in memory: the CA bundle becomes the only trust
 * anchors (the JDK's cacerts are not consulted), a client certificate chain and its key become a PKCS#12 key store
 * that never touches disk.
 */
public final class TlsMaterial {
    private static final char[] NO_PASSWORD = new char[0];

    private TlsMaterial() {
    }

    /**
     * A TLS context trusting only {@code caPem}, presenting {@code certPem}/{@code keyPem} when both are given.
     *
     * @throws IllegalArgumentException if a PEM cannot be read or holds no certificate / key
     */
    public static SSLContext context(String caPem, String certPem, String keyPem) {
        requireNonNull(caPem, "caPem");
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (X509Certificate ca : certificates(caPem)) trust.setCertificateEntry("ca-" + i++, ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManager[] keyManagers = null;
            if (certPem != null && keyPem != null) {
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                keys.setKeyEntry("client", privateKey(keyPem), NO_PASSWORD,
                        certificates(certPem).toArray(X509Certificate[]::new));
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, NO_PASSWORD);
                keyManagers = kmf.getKeyManagers();
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keyManagers, tmf.getTrustManagers(), new SecureRandom());
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("building a TLS context from PEM: " + e.getMessage(), e);
        }
    }

    /**
     * A TLS context that accepts any server certificate and checks no host name: only for downloading a CA bundle
     * whose hash is verified afterwards (k3s's {@code /cacerts} bootstrap). Never send a secret over it.
     */
    public static SSLContext trustingAnything() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[]{new AnyServer()}, new SecureRandom());
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK offers no TLS context", e);
        }
    }

    private static final java.util.regex.Pattern CERT_BLOCK = java.util.regex.Pattern.compile(
            "-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----");

    /** Every CERTIFICATE block of {@code pem}, in order; other blocks (a key after the chain, as k3s sends) are skipped. */
    public static List<X509Certificate> certificates(String pem) {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<X509Certificate> out = new ArrayList<>();
            var m = CERT_BLOCK.matcher(pem);
            while (m.find()) {
                out.add((X509Certificate) cf.generateCertificate(
                        new java.io.ByteArrayInputStream(m.group().getBytes(StandardCharsets.US_ASCII))));
            }
            if (out.isEmpty()) throw new IllegalArgumentException("no CERTIFICATE block in PEM");
            return out;
        } catch (CertificateException e) {
            throw new IllegalArgumentException("reading certificates: " + e.getMessage(), e);
        }
    }

    private static final java.util.regex.Pattern PKCS8_BLOCK = java.util.regex.Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([^-]*)-----END PRIVATE KEY-----");

    /**
     * The private key of a PEM block: SEC1 {@code EC PRIVATE KEY}, PKCS#1 {@code RSA PRIVATE KEY} or PKCS#8. PKCS#8
     * (what the agent writes) is read by the JDK alone; the older forms by BouncyCastle, loaded only for them.
     */
    public static PrivateKey privateKey(String pem) {
        var m = PKCS8_BLOCK.matcher(pem);
        if (!m.find()) return LegacyKeys.privateKey(pem);
        byte[] der;
        try {
            der = java.util.Base64.getMimeDecoder().decode(m.group(1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("reading private key: " + e.getMessage(), e);
        }
        GeneralSecurityException last = null;
        for (String alg : new String[]{"EC", "RSA", "Ed25519"}) {
            try {
                return java.security.KeyFactory.getInstance(alg).generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new IllegalArgumentException("reading private key: unsupported PKCS#8 key (" + last.getMessage() + ")", last);
    }

    /** Accepts every server; X509ExtendedTrustManager so the JDK adds no host name check of its own. */
    private static final class AnyServer extends X509ExtendedTrustManager {
        @Override public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket s) { }
        @Override public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket s) { }
        @Override public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine e) { }
        @Override public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine e) { }
        @Override public void checkClientTrusted(X509Certificate[] chain, String authType) { }
        @Override public void checkServerTrusted(X509Certificate[] chain, String authType) { }
        @Override public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
