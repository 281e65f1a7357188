package io.k3j.agent.kube;

import java.io.IOException;
import java.io.StringReader;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Private keys in PEM forms the JDK cannot read by itself (SEC1 {@code EC PRIVATE KEY}, PKCS#1
 * {@code RSA PRIVATE KEY}), through BouncyCastle. A class of its own so that BouncyCastle is loaded only when such a
 * key is met (k3s writes them; the agent writes PKCS#8).
 */
final class LegacyKeys {
    private LegacyKeys() {
    }

    static PrivateKey privateKey(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof PEMKeyPair pair) return fixAlgorithm(converter.getPrivateKey(pair.getPrivateKeyInfo()));
                if (o instanceof PrivateKeyInfo info) return fixAlgorithm(converter.getPrivateKey(info));
            }
            throw new IllegalArgumentException("no private key block in PEM");
        } catch (IOException e) {
            throw new IllegalArgumentException("reading private key: " + e.getMessage(), e);
        }
    }

    /** Re-reads the key through the JDK so it says "EC" (BouncyCastle's converter may name it "ECDSA"). */
    private static PrivateKey fixAlgorithm(PrivateKey key) {
        try {
            String alg = key.getAlgorithm().equals("ECDSA") ? "EC" : key.getAlgorithm();
            return java.security.KeyFactory.getInstance(alg)
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(key.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("unsupported private key algorithm " + key.getAlgorithm(), e);
        }
    }
}
