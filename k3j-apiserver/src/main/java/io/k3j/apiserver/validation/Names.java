package io.k3j.apiserver.validation;

import java.util.ArrayList;
import java.util.List;
import io.k3j.api.select.LabelValidation;
import java.util.regex.Pattern;

/**
 * The string checks of k8s.io/apimachinery/pkg/util/validation (v0.33): each returns the list of problems
 * with the exact messages Kubernetes prints, empty when the value is valid.
 */
public final class Names {
    private Names() {}

    private static final String DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private static final String DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*";
    private static final String DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
    private static final String CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+";

    private static final Pattern DNS1123_LABEL = Pattern.compile(DNS1123_LABEL_FMT);
    private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile(DNS1123_SUBDOMAIN_FMT);
    private static final Pattern DNS1035_LABEL = Pattern.compile(DNS1035_LABEL_FMT);
    private static final Pattern CONFIG_MAP_KEY = Pattern.compile(CONFIG_MAP_KEY_FMT);
    private static final Pattern PORT_NAME_CHARSET = Pattern.compile("[-a-z0-9]+");
    private static final Pattern PERCENT = Pattern.compile("[0-9]+%");

    public static List<String> isDNS1123Label(String value) {
        List<String> errs = new ArrayList<>();
        if (value.length() > 63) errs.add(maxLen(63));
        if (!DNS1123_LABEL.matcher(value).matches()) {
            if (DNS1123_SUBDOMAIN.matcher(value).matches()) {
                errs.add("must not contain dots");
            } else {
                errs.add(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                        + "and must start and end with an alphanumeric character", DNS1123_LABEL_FMT, "my-name", "123-abc"));
            }
        }
        return errs;
    }

    public static List<String> isDNS1123Subdomain(String value) {
        List<String> errs = new ArrayList<>();
        if (value.length() > 253) errs.add(maxLen(253));
        if (!DNS1123_SUBDOMAIN.matcher(value).matches()) {
            errs.add(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                    + "and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN_FMT, "example.com"));
        }
        return errs;
    }

    public static List<String> isDNS1035Label(String value) {
        List<String> errs = new ArrayList<>();
        if (value.length() > 63) errs.add(maxLen(63));
        if (!DNS1035_LABEL.matcher(value).matches()) {
            errs.add(regexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                    + "alphabetic character, and end with an alphanumeric character", DNS1035_LABEL_FMT, "my-name", "abc-123"));
        }
        return errs;
    }

    /** Label keys, annotation keys (lower-cased by the caller), finalizers: {@code [prefix/]name}. */
    public static List<String> isQualifiedName(String value) {
        return LabelValidation.labelKeyErrors(value);
    }

    public static List<String> isValidLabelValue(String value) {
        return LabelValidation.labelValueErrors(value);
    }

    /** What every name in a URL path must satisfy (apimachinery path.IsValidPathSegmentName). */
    public static List<String> isPathSegmentName(String name) {
        if (name.equals(".")) return List.of("may not be '.'");
        if (name.equals("..")) return List.of("may not be '..'");
        List<String> errs = new ArrayList<>();
        if (name.contains("/")) errs.add("may not contain '/'");
        if (name.contains("%")) errs.add("may not contain '%'");
        return errs;
    }

    public static List<String> isConfigMapKey(String value) {
        List<String> errs = new ArrayList<>();
        if (value.length() > 253) errs.add(maxLen(253));
        if (!CONFIG_MAP_KEY.matcher(value).matches()) {
            errs.add(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                    CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"));
        }
        if (value.equals(".")) errs.add("must not be '.'");
        else if (value.equals("..")) errs.add("must not be '..'");
        else if (value.startsWith("..")) errs.add("must not start with '..'");
        return errs;
    }

    public static List<String> isValidPortName(String port) {
        List<String> errs = new ArrayList<>();
        if (port.length() > 15) errs.add(maxLen(15));
        if (!PORT_NAME_CHARSET.matcher(port).matches()) errs.add("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
        if (!port.chars().anyMatch(c -> c >= 'a' && c <= 'z')) errs.add("must contain at least one letter (a-z)");
        if (port.contains("--")) errs.add("must not contain consecutive hyphens");
        if (!port.isEmpty() && (port.startsWith("-") || port.endsWith("-"))) errs.add("must not begin or end with a hyphen");
        return errs;
    }

    public static List<String> isValidPortNum(long port) {
        return port >= 1 && port <= 65535 ? List.of() : List.of(inclusiveRange(1, 65535));
    }

    /** Relaxed environment variable names (RelaxedEnvironmentVariableValidation, on by default since 1.32). */
    public static List<String> isRelaxedEnvVarName(String value) {
        List<String> errs = new ArrayList<>();
        if (value.isEmpty()) errs.add("environment variable name must be non-empty");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c > 126 || c < 32 || c == '=') {
                errs.add("a valid environment variable name must consist only of printable ASCII characters other than '='");
                break;
            }
        }
        return errs;
    }

    public static List<String> isValidPercent(String value) {
        return PERCENT.matcher(value).matches() ? List.of()
                : List.of(regexError("a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%", "1%", "93%"));
    }

    static String maxLen(int n) {
        return "must be no more than " + n + " characters";
    }

    static String inclusiveRange(long lo, long hi) {
        return "must be between " + lo + " and " + hi + ", inclusive";
    }

    static String regexError(String msg, String fmt, String... examples) {
        if (examples.length == 0) return msg + " (regex used for validation is '" + fmt + "')";
        StringBuilder sb = new StringBuilder(msg).append(" (e.g. ");
        for (int i = 0; i < examples.length; i++) {
            if (i > 0) sb.append(" or ");
            sb.append('\'').append(examples[i]).append("', ");
        }
        return sb.append("regex used for validation is '").append(fmt).append("')").toString();
    }
}
