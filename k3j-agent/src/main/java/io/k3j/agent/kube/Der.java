package io.k3j.agent.kube;

import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;

/**
 * The little DER (X.690) the agent writes itself — its certificate requests and the ingress's default certificate —
 * with the JDK alone: BouncyCastle's builders loaded hundreds of classes into the agent for these two structures.
 */
public final class Der {
    public static final int INTEGER = 0x02;
    public static final int BIT_STRING = 0x03;
    public static final int OCTET_STRING = 0x04;
    public static final int UTC_TIME = 0x17;
    public static final int GENERALIZED_TIME = 0x18;
    public static final int SEQUENCE = 0x30;
    /** AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters (RFC 5758 section 3.2). */
    private static final byte[] ECDSA_WITH_SHA256 = {0x30, 0x0a, 0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02};

    private Der() {
    }

    /** The ecdsa-with-SHA256 AlgorithmIdentifier, as a signed structure names its signature algorithm. */
    public static byte[] ecdsaWithSha256() {
        return ECDSA_WITH_SHA256.clone();
    }

    /**
     * {@code SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING signature }}: the shape of both a PKCS#10 request and an X.509
     * certificate, signed with the EC key.
     */
    public static byte[] signedWithEcdsa(byte[] tbs, PrivateKey key) throws GeneralSecurityException {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(key);
        s.update(tbs);
        // the JDK's signature is already the DER ECDSA-Sig-Value the BIT STRING carries
        return tlv(SEQUENCE, concat(tbs, ECDSA_WITH_SHA256, tlv(BIT_STRING, concat(new byte[]{0}, s.sign()))));
    }

    /** Tag, DER length (short form below 128, else long form), value. */
    public static byte[] tlv(int tag, byte[] value) {
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

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
