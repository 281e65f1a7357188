package io.k3j.agent.join;

import io.k3j.agent.kube.Der;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.Base64;
import javax.security.auth.x500.X500Principal;

/**
 * A PKCS#10 certificate request (RFC 2986) for a P-256 key, DER-encoded with the JDK alone: the subject and the public
 * key come ready-encoded from {@link X500Principal#getEncoded()} and {@link java.security.PublicKey#getEncoded()}
 * (SubjectPublicKeyInfo), so only the SEQUENCE framing, the empty attribute set and the signature are written here.
 * (BouncyCastle did this before; its ~130 classes stayed loaded in the agent for the whole run.)
 */
final class Csr {
    private Csr() {
    }

    /** {@code -----BEGIN CERTIFICATE REQUEST-----} for {@code CN=cn}, signed with the pair's EC private key. */
    static String pem(String cn, KeyPair keys) {
        byte[] der = der(new X500Principal("CN=" + cn), keys);
        return "-----BEGIN CERTIFICATE REQUEST-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END CERTIFICATE REQUEST-----\n";
    }

    static byte[] der(X500Principal subject, KeyPair keys) {
        if (!"EC".equals(keys.getPrivate().getAlgorithm())) {
            throw new IllegalArgumentException("only EC keys are supported, not " + keys.getPrivate().getAlgorithm());
        }
        // CertificationRequestInfo: version 0, subject, subjectPKInfo, attributes [0] (empty)
        byte[] info = Der.tlv(Der.SEQUENCE, Der.concat(new byte[]{0x02, 0x01, 0x00}, subject.getEncoded(), keys.getPublic().getEncoded(),
                new byte[]{(byte) 0xa0, 0x00}));
        try {
            return Der.signedWithEcdsa(info, keys.getPrivate());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing a certificate request", e);
        }
    }
}
