package io.k3j.agent.kube;

import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The little DER (X.690) the agent writes itself — its certificate requests and the ingress's default certificate —
 * and reads itself — a certificate subject's names, the curve of a SEC1 key — with the JDK alone: BouncyCastle loaded
 * hundreds of classes into the agent for these few structures (and its jars are not in the agent-only jar).
 */
public final class Der {
    public static final int INTEGER = 0x02;
    public static final int BIT_STRING = 0x03;
    public static final int OCTET_STRING = 0x04;
    public static final int UTC_TIME = 0x17;
    public static final int GENERALIZED_TIME = 0x18;
    public static final int OBJECT_IDENTIFIER = 0x06;
    public static final int SEQUENCE = 0x30;
    public static final int SET = 0x31;
    /** [0], constructed: e.g. the parameters of a SEC1 ECPrivateKey. */
    public static final int CONTEXT_0 = 0xa0;
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

    /**
     * One DER element read from {@code der}: its tag, and where its header and contents lie.
     *
     * @param tag    the identifier octet (single-byte tags only, all the agent reads)
     * @param start  the offset of the identifier octet
     * @param body   the offset of the contents
     * @param end    the offset just after the contents
     */
    public record Element(byte[] der, int tag, int start, int body, int end) {
        /** The element that starts at offset 0 and must span all of {@code der}. */
        public static Element parse(byte[] der) {
            Element e = at(der, 0, der.length);
            if (e.end != der.length) throw new IllegalArgumentException("DER: " + (der.length - e.end) + " bytes after the element");
            return e;
        }

        /** The elements inside a constructed element (SEQUENCE, SET, [n]), in order. */
        public List<Element> children() {
            List<Element> out = new ArrayList<>();
            for (int i = body; i < end; ) {
                Element c = at(der, i, end);
                out.add(c);
                i = c.end;
            }
            return out;
        }

        public byte[] contents() {
            return Arrays.copyOfRange(der, body, end);
        }

        /** Header and contents, as found. */
        public byte[] encoded() {
            return Arrays.copyOfRange(der, start, end);
        }

        private static Element at(byte[] der, int i, int limit) {
            if (i + 2 > limit) throw new IllegalArgumentException("DER: truncated header at " + i);
            int tag = der[i] & 0xff;
            if ((tag & 0x1f) == 0x1f) throw new IllegalArgumentException("DER: multi-byte tag at " + i);
            int first = der[i + 1] & 0xff;
            int body = i + 2;
            long len = first;
            if (first > 0x80) {
                int n = first & 0x7f;
                if (n > 4 || body + n > limit) throw new IllegalArgumentException("DER: bad length at " + i);
                len = 0;
                for (int k = 0; k < n; k++) len = (len << 8) | (der[body + k] & 0xff);
                body += n;
            } else if (first == 0x80) {
                throw new IllegalArgumentException("DER: indefinite length at " + i);
            }
            if (body + len > limit) throw new IllegalArgumentException("DER: element at " + i + " runs past its container");
            return new Element(der, tag, i, body, (int) (body + len));
        }
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
