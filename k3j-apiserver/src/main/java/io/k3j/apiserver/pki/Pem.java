package io.k3j.apiserver.pki;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.security.interfaces.ECPrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/**
 * PEM in the shapes Go's crypto/x509 (and so kubectl and client-go) reads: {@code CERTIFICATE} blocks, EC keys as
 * SEC1 {@code EC PRIVATE KEY} and RSA keys as PKCS#1 {@code RSA PRIVATE KEY}, as k3s writes them.
 */
final class Pem {

    private Pem() {
    }

    static String encode(X509Certificate... certs) {
        StringBuilder out = new StringBuilder();
        for (X509Certificate cert : certs) {
            try {
                out.append(block("CERTIFICATE", cert.getEncoded()));
            } catch (CertificateException e) {
                throw new IllegalStateException("encoding certificate " + cert.getSubjectX500Principal(), e);
            }
        }
        return out.toString();
    }

    /**
     * The private key of {@code keys}: EC as SEC1 with the named curve and the public key inside (Go's
     * x509.ParseECPrivateKey needs the curve there; the JDK's PKCS#8 keeps it only outside), RSA as PKCS#1.
     */
    static String encode(KeyPair keys) {
        PrivateKey key = keys.getPrivate();
        if (key instanceof ECPrivateKey ec) {
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(ec.getEncoded());
            ASN1ObjectIdentifier curve = ASN1ObjectIdentifier.getInstance(info.getPrivateKeyAlgorithm().getParameters());
            SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
            int orderBits = ec.getParams().getOrder().bitLength();
            var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(orderBits, ec.getS(), spki.getPublicKeyData(), curve);
            try {
                return block("EC PRIVATE KEY", sec1.getEncoded());
            } catch (IOException e) {
                throw new UncheckedIOException("encoding EC private key", e);
            }
        }
        // JcaPEMWriter writes RSA keys as the traditional PKCS#1 RSA PRIVATE KEY block.
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(key);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding " + key.getAlgorithm() + " private key", e);
        }
        return out.toString();
    }

    private static String block(String type, byte[] der) {
        Base64.Encoder b64 = Base64.getMimeEncoder(64, new byte[] {'\n'});
        return "-----BEGIN " + type + "-----\n" + b64.encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    /** Every certificate in the PEM text, in order. */
    static List<X509Certificate> parseCertificates(String pem) throws CertificateException {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> certs = new ArrayList<>();
            for (var c : factory.generateCertificates(new java.io.ByteArrayInputStream(
                    pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)))) {
                certs.add((X509Certificate) c);
            }
            if (certs.isEmpty()) {
                throw new CertificateException("no CERTIFICATE block found");
            }
            return certs;
        } catch (CertificateException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CertificateException("malformed PEM certificate", e);
        }
    }

    /** The first private key in the PEM text: SEC1 EC, PKCS#1 RSA or PKCS#8 are accepted. */
    static PrivateKey parsePrivateKey(String pem) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof PEMKeyPair pair) {
                    return privateKey(pair.getPrivateKeyInfo());
                }
                if (o instanceof PrivateKeyInfo info) {
                    return privateKey(info);
                }
            }
        }
        throw new IOException("no private key block found");
    }

    /** The public half of a traditional key PEM, for keys whose certificate is not at hand (service.key). */
    static KeyPair parseKeyPair(String pem) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o = parser.readObject();
            if (o instanceof PEMKeyPair pair) {
                SubjectPublicKeyInfo pub = pair.getPublicKeyInfo();
                try {
                    PublicKey publicKey = KeyFactory.getInstance(keyAlgorithm(pub.getAlgorithm().getAlgorithm()))
                            .generatePublic(new X509EncodedKeySpec(pub.getEncoded()));
                    return new KeyPair(publicKey, privateKey(pair.getPrivateKeyInfo()));
                } catch (GeneralSecurityException e) {
                    throw new IOException("reading public key: " + e.getMessage(), e);
                }
            }
        }
        throw new IOException("no EC or RSA PRIVATE KEY block found");
    }

    /**
     * Decodes with the JCA's own "EC"/"RSA" key factories. BouncyCastle's converter asks for an "ECDSA" key
     * factory, which only BouncyCastle has: where BouncyCastle is a registered provider (client-java registers it)
     * the key's algorithm became "ECDSA", no longer matching its certificate's "EC" public key.
     */
    private static PrivateKey privateKey(PrivateKeyInfo info) throws IOException {
        try {
            return KeyFactory.getInstance(keyAlgorithm(info.getPrivateKeyAlgorithm().getAlgorithm()))
                    .generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IOException("reading private key: " + e.getMessage(), e);
        }
    }

    private static String keyAlgorithm(ASN1ObjectIdentifier oid) throws IOException {
        if (oid.equals(X9ObjectIdentifiers.id_ecPublicKey)) return "EC";
        if (oid.equals(PKCSObjectIdentifiers.rsaEncryption)) return "RSA";
        throw new IOException("unsupported key algorithm " + oid + " (expected: EC or RSA)");
    }
}
