package io.k3j.apiserver.testing;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import io.k3j.apiserver.pki.CertAndKey;
import java.io.StringReader;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/** In-process API servers for tests, and TLS contexts for java.net.http clients of them. */
public final class TestServers {
    private TestServers() {
    }

    /**
     * A server on 127.0.0.1 at an ephemeral port with the default networks.
     *
     * @param kubeconfig where to write the admin kubeconfig, or null for none
     * @param datastore  {@code memory://}, an external endpoint, or "" for the embedded default
     */
    public static ServerConfig config(Path dir, Path kubeconfig, String datastore) {
        ServerConfig d = ServerConfig.defaults(dir);
        return new ServerConfig(dir, "127.0.0.1", 0, "", List.of(), kubeconfig, "0600", null, datastore,
                d.clusterCidr(), d.serviceCidr(), d.clusterDns(), d.clusterDomain(), "", List.of());
    }

    /** A server with an in-memory datastore and no kubeconfig ({@link #config}). */
    public static ControlPlane start(Path dir) {
        return ControlPlane.start(config(dir, null, "memory://"));
    }

    /** TLS as the admin: its client certificate, and the server's CA trusted. */
    public static SSLContext adminTls(ControlPlane cp) throws Exception {
        return tls(cp, cp.pki().adminCredentials());
    }

    /** TLS trusting the server's CA, presenting {@code creds} as the client certificate (null: anonymous). */
    public static SSLContext tls(ControlPlane cp, CertAndKey creds) throws Exception {
        KeyManagerFactory kmf = null;
        if (creds != null) {
            X509Certificate cert;
            try (PEMParser p = new PEMParser(new StringReader(creds.certificatePem()))) {
                cert = new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) p.readObject());
            }
            PrivateKey key;
            try (PEMParser p = new PEMParser(new StringReader(creds.privateKeyPem()))) {
                Object o = p.readObject();
                JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
                key = o instanceof PEMKeyPair pair ? conv.getKeyPair(pair).getPrivate() : conv.getPrivateKey((PrivateKeyInfo) o);
            }
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("client", key, new char[0], new X509Certificate[] {cert});
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", cp.pki().serverCaCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}
