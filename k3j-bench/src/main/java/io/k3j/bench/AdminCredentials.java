package io.k3j.bench;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The server URL and the admin client certificate of a kubeconfig written by {@code k3j server}, as an
 * {@link SSLContext} that trusts the cluster CA, and as the key material itself (for Netty's TLS contexts). Only the
 * flat, single-user layout k3j writes is understood.
 */
record AdminCredentials(URI server, SSLContext sslContext, KeyMaterial keys) {

    /** The admin client's private key and certificate chain, and the CA certificates it trusts. */
    record KeyMaterial(PrivateKey key, X509Certificate[] chain, X509Certificate[] trusted) {
    }

    /** The same credentials for another server URL. */
    AdminCredentials withServer(URI url) {
        return new AdminCredentials(url, sslContext, keys);
    }

    /**
     * Reads the kubeconfig at {@code file}.
     *
     * @throws IOException if the file cannot be read or lacks the server, CA or client credentials
     */
    static AdminCredentials load(Path file) throws IOException {
        String server = null;
        String ca = null;
        String cert = null;
        String key = null;
        for (String line : Files.readAllLines(file)) {
            String t = line.strip();
            if (t.startsWith("server:")) {
                server = value(t);
            } else if (t.startsWith("certificate-authority-data:")) {
                ca = decode(value(t));
            } else if (t.startsWith("client-certificate-data:")) {
                cert = decode(value(t));
            } else if (t.startsWith("client-key-data:")) {
                key = decode(value(t));
            }
        }
        if (server == null || ca == null || cert == null || key == null) {
            throw new IOException(file + ": expected server, certificate-authority-data, client-certificate-data and client-key-data");
        }
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            KeyMaterial keys = new KeyMaterial(privateKey(key), certs(cf, cert).toArray(X509Certificate[]::new),
                    certs(cf, ca).toArray(X509Certificate[]::new));
            return new AdminCredentials(URI.create(server), sslContext(ca, cert, key), keys);
        } catch (GeneralSecurityException e) {
            throw new IOException("building a TLS context from " + file, e);
        }
    }

    private static String value(String line) {
        return line.substring(line.indexOf(':') + 1).strip();
    }

    private static String decode(String b64) {
        return new String(Base64.getDecoder().decode(b64), StandardCharsets.US_ASCII);
    }

    static SSLContext sslContext(String caPem, String certPem, String keyPem) throws GeneralSecurityException, IOException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (Certificate c : certs(cf, caPem)) {
            trust.setCertificateEntry("ca" + i++, c);
        }
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        char[] pw = "bench".toCharArray();
        keys.setKeyEntry("admin", privateKey(keyPem), pw, certs(cf, certPem).toArray(Certificate[]::new));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, pw);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    private static Collection<? extends Certificate> certs(CertificateFactory cf, String pem) throws GeneralSecurityException {
        return cf.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    /** PKCS#8 or SEC1 ("EC PRIVATE KEY") / PKCS#1 PEM; the JDK alone reads only the first. */
    static PrivateKey privateKey(String pem) throws IOException {
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            return switch (o) {
                case PEMKeyPair kp -> conv.getKeyPair(kp).getPrivate();
                case PrivateKeyInfo info -> conv.getPrivateKey(info);
                case null, default -> throw new IOException("not a private key PEM: " + (o == null ? "empty" : o.getClass().getSimpleName()));
            };
        }
    }
}
