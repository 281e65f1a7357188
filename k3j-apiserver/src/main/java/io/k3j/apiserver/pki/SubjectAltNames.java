package io.k3j.apiserver.pki;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.util.IPAddress;

/** DNS names and IP addresses of a certificate, classified the way k3s does: an IP literal is an IP SAN. */
record SubjectAltNames(Set<String> dnsNames, Set<InetAddress> ips) {

    // RFC 1123 labels, plus a leading wildcard label; Go's verifier rejects anything else anyway.
    private static final Pattern DNS_NAME =
            Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

    SubjectAltNames {
        dnsNames = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(dnsNames));
        ips = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(ips));
    }

    static SubjectAltNames of(Collection<String> values) {
        Set<String> dns = new LinkedHashSet<>();
        Set<InetAddress> ips = new LinkedHashSet<>();
        for (String raw : values) {
            String value = raw == null ? "" : raw.trim();
            if (value.startsWith("[") && value.endsWith("]")) {
                value = value.substring(1, value.length() - 1);
            }
            if (IPAddress.isValid(value)) {
                ips.add(literal(value));
            } else {
                String name = value.toLowerCase(Locale.ROOT);
                if (name.endsWith(".")) {
                    name = name.substring(0, name.length() - 1);
                }
                if (name.length() > 253 || !DNS_NAME.matcher(name).matches()) {
                    throw new IllegalArgumentException("SAN : \"" + raw + "\" (expected: an IP address or a DNS name)");
                }
                dns.add(name);
            }
        }
        return new SubjectAltNames(dns, ips);
    }

    /**
     * The address of the {@code kubernetes} service: the network address of the (first) service CIDR plus one,
     * e.g. 10.43.0.1 for 10.43.0.0/16.
     */
    static InetAddress firstServiceIp(String serviceCidr) {
        String first = serviceCidr.split(",", -1)[0].trim();
        int slash = first.indexOf('/');
        String expected = " (expected: a CIDR such as 10.43.0.0/16)";
        if (slash < 0 || !IPAddress.isValid(first.substring(0, slash))) {
            throw new IllegalArgumentException("serviceCidr : \"" + serviceCidr + "\"" + expected);
        }
        byte[] addr = literal(first.substring(0, slash)).getAddress();
        int prefix;
        try {
            prefix = Integer.parseInt(first.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("serviceCidr : \"" + serviceCidr + "\"" + expected, e);
        }
        int bits = addr.length * 8;
        // The range must leave room for the network address and at least one service IP.
        if (prefix < 0 || prefix > bits - 1) {
            throw new IllegalArgumentException("serviceCidr : \"" + serviceCidr + "\"" + expected);
        }
        for (int i = 0; i < addr.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            addr[i] &= (byte) (0xff << (8 - keep));
        }
        for (int i = addr.length - 1; i >= 0; i--) {
            addr[i]++;
            if (addr[i] != 0) {
                break;
            }
        }
        try {
            return InetAddress.getByAddress(addr);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    SubjectAltNames plus(SubjectAltNames other) {
        Set<String> dns = new LinkedHashSet<>(dnsNames);
        dns.addAll(other.dnsNames);
        Set<InetAddress> all = new LinkedHashSet<>(ips);
        all.addAll(other.ips);
        return new SubjectAltNames(dns, all);
    }

    /** Whether {@code cert} names every DNS name and IP of this set (it may name more). */
    boolean coveredBy(X509Certificate cert) {
        SubjectAltNames present;
        try {
            present = of(namesOf(cert));
        } catch (IllegalArgumentException e) {
            return false;
        }
        return present.dnsNames.containsAll(dnsNames) && present.ips.containsAll(ips);
    }

    /** The SANs a certificate carries, as strings (DNS names and IP literals). */
    static List<String> namesOf(X509Certificate cert) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> entries = cert.getSubjectAlternativeNames();
            if (entries != null) {
                for (List<?> entry : entries) {
                    int type = (Integer) entry.get(0);
                    if (type == GeneralName.dNSName || type == GeneralName.iPAddress) {
                        names.add((String) entry.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // An unreadable SAN extension covers nothing; the caller regenerates the certificate.
        }
        return names;
    }

    List<String> asStrings() {
        List<String> out = new ArrayList<>(dnsNames);
        ips.forEach(ip -> out.add(ip.getHostAddress()));
        return out;
    }

    GeneralNames toGeneralNames() {
        List<GeneralName> names = new ArrayList<>();
        dnsNames.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
        ips.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress,
                new org.bouncycastle.asn1.DEROctetString(ip.getAddress()))));
        return new GeneralNames(names.toArray(GeneralName[]::new));
    }

    boolean isEmpty() {
        return dnsNames.isEmpty() && ips.isEmpty();
    }

    private static InetAddress literal(String ip) {
        try {
            // Only ever called with a validated literal, so this parses and never resolves.
            return InetAddress.getByName(ip);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("IP : \"" + ip + "\" (expected: an IP address)", e);
        }
    }
}
