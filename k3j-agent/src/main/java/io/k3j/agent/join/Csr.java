package io.k3j.agent.join;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Signature;
import java.util.Base64;
import javax.security.auth.x500.X500Principal;

/**
 * A PKCS#10 certificate request (RFC 2986) for a P-256 key, DER-encoded with the JDK alone: the subject and the public
 * key come ready-encoded from {@link X500Principal#getEncoded()} and {@link java.security.PublicKey#getEncoded()}
 * (SubjectPublicKeyInfo), so only the SEQUENCE framing, the empty attribute set and the signature are written here.
 * (BouncyCastle did this before; its ~130 classes stayed loaded in the agent for the whole run.)
 */
final class Csr {
    /** AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters (RFC 5758 section 3.2). */
    private static final byte[] ECDSA_WITH_SHA256 = {0x30, 0x0a, 0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02};
    private static final int SEQUENCE = 0x30;
    private static final int BIT_STRING = 0x03;

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
        byte[] info = tlv(SEQUENCE, concat(new byte[]{0x02, 0x01, 0x00}, subject.getEncoded(), keys.getPublic().getEncoded(),
                new byte[]{(byte) 0xa0, 0x00}));
        byte[] signature;
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(keys.getPrivate());
            s.update(info);
            signature = s.sign(); // already the DER ECDSA-Sig-Value the BIT STRING carries
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing a certificate request", e);
        }
        return tlv(SEQUENCE, concat(info, ECDSA_WITH_SHA256, tlv(BIT_STRING, concat(new byte[]{0}, signature))));
    }

    /** Tag, DER length (short form below 128, else long form), value. */
    static byte[] tlv(int tag, byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 6);
        out.write(tag);
        int n = value.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) out.write(n >>> (8 * i));
        }
        out.writeBytes(value);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
