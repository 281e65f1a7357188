package io.k3j.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import org.junit.jupiter.api.Test;

/**
 * The PEM key forms the JDK cannot read itself, read without BouncyCastle: each test key (made with openssl for this
 * test: {@code ecparam -genkey}, {@code genrsa -traditional}) must be the same key as its PKCS#8 form
 * ({@code openssl pkcs8 -topk8 -nocrypt}), which the JDK reads.
 */
class LegacyKeysTest {
    // SEC1, after the EC PARAMETERS block openssl writes first
    private static final String EC_SEC1 = "-----BEGIN EC PARAMETERS-----\n" +
            "BggqhkjOPQMBBw==\n" +
            "-----END EC PARAMETERS-----\n" +
            "-----BEGIN EC PRIVATE KEY-----\n" +
            "MHcCAQEEILdqsOqSKID5Vd41TMKmFdZ3q8TB5rGCEkCcankQGVXJoAoGCCqGSM49\n" +
            "AwEHoUQDQgAEmWlS0koF6DoYOagOmmR7Vh2he1cpeubgPB4XjZ9tFGT9XY9Jg0VF\n" +
            "HbMVujsonybJcElF/oHSujyOAkSm5jqPpA==\n" +
            "-----END EC PRIVATE KEY-----\n";
    private static final String EC_PKCS8 = "-----BEGIN PRIVATE KEY-----\n" +
            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgt2qw6pIogPlV3jVM\n" +
            "wqYV1nerxMHmsYISQJxqeRAZVcmhRANCAASZaVLSSgXoOhg5qA6aZHtWHaF7Vyl6\n" +
            "5uA8HheNn20UZP1dj0mDRUUdsxW6OyifJslwSUX+gdK6PI4CRKbmOo+k\n" +
            "-----END PRIVATE KEY-----\n";
    private static final String RSA_PKCS1 = "-----BEGIN RSA PRIVATE KEY-----\n" +
            "MIICXAIBAAKBgQDaI6Y2CXOLQAo+8E+9PWmgD+mM1TiygSBCcAC4Kbr3wld52Wme\n" +
            "NJKfZlF8YhfkTsHyHvqqyYEuQLttRGYvBZxZee6MG6LC+WdsiqhYfWYkGwP1AhtQ\n" +
            "0Q8sx1MwDU5zQQ/h3//vvPYfy+MScRsucLcOglWrY1k5nksGkXccpSd6kwIDAQAB\n" +
            "AoGALjq54d/U5eD3iukg7QkT1oEozNjvQB1PeeUEsgLeBd3g7gjeclHP9QoZINQl\n" +
            "HhR209ou43z67JN5ZSnGwhZdUNDGt9I2ThfXClgKJ79VayX5andtRiHWqCRhSdLQ\n" +
            "Ruz9iA1Dr+I5wBqfshWl0WZ2SFoqk06JI1MgIWz89vPyHQECQQD7DpfJtosubf/z\n" +
            "79mA5s7i8hSuHtKZFhZcODCj0T2zSJOi6x6pOECO6W4j9IVp2FLnHZL7fXw6h6L+\n" +
            "K3xQtFqBAkEA3m8j8v8Rbvp9ZaoRXPK+iAkFV5XV88K2xlqHTuiUXMKDNytkm3ZQ\n" +
            "QWJSWNau/lxB1lTXHjcEVDw30OMxR5VDEwJAKCtfkgDJKDale2xnCr7jX2CIeoun\n" +
            "+qKUFVFQRwXVr3fvV2PzVfQQME2dN9eJ+TOJoD0VJXQgimTlaXGfxHH3AQJBAL1G\n" +
            "R4njwBr2bbQP1nyIVtb9Dh2sc4XcP5ljuVXNFUolfnB4rUCYmcw5dScBb6EkMiXG\n" +
            "xdKBMF7ZawmF+g4Wlh8CQC9ojFmtAmU8tMdqGuUbnrO/cq2y3UyQmqPghEfNIZgm\n" +
            "8f7ZNpayu9fThOLNpVL7UkD6zG1R7OOEUqAqTOJxYtc=\n" +
            "-----END RSA PRIVATE KEY-----\n";
    private static final String RSA_PKCS8 = "-----BEGIN PRIVATE KEY-----\n" +
            "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBANojpjYJc4tACj7w\n" +
            "T709aaAP6YzVOLKBIEJwALgpuvfCV3nZaZ40kp9mUXxiF+ROwfIe+qrJgS5Au21E\n" +
            "Zi8FnFl57owbosL5Z2yKqFh9ZiQbA/UCG1DRDyzHUzANTnNBD+Hf/++89h/L4xJx\n" +
            "Gy5wtw6CVatjWTmeSwaRdxylJ3qTAgMBAAECgYAuOrnh39Tl4PeK6SDtCRPWgSjM\n" +
            "2O9AHU955QSyAt4F3eDuCN5yUc/1Chkg1CUeFHbT2i7jfPrsk3llKcbCFl1Q0Ma3\n" +
            "0jZOF9cKWAonv1VrJflqd21GIdaoJGFJ0tBG7P2IDUOv4jnAGp+yFaXRZnZIWiqT\n" +
            "TokjUyAhbPz28/IdAQJBAPsOl8m2iy5t//Pv2YDmzuLyFK4e0pkWFlw4MKPRPbNI\n" +
            "k6LrHqk4QI7pbiP0hWnYUucdkvt9fDqHov4rfFC0WoECQQDebyPy/xFu+n1lqhFc\n" +
            "8r6ICQVXldXzwrbGWodO6JRcwoM3K2SbdlBBYlJY1q7+XEHWVNceNwRUPDfQ4zFH\n" +
            "lUMTAkAoK1+SAMkoNqV7bGcKvuNfYIh6i6f6opQVUVBHBdWvd+9XY/NV9BAwTZ03\n" +
            "14n5M4mgPRUldCCKZOVpcZ/EcfcBAkEAvUZHiePAGvZttA/WfIhW1v0OHaxzhdw/\n" +
            "mWO5Vc0VSiV+cHitQJiZzDl1JwFvoSQyJcbF0oEwXtlrCYX6DhaWHwJAL2iMWa0C\n" +
            "ZTy0x2oa5Rues79yrbLdTJCao+CER80hmCbx/tk2lrK719OE4s2lUvtSQPrMbVHs\n" +
            "44RSoCpM4nFi1w==\n" +
            "-----END PRIVATE KEY-----\n";

