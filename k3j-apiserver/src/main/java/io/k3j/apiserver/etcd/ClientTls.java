package io.k3j.apiserver.etcd;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;

/** A JDK TLS client context from PEM files: a CA to trust and a client certificate with its key. */
final class ClientTls {

    private ClientTls() {
    }

    /**
     * @throws IOException if a file is missing or unreadable
     */
    static SSLContext clientContext(Path caFile, Path certFile, Path keyFile) throws IOException {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (Certificate c : cf.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(caFile)))) {
                trust.setCertificateEntry("ca" + i++, c);
            }
            Certificate[] chain = cf.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(certFile)))
                    .toArray(Certificate[]::new);
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            char[] pw = "k3j".toCharArray();
            keys.setKeyEntry("client", privateKey(keyFile), pw, chain);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, pw);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("reading etcd client credentials " + certFile + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        try (PEMParser p = new PEMParser(new StringReader(Files.readString(file)))) {
            Object o = p.readObject();
            PrivateKeyInfo info = o instanceof PEMKeyPair pair ? pair.getPrivateKeyInfo()
                    : o instanceof PrivateKeyInfo pki ? pki : null;
            if (info == null) throw new IOException(file + " holds no private key");
            String alg = info.getPrivateKeyAlgorithm().getAlgorithm().equals(
                    org.bouncycastle.asn1.x9.X9ObjectIdentifiers.id_ecPublicKey) ? "EC" : "RSA";
            return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        }
    }
}
