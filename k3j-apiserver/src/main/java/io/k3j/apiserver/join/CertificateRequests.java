package io.k3j.apiserver.join;

import io.k3j.api.ApiException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/** The public key an agent sends: a PKCS#10 request (its self-signature checked) or a bare PUBLIC KEY block. */
final class CertificateRequests {
    private CertificateRequests() {
    }

    /**
     * @throws ApiException 400 when the body is neither, or the request's signature does not verify (whoever sent
     *                      it does not hold the key)
     */
    static PublicKey publicKey(byte[] body) {
        Object parsed;
        try (PEMParser parser = new PEMParser(new StringReader(new String(body, StandardCharsets.US_ASCII)))) {
            parsed = parser.readObject();
        } catch (IOException e) {
            throw ApiException.badRequest("reading the certificate request: " + e.getMessage());
        }
        try {
            if (parsed instanceof PKCS10CertificationRequest csr) {
                PublicKey key = toJdk(csr.getSubjectPublicKeyInfo());
                if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                    throw ApiException.badRequest("the certificate request's signature does not match its public key");
                }
                return key;
            }
            if (parsed instanceof SubjectPublicKeyInfo info) return toJdk(info);
        } catch (OperatorCreationException | PKCSException | GeneralSecurityException | IOException e) {
            throw ApiException.badRequest("invalid certificate request: " + e.getMessage());
        }
        throw ApiException.badRequest("expected a PEM CERTIFICATE REQUEST or PUBLIC KEY in the request body");
    }

    private static PublicKey toJdk(SubjectPublicKeyInfo info) throws GeneralSecurityException, IOException {
        String oid = info.getAlgorithm().getAlgorithm().getId();
        String alg = switch (oid) {
            case "1.2.840.10045.2.1" -> "EC";
            case "1.2.840.113549.1.1.1" -> "RSA";
            case "1.3.101.112" -> "Ed25519";
            default -> throw new GeneralSecurityException("unsupported key algorithm " + oid);
        };
        return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(info.getEncoded()));
    }
}