    @Test
    void sec1EcKeyIsTheSameKeyAsItsPkcs8Form() {
        PrivateKey sec1 = TlsMaterial.privateKey(EC_SEC1);
        PrivateKey pkcs8 = TlsMaterial.privateKey(EC_PKCS8);
        assertThat(sec1.getAlgorithm()).isEqualTo("EC");
        assertThat(((ECPrivateKey) sec1).getS()).isEqualTo(((ECPrivateKey) pkcs8).getS());
        assertThat(((ECPrivateKey) sec1).getParams().getCurve()).isEqualTo(((ECPrivateKey) pkcs8).getParams().getCurve());
    }

    @Test
    void pkcs1RsaKeyIsTheSameKeyAsItsPkcs8Form() {
        RSAPrivateCrtKey pkcs1 = (RSAPrivateCrtKey) TlsMaterial.privateKey(RSA_PKCS1);
        RSAPrivateCrtKey pkcs8 = (RSAPrivateCrtKey) TlsMaterial.privateKey(RSA_PKCS8);
        assertThat(pkcs1.getModulus()).isEqualTo(pkcs8.getModulus());
        assertThat(pkcs1.getPrivateExponent()).isEqualTo(pkcs8.getPrivateExponent());
        assertThat(pkcs1.getEncoded()).isEqualTo(pkcs8.getEncoded());
    }

    @Test
    void ecKeyWithoutCurveOrBrokenDerIsRefusedWithAMessage() {
        // SEQUENCE { INTEGER 1, OCTET STRING 0x01 }: no [0] parameters
        String noCurve = "-----BEGIN EC PRIVATE KEY-----\nMAYCAQEEAQE=\n-----END EC PRIVATE KEY-----\n";
        assertThatThrownBy(() -> TlsMaterial.privateKey(noCurve)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("names no curve");
        String truncated = "-----BEGIN EC PRIVATE KEY-----\nMAoCAQE=\n-----END EC PRIVATE KEY-----\n";
        assertThatThrownBy(() -> TlsMaterial.privateKey(truncated)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DER");
        assertThatThrownBy(() -> TlsMaterial.privateKey("no key here")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no private key block");
    }
}
