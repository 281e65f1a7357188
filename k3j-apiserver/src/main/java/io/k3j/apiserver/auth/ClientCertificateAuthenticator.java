package io.k3j.apiserver.auth;

import static java.util.Objects.requireNonNull;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * kube-apiserver's x509 authenticator with the CommonName user conversion. The TLS layer has usually verified the
 * chain already; verifying again here keeps the authenticator correct on its own (a listener may trust more CAs
 * than this authenticator should accept).
 */
final class ClientCertificateAuthenticator implements Authenticator {

    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

    private final Set<TrustAnchor> anchors = new HashSet<>();
    private final List<X509Certificate> cas;
    private final Clock clock;

    ClientCertificateAuthenticator(Collection<X509Certificate> trustedCas, Clock clock) {
        this.cas = List.copyOf(requireNonNull(trustedCas, "trustedCas"));
        this.clock = requireNonNull(clock, "clock");
        if (cas.isEmpty()) {
            throw new IllegalArgumentException("trustedCas : [] (expected: at least one CA certificate)");
        }
        cas.forEach(ca -> anchors.add(new TrustAnchor(ca, null)));
    }

    /**
     * Users of leaf certificates whose chains verified, so a connection's many requests (and an agent's many
     * connections) pay for the signature checks once; the validity period is still checked on every request.
     */
    private final java.util.Map<X509Certificate, UserInfo> verifiedLeaves = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_CACHED = 4096;

    @Override
    public Optional<UserInfo> authenticate(Credentials credentials) {
        X509Certificate[] chain = credentials.peerCertificates();
        if (chain == null || chain.length == 0) return Optional.empty();
        UserInfo cached = verifiedLeaves.get(chain[0]);
        if (cached != null) {
            try {
                chain[0].checkValidity(Date.from(clock.instant()));
                return Optional.of(cached);
            } catch (java.security.cert.CertificateException e) {
                verifiedLeaves.remove(chain[0]);
                return Optional.empty();
            }
        }
        Optional<UserInfo> user = authenticateUncached(chain);
        if (user.isPresent()) {
            if (verifiedLeaves.size() >= MAX_CACHED) verifiedLeaves.clear();
            verifiedLeaves.put(chain[0], user.get());
        }
        return user;
    }

    private Optional<UserInfo> authenticateUncached(X509Certificate[] chain) {
        if (!verified(chain) || !allowsClientAuth(chain[0])) {
            return Optional.empty();
        }
        X500Name subject = X500Name.getInstance(chain[0].getSubjectX500Principal().getEncoded());
        RDN[] cn = subject.getRDNs(BCStyle.CN);
        String name = cn.length == 0 ? "" : IETFUtils.valueToString(cn[0].getFirst().getValue());
        if (name.isEmpty()) {
            return Optional.empty();
        }
        List<String> groups = new ArrayList<>();
        for (RDN o : subject.getRDNs(BCStyle.O)) {
            groups.add(IETFUtils.valueToString(o.getFirst().getValue()));
        }
        return Optional.of(new UserInfo(name, "", groups).authenticated());
    }

    private boolean verified(X509Certificate[] chain) {
        // PKIX wants the path without its trust anchor; peers usually send the CA along, so drop it.
        List<X509Certificate> path = new ArrayList<>(List.of(chain));
        while (path.size() > 1 && cas.contains(path.getLast())) {
            path.removeLast();
        }
        try {
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(clock.instant()));
            CertPathValidator.getInstance("PKIX")
                    .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean allowsClientAuth(X509Certificate leaf) {
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            return eku == null || eku.contains(CLIENT_AUTH) || eku.contains(ANY_EXTENDED_KEY_USAGE);
        } catch (java.security.cert.CertificateParsingException e) {
            return false;
        }
    }
}
