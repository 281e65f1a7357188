package io.k3j.apiserver.validation;

import java.util.regex.Pattern;

/** Textual IP checks without name resolution (InetAddress would resolve host names). */
final class Net {
    private Net() {}

    private static final Pattern V4 = Pattern.compile("((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
    private static final Pattern V6 = Pattern.compile("[0-9a-fA-F:.]+");

    static boolean isIPv4(String s) {
        return V4.matcher(s).matches();
    }

    static boolean isIPv6(String s) {
        if (!s.contains(":") || !V6.matcher(s).matches()) return false;
        // Only hex digits, colons and dots reach here, so getByName parses a literal and never resolves.
        try {
            return java.net.InetAddress.getByName(s) instanceof java.net.Inet6Address;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    static boolean isIP(String s) {
        return isIPv4(s) || isIPv6(s);
    }
}
