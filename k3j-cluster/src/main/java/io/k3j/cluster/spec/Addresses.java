package io.k3j.cluster.spec;

import java.util.regex.Pattern;

/** Address literal checks without name lookups (InetAddress.getByName would resolve names). */
final class Addresses {
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern HOSTNAME = Pattern.compile("(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

    private Addresses() {
    }

    static boolean isIpv4(String s) {
        return IPV4.matcher(s).matches();
    }

    static boolean isIpv6(String s) {
        if (!s.contains(":") || !s.matches("[0-9A-Fa-f:.]+")) return false;
        try { // a literal with ':' is parsed, never looked up
            return java.net.InetAddress.getByName(s) instanceof java.net.Inet6Address;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    static boolean isHostname(String s) {
        return HOSTNAME.matcher(s).matches();
    }

    static int ipv4ToInt(String s) {
        String[] p = s.split("\\.");
        return Integer.parseInt(p[0]) << 24 | Integer.parseInt(p[1]) << 16 | Integer.parseInt(p[2]) << 8 | Integer.parseInt(p[3]);
    }

    static String intToIpv4(int v) {
        return (v >>> 24) + "." + (v >>> 16 & 255) + "." + (v >>> 8 & 255) + "." + (v & 255);
    }
}
