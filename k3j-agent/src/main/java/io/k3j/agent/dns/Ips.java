package io.k3j.agent.dns;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** IP literals read without ever asking a resolver (InetAddress.getByName looks up anything that isn't a literal). */
final class Ips {
    private Ips() {
    }

    /** The address written as {@code text} (IPv4 dotted quad or IPv6), or null when it is not an IP literal. */
    static InetAddress parse(String text) {
        if (text == null || text.isEmpty()) return null;
        if (text.indexOf(':') < 0) {
            byte[] b = v4(text);
            return b == null ? null : addr(b);
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok = c == ':' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
            if (!ok) return null;
        }
        try {
            // a string with ':' is only ever parsed as an IPv6 literal, never looked up
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static byte[] v4(String text) {
        byte[] b = new byte[4];
        int part = 0, value = -1;
        for (int i = 0; i <= text.length(); i++) {
            char c = i == text.length() ? '.' : text.charAt(i);
            if (c == '.') {
                if (value < 0 || part == 4) return null;
                b[part++] = (byte) value;
                value = -1;
            } else if (c >= '0' && c <= '9') {
                value = value < 0 ? c - '0' : value * 10 + (c - '0');
                if (value > 255) return null;
            } else {
                return null;
            }
        }
        return part == 4 ? b : null;
    }

    static InetAddress addr(byte[] b) {
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /**
     * The address of a pod name's first label ({@code 10-42-0-5}, or {@code fd00--5} for IPv6, as CoreDNS's "pods"
     * option reads it), or null.
     */
    static InetAddress fromDashed(String label) {
        if (label.indexOf('-') < 0) return null;
        String dotted = label.replace('-', '.');
        byte[] v4 = v4(dotted);
        if (v4 != null) return addr(v4);
        InetAddress a = parse(label.replace('-', ':'));
        return a instanceof Inet6Address ? a : null;
    }

    /** The dashed label of an endpoint without a hostname (CoreDNS: dots, or an IPv6 address's colons, become dashes). */
    static String dashed(String ip) {
        return ip.indexOf(':') >= 0 ? ip.toLowerCase(java.util.Locale.ROOT).replace(':', '-') : ip.replace('.', '-');
    }

    /**
     * The address of a reverse name relative to its arpa zone: {@code 5.0.42.10} (in-addr.arpa, labels reversed) or
     * 32 nibbles (ip6.arpa); null for anything else, e.g. a partial name.
     */
    static InetAddress fromReverse(String name) {
        if (name.endsWith(".in-addr.arpa")) {
            String[] l = name.substring(0, name.length() - ".in-addr.arpa".length()).split("\\.", -1);
            if (l.length != 4) return null;
            byte[] b = v4(l[3] + "." + l[2] + "." + l[1] + "." + l[0]);
            return b == null ? null : addr(b);
        }
        if (name.endsWith(".ip6.arpa")) {
            String[] l = name.substring(0, name.length() - ".ip6.arpa".length()).split("\\.", -1);
            if (l.length != 32) return null;
            byte[] b = new byte[16];
            for (int i = 0; i < 32; i++) {
                if (l[i].length() != 1) return null;
                int nib = Character.digit(l[i].charAt(0), 16);
                if (nib < 0) return null;
                int pos = 31 - i;
                b[pos / 2] |= (byte) (pos % 2 == 0 ? nib << 4 : nib);
            }
            return addr(b);
        }
        return null;
    }

    /** The reverse name of an address, without the final dot. */
    static String reverseName(InetAddress a) {
        byte[] b = a.getAddress();
        StringBuilder sb = new StringBuilder();
        if (b.length == 4) {
            for (int i = 3; i >= 0; i--) sb.append(b[i] & 0xFF).append('.');
            return sb.append("in-addr.arpa").toString();
        }
        for (int i = 15; i >= 0; i--) {
            sb.append(Character.forDigit(b[i] & 0xF, 16)).append('.').append(Character.forDigit((b[i] >> 4) & 0xF, 16)).append('.');
        }
        return sb.append("ip6.arpa").toString();
    }
}
