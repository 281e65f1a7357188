package io.k3j.cluster.spec;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A value applied to the nodes a filter selects: {@code -e KEY=VAL@FILTER}, {@code --k3s-arg ARG@FILTER},
 * {@code --k3s-node-label KEY=VAL@FILTER}. As in k3d, everything before the one unescaped {@code @} is the value
 * ({@code =} may appear in it freely; a literal {@code @} is written {@code \@}).
 *
 * @param value   {@code KEY=VAL} or the argument
 * @param filters which nodes; empty = every server and agent (only allowed when the cluster has one node, as in k3d)
 */
public record NodeSetting(String value, List<NodeFilter> filters) {
    private static final Pattern ENV_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern LABEL_NAME = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)");
    private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?");

    public NodeSetting {
        Objects.requireNonNull(value, "value");
        filters = List.copyOf(filters);
    }

    /**
     * {@code -e/--env KEY=VAL[@FILTER]}.
     *
     * @throws IllegalArgumentException if KEY is not an environment variable name or a filter is invalid
     */
    public static NodeSetting parseEnv(String flag) {
        FilterSuffix.Split s = FilterSuffix.split(Objects.requireNonNull(flag, "flag"));
        return env(flag, s.value(), s.filters());
    }

    /**
     * {@code --k3s-arg/--k3j-arg ARG[@FILTER]}, e.g. {@code --tls-san=my.host@server:*}.
     *
     * @throws IllegalArgumentException if ARG is empty or a filter is invalid
     */
    public static NodeSetting parseArg(String flag) {
        FilterSuffix.Split s = FilterSuffix.split(Objects.requireNonNull(flag, "flag"));
        return arg(flag, s.value(), s.filters());
    }

    /**
     * {@code --k3s-node-label KEY=VAL[@FILTER]}.
     *
     * @throws IllegalArgumentException if KEY or VAL is not a valid Kubernetes label key or value
     */
    public static NodeSetting parseLabel(String flag) {
        FilterSuffix.Split s = FilterSuffix.split(Objects.requireNonNull(flag, "flag"));
        return label(flag, s.value(), s.filters());
    }

    static NodeSetting env(String flag, String value, List<NodeFilter> filters) {
        FilterSuffix.requireNodeFilters(flag, filters, "env");
        int eq = value.indexOf('=');
        String key = eq < 0 ? value : value.substring(0, eq);
        if (eq < 0) throw new IllegalArgumentException("env '" + flag + "' is not valid: expected KEY=VALUE[@NODEFILTER]");
        if (!ENV_KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("env '" + flag + "' is not valid: '" + key + "' is not a variable name (letters, digits, _)");
        }
        return new NodeSetting(value, filters);
    }

    static NodeSetting arg(String flag, String value, List<NodeFilter> filters) {
        FilterSuffix.requireNodeFilters(flag, filters, "k3s arg");
        if (value.isBlank()) throw new IllegalArgumentException("k3s arg '" + flag + "' is empty: expected e.g. --tls-san=my.host@server:*");
        return new NodeSetting(value, filters);
    }

    static NodeSetting label(String flag, String value, List<NodeFilter> filters) {
        FilterSuffix.requireNodeFilters(flag, filters, "node label");
        int eq = value.indexOf('=');
        String key = eq < 0 ? value : value.substring(0, eq);
        String val = eq < 0 ? "" : value.substring(eq + 1);
        String why = labelKeyProblem(key);
        if (why == null && !LABEL_VALUE.matcher(val).matches() || val.length() > 63) {
            why = "value '" + val + "' is not a label value (at most 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)";
        }
        if (why != null) throw new IllegalArgumentException("node label '" + flag + "' is not valid: " + why);
        return new NodeSetting(eq < 0 ? key + "=" : value, filters);
    }

    private static String labelKeyProblem(String key) {
        int slash = key.indexOf('/');
        String name = slash < 0 ? key : key.substring(slash + 1);
        if (slash >= 0) {
            String prefix = key.substring(0, slash);
            if (prefix.length() > 253 || !Addresses.isHostname(prefix)) return "key prefix '" + prefix + "' is not a DNS subdomain";
        }
        if (name.isEmpty() || name.length() > 63 || !LABEL_NAME.matcher(name).matches()) {
            return "key '" + key + "' is not a label key (name: at most 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)";
        }
        return null;
    }

    /** The key of {@code KEY=VALUE} (the whole value for an argument). */
    public String key() {
        int eq = value.indexOf('=');
        return eq < 0 ? value : value.substring(0, eq);
    }
}
