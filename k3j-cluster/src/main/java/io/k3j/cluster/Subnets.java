package io.k3j.cluster;

import io.k3j.agent.host.Processes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** IPv4 subnets for cluster bridges: parsing, overlap, and a free one to pick. */
final class Subnets {
    private Subnets() { }

    /** {@code a.b.c.d/p} as [network, prefix]; the address is masked. */
    static long[] parse(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("subnet " + cidr + " is not valid: expected ADDRESS/PREFIX, e.g. 10.213.7.0/24");
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("subnet " + cidr + " is not valid: the prefix must be a number");
        }
        if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("subnet " + cidr + " is not valid: prefix " + prefix + " (expected: 0 to 32)");
        long ip = address(cidr.substring(0, slash));
        long mask = prefix == 0 ? 0 : (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
        return new long[] {ip & mask, prefix};
    }

    static long address(String dotted) {
        String[] p = dotted.split("\\.");
        if (p.length != 4) throw new IllegalArgumentException("address " + dotted + " is not an IPv4 address");
        long v = 0;
        for (String o : p) {
            int x;
            try {
                x = Integer.parseInt(o);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("address " + dotted + " is not an IPv4 address");
            }
            if (x < 0 || x > 255) throw new IllegalArgumentException("address " + dotted + " is not an IPv4 address");
            v = (v << 8) | x;
        }
        return v;
    }

    static String dotted(long v) {
        return ((v >> 24) & 255) + "." + ((v >> 16) & 255) + "." + ((v >> 8) & 255) + "." + (v & 255);
    }

    /** Checks a {@code --subnet}: a network with room for a bridge and nodes, not overlapping the pod and service networks. */
    static String validate(String cidr) {
        long[] s = parse(cidr);
        if (s[1] < 8 || s[1] > 28) throw new IllegalArgumentException("subnet " + cidr + " is not valid: prefix /" + s[1] + " (expected: /8 to /28)");
        for (String k8s : List.of("10.42.0.0/16", "10.43.0.0/16")) {
            if (overlap(cidr, k8s)) throw new IllegalArgumentException("subnet " + cidr + " overlaps the pod or service network " + k8s + ": choose another");
        }
        return dotted(s[0]) + "/" + s[1];
    }

    /** The {@code n}th address of the subnet (1 = the bridge's). */
    static String host(String cidr, int n) {
        long[] s = parse(cidr);
        if (n < 1 || n >= size(cidr) - 1) throw new IllegalArgumentException("subnet " + cidr + " has no host address number " + n);
        return dotted(s[0] + n);
    }

    static long size(String cidr) {
        return 1L << (32 - parse(cidr)[1]);
    }

    static boolean overlap(String a, String b) {
        long[] x = parse(a);
        long[] y = parse(b);
        long p = Math.min(x[1], y[1]);
        long mask = (0xFFFFFFFFL << (32 - p)) & 0xFFFFFFFFL;
        return (x[0] & mask) == (y[0] & mask);
    }

    /** Subnets routed on this machine, in any table (default routes excluded). */
    static List<String> routed() {
        List<String> out = new ArrayList<>();
        for (String line : Processes.run(Duration.ofSeconds(10), "ip", "-4", "route", "show", "table", "all").output().split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length == 0 || f[0].isEmpty()) continue;
            String dst = List.of("local", "broadcast", "unicast", "unreachable", "blackhole", "prohibit").contains(f[0]) && f.length > 1 ? f[1] : f[0];
            if (dst.equals("default")) continue;
            if (!dst.contains("/")) dst = dst + "/32";
            try {
                parse(dst);
                out.add(dst);
            } catch (IllegalArgumentException e) {
                // not a route to an IPv4 network
            }
        }
        return out;
    }

    /**
     * A /24 in 10.200.0.0-10.254.255.0 that overlaps nothing routed here and no other cluster's (the pod and
     * service networks, 10.42/16 and 10.43/16, are below that range).
     */
    static String pickFree(Collection<String> taken) {
        List<String> avoid = new ArrayList<>(routed());
        avoid.addAll(taken);
        for (int attempt = 0; attempt < 500; attempt++) {
            String candidate = "10." + ThreadLocalRandom.current().nextInt(200, 255) + "." + ThreadLocalRandom.current().nextInt(256) + ".0/24";
            if (avoid.stream().noneMatch(a -> overlap(a, candidate))) return candidate;
        }
        throw new IllegalStateException("no free 10.2xx.yyy.0/24 subnet for the cluster bridge: give one with --subnet");
    }
}
