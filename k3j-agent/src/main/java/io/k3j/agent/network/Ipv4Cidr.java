package io.k3j.agent.network;

/**
 * An IPv4 network {@code a.b.c.d/len}, normalised to its network address.
 *
 * @param network the network address as a 32-bit number
 * @param prefix  the prefix length, 0 to 32
 */
record Ipv4Cidr(int network, int prefix) {

    Ipv4Cidr {
        if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("prefix : " + prefix + " (expected: 0-32)");
        network &= mask(prefix);
    }

    /**
     * Parses {@code 10.42.1.0/24}.
     *
     * @throws IllegalArgumentException for anything else (IPv6 included: the pod network is IPv4 only)
     */
    static Ipv4Cidr parse(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("cidr : " + cidr + " (expected: a.b.c.d/len)");
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cidr : " + cidr + " (expected: a.b.c.d/len)");
        }
        return new Ipv4Cidr(address(cidr.substring(0, slash)), prefix);
    }

    /** Parses a dotted quad into a 32-bit number. */
    static int address(String dotted) {
        String[] parts = dotted.split("\\.", -1);
        if (parts.length != 4) throw new IllegalArgumentException("address : " + dotted + " (expected: a.b.c.d)");
        int a = 0;
        for (String p : parts) {
            int v;
            try {
                v = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("address : " + dotted + " (expected: a.b.c.d)");
            }
            if (v < 0 || v > 255) throw new IllegalArgumentException("address : " + dotted + " (expected: a.b.c.d)");
            a = (a << 8) | v;
        }
        return a;
    }

    static boolean isIpv4(String s) {
        try {
            address(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static String dotted(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    private static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    /** The network address, e.g. {@code 10.42.1.0}: flannel's VTEP address for a node's podCIDR. */
    String networkAddress() {
        return dotted(network);
    }

    /** The first host address, e.g. {@code 10.42.1.1}: the pod gateway. */
    String firstHost() {
        return dotted(network + 1);
    }

    /** The bytes of an address as a MAC suffix {@code aa:bb:cc:dd}. */
    static String macSuffix(int a) {
        return String.format("%02x:%02x:%02x:%02x", a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
    }

    @Override
    public String toString() {
        return dotted(network) + "/" + prefix;
    }
}
