package io.k3j.apiserver.auth.serviceaccount;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.util.Base64;

/**
 * JSON Web Tokens in the compact serialization (RFC 7519 over RFC 7515 JWS), signed with RS256 or ES256 only: the
 * two algorithms kube-apiserver signs service-account tokens with. Nothing else, and never {@code none}, is
 * accepted when verifying, so a token can't choose its own weaker algorithm.
 */
final class Jwt {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();
    /** Larger tokens are refused before any decoding (a real one is about 1 KiB). */
    static final int MAX_TOKEN_LENGTH = 16 * 1024;

    private Jwt() {
    }

    /** A token split into its parts; the signature is not yet checked. */
    record Parsed(ObjectNode header, ObjectNode claims, byte[] signingInput, byte[] signature) {
        String alg() {
            return Json.text(header, "alg");
        }

        String kid() {
            return Json.text(header, "kid");
        }
    }

    /** The JWS algorithm for a key: RS256 for RSA, ES256 for EC P-256. */
    static String algorithm(PublicKey key) {
        if (key instanceof RSAKey) return "RS256";
        if (key instanceof ECKey ec && ec.getParams().getOrder().bitLength() == 256) return "ES256";
        throw new IllegalArgumentException("service-account key : " + key.getAlgorithm()
                + " (expected: an RSA key or an EC P-256 key)");
    }

    /**
     * kube-apiserver's key id: base64url (unpadded) of the SHA-256 of the DER (PKIX) public key, so that a verifier
     * holding several keys picks the right one and the id is stable across restarts.
     */
    static String keyId(PublicKey key) {
        try {
            return B64.encodeToString(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    static String sign(ObjectNode header, ObjectNode claims, PrivateKey key, String alg) {
        String input = B64.encodeToString(Json.bytes(header)) + "." + B64.encodeToString(Json.bytes(claims));
        try {
            Signature s = Signature.getInstance(jcaName(alg));
            s.initSign(key);
            s.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + B64.encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing a service-account token with " + alg, e);
        }
    }

    /** The token's parts, or null when it isn't a compact JWS with JSON objects for header and claims. */
    static Parsed parse(String token) {
        if (token == null || token.length() > MAX_TOKEN_LENGTH) return null;
        int a = token.indexOf('.');
        int b = a < 0 ? -1 : token.indexOf('.', a + 1);
        if (a <= 0 || b <= a + 1 || b == token.length() - 1 || token.indexOf('.', b + 1) >= 0) return null;
        try {
            JsonNode header = Json.MAPPER.readTree(B64D.decode(token.substring(0, a)));
            JsonNode claims = Json.MAPPER.readTree(B64D.decode(token.substring(a + 1, b)));
            if (!(header instanceof ObjectNode h) || !(claims instanceof ObjectNode c)) return null;
            byte[] signature = B64D.decode(token.substring(b + 1));
            return new Parsed(h, c, token.substring(0, b).getBytes(StandardCharsets.US_ASCII), signature);
        } catch (IllegalArgumentException | java.io.IOException e) {
            return null;
        }
    }

    /** Whether the signature is {@code key}'s, with the algorithm that key signs with. */
    static boolean verify(Parsed jwt, PublicKey key) {
        String expected = algorithm(key);
        if (!expected.equals(jwt.alg())) return false;
        try {
            Signature s = Signature.getInstance(jcaName(expected));
            s.initVerify(key);
            s.update(jwt.signingInput());
            return s.verify(jwt.signature());
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String jcaName(String alg) {
        return switch (alg) {
            case "RS256" -> "SHA256withRSA";
            // JWS carries r||s (RFC 7518 §3.4), the P1363 format, not DER
            case "ES256" -> "SHA256withECDSAinP1363Format";
            default -> throw new IllegalArgumentException("unsupported JWS algorithm " + alg);
        };
    }
}
