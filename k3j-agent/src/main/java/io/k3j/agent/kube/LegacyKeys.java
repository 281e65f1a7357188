package io.k3j.agent.kube;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Private keys in the PEM forms the JDK cannot read by itself — SEC1 {@code EC PRIVATE KEY} and PKCS#1
 * {@code RSA PRIVATE KEY}, which k3s, openssl and many users' TLS secrets have — rewrapped as the PKCS#8 the JDK
 * reads: both forms are the inner key of a PKCS#8 PrivateKeyInfo, which adds only the algorithm (and, for EC, the
 * curve, taken from the SEC1 key's parameters). Encrypted PEM keys are not supported.
 */
final class LegacyKeys {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN (RSA|EC) PRIVATE KEY-----([A-Za-z0-9+/=\\s]*)-----END \\1 PRIVATE KEY-----");
    /** AlgorithmIdentifier rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters (RFC 8017 appendix A.1). */
    private static final byte[] RSA_ENCRYPTION = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7,
            0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** OBJECT IDENTIFIER id-ecPublicKey (1.2.840.10045.2.1), RFC 5480 section 2.1.1. */
    private static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
    private static final byte[] VERSION_0 = {0x02, 0x01, 0x00};

    private LegacyKeys() {
    }

    static PrivateKey privateKey(String pem) {
        Matcher m = BLOCK.matcher(pem);
        if (!m.find()) throw new IllegalArgumentException("no private key block in PEM");
        try {
            byte[] inner = Base64.getMimeDecoder().decode(m.group(2));
            boolean rsa = m.group(1).equals("RSA");
            byte[] algorithm = rsa ? RSA_ENCRYPTION : Der.tlv(Der.SEQUENCE, Der.concat(EC_PUBLIC_KEY, curve(inner)));
            byte[] pkcs8 = Der.tlv(Der.SEQUENCE, Der.concat(VERSION_0, algorithm, Der.tlv(Der.OCTET_STRING, inner)));
            return KeyFactory.getInstance(rsa ? "RSA" : "EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("reading private key: " + e.getMessage(), e);
        }
    }

    /** The namedCurve OID of a SEC1 ECPrivateKey {@code SEQUENCE { version, privateKey, [0] parameters, [1] publicKey }}. */
    private static byte[] curve(byte[] sec1) {
        Der.Element key = Der.Element.parse(sec1);
        if (key.tag() != Der.SEQUENCE) throw new IllegalArgumentException("an EC PRIVATE KEY is a SEQUENCE");
        for (Der.Element e : key.children()) {
            if (e.tag() == Der.CONTEXT_0) {
                Der.Element oid = Der.Element.parse(e.contents());
                if (oid.tag() != Der.OBJECT_IDENTIFIER) throw new IllegalArgumentException("EC key parameters other than a named curve");
                return oid.encoded();
            }
        }
        throw new IllegalArgumentException("the EC PRIVATE KEY names no curve");
    }
}
