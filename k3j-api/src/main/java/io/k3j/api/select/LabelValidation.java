package io.k3j.api.select;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Label key and value validation with the messages of k8s.io/apimachinery/pkg/util/validation as released in
 * Kubernetes 1.27–1.34 ({@code IsQualifiedName}, {@code IsValidLabelValue}). Callers prefix them with a field
 * path the way {@code field.Invalid} does.
 */
public final class LabelValidation {
    private LabelValidation() {}

    private static final String QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
    private static final String QNAME_MSG =
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
    private static final Pattern QNAME = Pattern.compile("^" + QNAME_FMT + "$");
    private static final int QNAME_MAX = 63;

    private static final String LABEL_VALUE_FMT = "(" + QNAME_FMT + ")?";
    private static final String LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric "
            + "characters, '-', '_' or '.', and must start and end with an alphanumeric character";
    private static final Pattern LABEL_VALUE = Pattern.compile("^" + LABEL_VALUE_FMT + "$");

    private static final String DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private static final String DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*";
    private static final String DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case "
            + "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile("^" + DNS1123_SUBDOMAIN_FMT + "$");

    /**
     * Messages for an invalid label key (a qualified name, {@code [prefix/]name}), empty when valid; also what
     * annotation keys and finalizers must be.
     */
    public static List<String> labelKeyErrors(String value) {
        List<String> errs = new ArrayList<>();
        String[] parts = value.split("/", -1);
        String name;
        switch (parts.length) {
            case 1 -> name = parts[0];
            case 2 -> {
                String prefix = parts[0];
                name = parts[1];
                if (prefix.isEmpty()) {
                    errs.add("prefix part must be non-empty");
                } else {
                    for (String m : subdomainErrors(prefix)) errs.add("prefix part " + m);
                }
            }
            default -> {
                errs.add("a qualified name " + regexError(QNAME_MSG, QNAME_FMT, "MyName", "my.name", "123-abc")
                        + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
                return errs;
            }
        }
        if (name.isEmpty()) {
            errs.add("name part must be non-empty");
        } else if (GoText.byteLength(name) > QNAME_MAX) {
            errs.add("name part " + maxLen(QNAME_MAX));
        }
        if (!QNAME.matcher(name).matches()) {
            errs.add("name part " + regexError(QNAME_MSG, QNAME_FMT, "MyName", "my.name", "123-abc"));
        }
        return errs;
    }

    /** Messages for an invalid label value, empty when valid. */
    public static List<String> labelValueErrors(String value) {
        List<String> errs = new ArrayList<>();
        if (GoText.byteLength(value) > 63) errs.add(maxLen(63));
        if (!LABEL_VALUE.matcher(value).matches()) {
            errs.add(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
        }
        return errs;
    }

    private static List<String> subdomainErrors(String value) {
        List<String> errs = new ArrayList<>();
        if (GoText.byteLength(value) > 253) errs.add(maxLen(253));
        if (!DNS1123_SUBDOMAIN.matcher(value).matches()) {
            errs.add(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"));
        }
        return errs;
    }

    private static String maxLen(int n) {
        return "must be no more than " + n + " characters";
    }

    // Mirrors validation.RegexError, including its double space before each " or ".
    private static String regexError(String msg, String re, String... examples) {
        StringBuilder b = new StringBuilder(msg).append(" (e.g. ");
        for (int i = 0; i < examples.length; i++) {
            if (i > 0) b.append(" or ");
            b.append('\'').append(examples[i]).append("', ");
        }
        return b.append("regex used for validation is '").append(re).append("')").toString();
    }

    /** {@code field.Invalid(path, value, detail).Error()} for a string value. */
    static String invalid(String path, String value, List<String> details) {
        return path + ": Invalid value: " + GoText.quote(value) + ": " + String.join("; ", details);
    }
}
