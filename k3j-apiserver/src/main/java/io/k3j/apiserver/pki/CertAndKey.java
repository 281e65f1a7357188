package io.k3j.apiserver.pki;

import static java.util.Objects.requireNonNull;

/**
 * A certificate (PEM, leaf first, followed by the CA that signed it, as k3s writes its certificate files) and its
 * private key (PEM). {@link #toString()} leaves the key out so it never lands in a log.
 *
 * @param certificatePem one or more {@code CERTIFICATE} blocks
 * @param privateKeyPem  one private key block
 */
public record CertAndKey(String certificatePem, String privateKeyPem) {

    public CertAndKey {
        requireNonNull(certificatePem, "certificatePem");
        requireNonNull(privateKeyPem, "privateKeyPem");
    }

    @Override
    public String toString() {
        return "CertAndKey[certificatePem=" + certificatePem.length() + " chars, privateKeyPem=<redacted>]";
    }
}
