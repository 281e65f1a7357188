package io.k3j.agent.netpol;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An inclusive range of IPv4 or IPv6 addresses, the unit nft interval sets hold. ipBlock's {@code except} is
 * subtracted here, so that each peer set is a plain union of disjoint ranges (an interval set refuses overlapping
 * elements).
 */
record IpRange(boolean v6, BigInteger first, BigInteger last) {
    private static final BigInteger V4_MAX = BigInteger.ONE.shiftLeft(32).subtract(BigInteger.ONE);
    private static final BigInteger V6_MAX = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);

    static final Comparator<IpRange> ORDER = Comparator.comparing(IpRange::v6).thenComparing(IpRange::first).thenComparing(IpRange::last);

    /** One address. */
    static IpRange address(String ip) {
        byte[] b = parse(ip);
        BigInteger v = new BigInteger(1, b);
        return new IpRange(b.length == 16, v, v);
    }

    /**
     * A CIDR such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}; host bits are ignored, as the API server's
     * validation leaves them to the implementation.
     *
     * @throws IllegalArgumentException for anything else
     */
    static IpRange cidr(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("not a CIDR: " + cidr);
        byte[] b = parse(cidr.substring(0, slash));
        int bits = b.length * 8;
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a CIDR: " + cidr);
        }
        if (prefix < 0 || prefix > bits) throw new IllegalArgumentException("prefix out of range: " + cidr);
        BigInteger hostMask = BigInteger.ONE.shiftLeft(bits - prefix).subtract(BigInteger.ONE);
        BigInteger first = new BigInteger(1, b).andNot(hostMask);
        return new IpRange(bits == 128, first, first.or(hostMask));
    }

    boolean contains(IpRange other) {
        return v6 == other.v6 && first.compareTo(other.first) <= 0 && last.compareTo(other.last) >= 0;
    }

    boolean contains(String ip) {
        return contains(address(ip));
    }

    /** This range without the given ones: zero, one or more ranges. */
    List<IpRange> minus(List<IpRange> holes) {
        List<IpRange> out = new ArrayList<>(List.of(this));
        for (IpRange h : holes) {
            if (h.v6 != v6) continue;
            List<IpRange> next = new ArrayList<>();
            for (IpRange r : out) {
                if (h.last.compareTo(r.first) < 0 || h.first.compareTo(r.last) > 0) {
                    next.add(r);
                    continue;
                }
                if (h.first.compareTo(r.first) > 0) next.add(new IpRange(v6, r.first, h.first.subtract(BigInteger.ONE)));
                if (h.last.compareTo(r.last) < 0) next.add(new IpRange(v6, h.last.add(BigInteger.ONE), r.last));
            }
            out = next;
        }
        return out;
    }

    /** Sorted, with overlapping and adjacent ranges joined. */
    static List<IpRange> merge(List<IpRange> ranges) {
        List<IpRange> sorted = new ArrayList<>(ranges);
        sorted.sort(ORDER);
        List<IpRange> out = new ArrayList<>();
        for (IpRange r : sorted) {
            if (!out.isEmpty()) {
                IpRange prev = out.getLast();
                if (prev.v6 == r.v6 && prev.last.add(BigInteger.ONE).compareTo(r.first) >= 0) {
                    out.set(out.size() - 1, new IpRange(r.v6, prev.first, prev.last.max(r.last)));
                    continue;
                }
            }
            out.add(r);
        }
        return out;
    }

    /** The nft element: {@code a} or {@code a-b}. */
    String element() {
        return first.equals(last) ? format(v6, first) : format(v6, first) + "-" + format(v6, last);
    }

    static String format(boolean v6, BigInteger value) {
        if (value.signum() < 0 || value.compareTo(v6 ? V6_MAX : V4_MAX) > 0) throw new IllegalArgumentException("out of range: " + value);
        byte[] raw = value.toByteArray();
        byte[] b = new byte[v6 ? 16 : 4];
        int n = Math.min(raw.length, b.length);
        System.arraycopy(raw, raw.length - n, b, b.length - n, n);
        try {
            return InetAddress.getByAddress(b).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * An address literal, never a host name: {@code InetAddress.getByName} would send a DNS query for anything that
     * is not a literal, and pod IPs and CIDRs come from objects anyone with write access can fill.
     */
    static byte[] parse(String ip) {
        if (ip.indexOf(':') >= 0) {
            if (!ip.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
                throw new IllegalArgumentException("not an IP address: " + ip);
            }
            try {
                byte[] b = InetAddress.getByName(ip).getAddress();
                if (b.length == 16) return b;
                // an IPv4-mapped literal comes back as 4 bytes: keep it in the IPv6 family it was written in
                byte[] mapped = new byte[16];
                mapped[10] = (byte) 0xff;
                mapped[11] = (byte) 0xff;
                System.arraycopy(b, 0, mapped, 12, 4);
                return mapped;
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an IP address: " + ip);
            }
        }
        String[] parts = ip.split("\\.", -1);
        if (parts.length != 4) throw new IllegalArgumentException("not an IP address: " + ip);
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("not an IP address: " + ip);
            }
            int v = Integer.parseInt(p);
            if (v > 255) throw new IllegalArgumentException("not an IP address: " + ip);
            b[i] = (byte) v;
        }
        return b;
    }
}
