package io.k3j.apiserver.crd;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The string formats apiextensions-apiserver keeps (apiserver/validation/formats.go) and how kube-openapi's
 * strfmt registry checks them. Names are normalized by dropping dashes, so {@code date-time} is {@code datetime}.
 */
final class Formats {
    private static final Set<String> SUPPORTED = Set.of(
            "bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac", "uuid", "uuid3", "uuid4",
            "uuid5", "isbn", "isbn10", "isbn13", "creditcard", "ssn", "hexcolor", "rgbcolor", "byte", "password",
            "date", "duration", "datetime", "k8sshortname", "k8slongname");

    private static final Pattern HOSTNAME = Pattern.compile(
            "^([a-zA-Z0-9\\p{S}\\p{L}]((-?[a-zA-Z0-9\\p{S}\\p{L}]{0,62})?)|([a-zA-Z0-9\\p{S}\\p{L}](([a-zA-Z0-9-\\p{S}\\p{L}]{0,61}[a-zA-Z0-9\\p{S}\\p{L}])?)(\\.)){1,}([a-zA-Z\\p{L}]){2,63})$");
    private static final Pattern UUID = Pattern.compile("(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$");
    private static final Pattern UUID3 = Pattern.compile("(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$");
    private static final Pattern UUID4 = Pattern.compile("(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$");
    private static final Pattern UUID5 = Pattern.compile("(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$");
    private static final Pattern CREDIT_CARD = Pattern.compile(
            "^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\\d{3})\\d{11})$");
    private static final Pattern ISBN10 = Pattern.compile("^(?:[0-9]{9}X|[0-9]{10})$");
    private static final Pattern ISBN13 = Pattern.compile("^(?:[0-9]{13})$");
    private static final Pattern HEXCOLOR = Pattern.compile("^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$");
    private static final String RGB_PART = "\\s*(0|[1-9]\\d?|1\\d\\d?|2[0-4]\\d|25[0-5])\\s*";
    private static final Pattern RGBCOLOR = Pattern.compile("^rgb\\(" + RGB_PART + "," + RGB_PART + "," + RGB_PART + "\\)$");
    private static final Pattern BASE64 = Pattern.compile(
            "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$");
    private static final Pattern SSN = Pattern.compile("^\\d{3}[- ]?\\d{2}[- ]?\\d{4}$");
    private static final Pattern TIME = Pattern.compile("^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$");
    private static final Pattern DATE = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}$");
    private static final Pattern BSON = Pattern.compile("^[0-9a-fA-F]{24}$");
    private static final Pattern MAC = Pattern.compile(
            "^(?:[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5}|[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){7}|[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){19}"
                    + "|[0-9a-fA-F]{4}(?:\\.[0-9a-fA-F]{4}){2}|[0-9a-fA-F]{4}(?:\\.[0-9a-fA-F]{4}){3}|[0-9a-fA-F]{4}(?:\\.[0-9a-fA-F]{4}){9})$");
    private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    private static final Pattern IPV4 = Pattern.compile("^\\d{1,3}(\\.\\d{1,3}){3}$");
    private static final Pattern DURATION_GO = Pattern.compile("^[-+]?(([0-9]*(\\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h))+$");
    private static final Pattern DURATION_PART = Pattern.compile("((\\d+)\\s*([A-Za-zµ]+))");
    private static final String[][] UNITS = {
            {"ns", "nano"}, {"us", "µs", "micro"}, {"ms", "milli"}, {"s", "sec"}, {"m", "min"}, {"h", "hr", "hour"},
            {"d", "day"}, {"w", "wk", "week"}};

    private Formats() {}

    static String normalize(String format) {
        return format.replace("-", "");
    }

    static boolean supported(String format) {
        return SUPPORTED.contains(normalize(format));
    }

    /** Whether kube-openapi's registry knows the (normalized, lower-cased) name. */
    static boolean known(String format) {
        return !format.isEmpty() && SUPPORTED.contains(normalize(format).toLowerCase(Locale.ROOT));
    }

    static boolean valid(String format, String s) {
        return switch (normalize(format).toLowerCase(Locale.ROOT)) {
            case "bsonobjectid" -> BSON.matcher(s).matches();
            case "uri" -> isRequestUri(s);
            case "email" -> isEmail(s);
            case "hostname" -> HOSTNAME.matcher(s).matches() && s.length() <= 255 && partsShort(s);
            case "ipv4" -> isIpv4(s);
            case "ipv6" -> s.contains(":") && isIp(s);
            case "cidr" -> isCidr(s);
            case "mac" -> MAC.matcher(s).matches();
            case "uuid" -> UUID.matcher(s).matches();
            case "uuid3" -> UUID3.matcher(s).matches();
            case "uuid4" -> UUID4.matcher(s).matches();
            case "uuid5" -> UUID5.matcher(s).matches();
            case "isbn" -> isbn10(s) || isbn13(s);
            case "isbn10" -> isbn10(s);
            case "isbn13" -> isbn13(s);
            case "creditcard" -> creditCard(s);
            case "ssn" -> s.length() == 11 && SSN.matcher(s).matches();
            case "hexcolor" -> HEXCOLOR.matcher(s).matches();
            case "rgbcolor" -> RGBCOLOR.matcher(s).matches();
            case "byte" -> BASE64.matcher(s).matches();
            case "password" -> true;
            case "date" -> isDate(s);
            case "duration" -> isDuration(s);
            case "datetime" -> isDateTime(s);
            case "k8sshortname" -> s.length() <= 63 && DNS_LABEL.matcher(s).matches();
            case "k8slongname" -> s.length() <= 253 && DNS_SUBDOMAIN.matcher(s).matches();
            default -> true;
        };
    }

    private static boolean partsShort(String s) {
        for (String p : s.split("\\.", -1)) if (p.length() > 63) return false;
        return true;
    }

    /** Go's time.Parse("2006-01-02", s): exact layout and a real calendar day. */
    private static boolean isDate(String s) {
        if (!DATE.matcher(s).matches()) return false;
        try {
            LocalDate.parse(s);
            return true;
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    /** strfmt.IsDateTime: a date, a 't' separator and the RFC 3339 time pattern (case-insensitive). */
    private static boolean isDateTime(String str) {
        if (str.length() < 4) return false;
        String[] parts = str.toLowerCase(Locale.ROOT).split("t", -1);
        if (parts.length < 2 || !isDate(parts[0])) return false;
        Matcher m = TIME.matcher(parts[1]);
        if (!m.find()) return false;
        return m.group(1).compareTo("23") <= 0 && m.group(2).compareTo("59") <= 0 && m.group(3).compareTo("59") <= 0;
    }

    private static boolean isDuration(String s) {
        if (DURATION_GO.matcher(s).matches() && !s.matches("^[-+]?$")) return true;
        Matcher m = DURATION_PART.matcher(s);
        boolean ok = false;
        while (m.find()) {
            String unit = m.group(3).trim().toLowerCase(Locale.ROOT);
            for (String[] variants : UNITS) {
                for (int i = 0; i < variants.length; i++) {
                    boolean last = i == variants.length - 1;
                    if ((last && unit.startsWith(variants[i])) || variants[i].equalsIgnoreCase(unit)) ok = true;
                }
            }
        }
        return ok;
    }

    /** net/url.ParseRequestURI: an absolute URI or an absolute path, no fragment. */
    private static boolean isRequestUri(String s) {
        if (s.isEmpty()) return false;
        try {
            URI u = new URI(s);
            if (u.getRawFragment() != null) return false;
            return u.isAbsolute() || s.startsWith("/");
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static boolean isEmail(String s) {
        int lt = s.indexOf('<');
        String addr = lt >= 0 && s.endsWith(">") ? s.substring(lt + 1, s.length() - 1) : s.trim();
        int at = addr.lastIndexOf('@');
        return at > 0 && at < addr.length() - 1 && !addr.contains(" ");
    }

    private static boolean isIpv4(String s) {
        if (!IPV4.matcher(s).matches()) {
            // ParseIPSloppy also takes IPv4-in-IPv6 forms containing a dot
            return s.contains(".") && s.contains(":") && isIp(s);
        }
        for (String p : s.split("\\.")) if (Integer.parseInt(p) > 255) return false;
        return true;
    }

    private static boolean isIp(String s) {
        if (s.isEmpty()) return false;
        if (IPV4.matcher(s).matches()) return isIpv4(s);
        if (!s.contains(":") || !s.matches("^[0-9a-fA-F:.]+$")) return false;
        try {
            InetAddress.getByName(s); // literal only: no name lookup happens for hex/colon input
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean isCidr(String s) {
        int slash = s.indexOf('/');
        if (slash < 0) return false;
        String ip = s.substring(0, slash);
        String bits = s.substring(slash + 1);
        if (!bits.matches("^\\d{1,3}$")) return false;
        int n = Integer.parseInt(bits);
        if (IPV4.matcher(ip).matches()) return isIpv4(ip) && n <= 32;
        return isIp(ip) && n <= 128;
    }

    private static boolean isbn10(String str) {
        String s = str.replaceAll("[\\s-]+", "");
        if (!ISBN10.matcher(s).matches()) return false;
        int sum = 0;
        for (int i = 0; i < 9; i++) sum += (i + 1) * (s.charAt(i) - '0');
        sum += s.charAt(9) == 'X' ? 100 : 10 * (s.charAt(9) - '0');
        return sum % 11 == 0;
    }

    private static boolean isbn13(String str) {
        String s = str.replaceAll("[\\s-]+", "");
        if (!ISBN13.matcher(s).matches()) return false;
        int sum = 0;
        for (int i = 0; i < 12; i++) sum += (s.charAt(i) - '0') * (i % 2 == 0 ? 1 : 3);
        return (10 - sum % 10) % 10 == s.charAt(12) - '0';
    }

    private static boolean creditCard(String str) {
        String s = str.replaceAll("[^0-9]+", "");
        if (!CREDIT_CARD.matcher(s).matches()) return false;
        int sum = 0;
        boolean dbl = false;
        for (int i = s.length() - 1; i >= 0; i--) {
            int d = s.charAt(i) - '0';
            if (dbl) {
                d *= 2;
                if (d >= 10) d = d % 10 + 1;
            }
            sum += d;
            dbl = !dbl;
        }
        return sum % 10 == 0;
    }
}
