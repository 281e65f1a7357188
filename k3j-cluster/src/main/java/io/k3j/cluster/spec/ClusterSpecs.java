package io.k3j.cluster.spec;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns flags and an optional config file into a validated {@link ClusterSpec}, and checks single values
 * (names, {@code --api-port}, {@code --subnet}, {@code --timeout}) the way k3d does.
 *
 * <pre>{@code
 * ClusterOptions flags = ClusterOptions.builder().name(name).servers(servers).ports(ports)...build();
 * ClusterSpec spec = ClusterSpecs.create(configFileOrNull, flags, warning -> log.warn(warning));
 * }</pre>
 */
public final class ClusterSpecs {
    /** k3d's default cluster name. */
    public static final String DEFAULT_NAME = "k3s-default";
    /** Bound by node names ({@code k3j-NAME-server-0}) fitting a 63-character hostname, as in k3d. */
    public static final int MAX_NAME_LENGTH = 32;

    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern GO_DURATION = Pattern.compile("([0-9]*(?:\\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)");

    private ClusterSpecs() {
    }

    /** A host address and port, as {@code --api-port} gives them. */
    public record HostPort(String host, int port) {
    }

    /**
     * Loads {@code configFile} (if not null; environment variables expanded), lays {@code flags} over it and
     * validates the result.
     *
     * @param warnings receives one line per file setting k3j accepts but ignores (e.g. {@code image})
     * @throws ConfigException          if the file is not valid (every problem, each with its field and line)
     * @throws IllegalArgumentException if the combined values are not valid
     */
    public static ClusterSpec create(Path configFile, ClusterOptions flags, Consumer<String> warnings) {
        Objects.requireNonNull(flags, "flags");
        ClusterOptions file = ClusterOptions.none();
        if (configFile != null) {
            ConfigFile loaded = ConfigFiles.load(configFile, System.getenv());
            loaded.warnings().forEach(warnings);
            file = loaded.options();
        }
        return merge(file, flags);
    }

    /**
     * Lays {@code flags} over {@code file}: a value set by a flag wins; list flags ({@code --port}, {@code --volume},
     * {@code --env}, {@code --k3s-arg}, {@code --k3s-node-label}) add to the file's lists, as in k3d. Then fills in
     * defaults and checks what single values can't show: filter indices against node counts, settings without a
     * filter on a multi-node cluster, ports needing the load balancer, port clashes.
     *
     * @throws IllegalArgumentException naming every problem found
     */
    public static ClusterSpec merge(ClusterOptions file, ClusterOptions flags) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(flags, "flags");
        String name = pick(flags.name(), file.name(), DEFAULT_NAME);
        int servers = pick(flags.servers(), file.servers(), 1);
        int agents = pick(flags.agents(), file.agents(), 0);
        boolean flagApi = flags.apiPort() != null || flags.apiHost() != null;
        String apiHost = flagApi ? flags.apiHost() : file.apiHost();
        Integer apiPort = flagApi ? flags.apiPort() : file.apiPort();
        String subnet = pick(flags.subnet(), file.subnet(), "auto");
        Duration timeout = pick(flags.timeout(), file.timeout(), Duration.ZERO);
        ClusterSpec spec = new ClusterSpec(name, servers, agents, apiHost == null ? "0.0.0.0" : apiHost, apiPort == null ? 0 : apiPort,
                concat(file.ports(), flags.ports()), concat(file.volumes(), flags.volumes()), concat(file.env(), flags.env()),
                concat(file.args(), flags.args()), concat(file.nodeLabels(), flags.nodeLabels()),
                pick(flags.token(), file.token(), null), subnet.equals("auto") ? null : subnet,
                pick(flags.waitForReady(), file.waitForReady(), true), timeout.isZero() ? null : timeout,
                pick(flags.rollback(), file.rollback(), true), pick(flags.updateDefaultKubeconfig(), file.updateDefaultKubeconfig(), true),
                pick(flags.switchContext(), file.switchContext(), true), pick(flags.loadBalancer(), file.loadBalancer(), true));
        validate(spec);
        return spec;
    }

    /**
     * Checks a complete spec (what {@link #merge} does after merging).
     *
     * @throws IllegalArgumentException naming every problem found
     */
    public static void validate(ClusterSpec spec) {
        List<String> problems = new ArrayList<>();
        try {
            validateName(spec.name());
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        if (spec.servers() < 1) problems.add("servers " + spec.servers() + " is not valid: expected at least 1");
        if (spec.agents() < 0) problems.add("agents " + spec.agents() + " is not valid: expected 0 or more");
        int nodes = spec.servers() + spec.agents();
        Map<String, String> bound = new HashMap<>();
        if (spec.apiPort() != 0) bound.put("tcp/" + spec.apiPort(), "the API port " + spec.apiPort());
        for (PortMapping p : spec.ports()) {
            String what = "port '" + p.toFlag() + "'";
            filterRanges(what, p.filters(), spec, problems);
            if (p.direct()) {
                int selected = selectedNodes(p.filters(), spec);
                if (selected != 1) {
                    problems.add(what + ": ':direct' must select exactly one node, but its filters select " + selected);
                }
            } else if (!spec.loadBalancer()) {
                problems.add(what + " is published by the load balancer, but --no-lb is set: "
                        + "publish it on one node instead, e.g. " + p.toFlag() + "@server:0:direct");
            }
            if (p.hostPort() != 0) {
                String key = p.protocol() + "/" + p.hostPort();
                String prev = bound.putIfAbsent(key, what);
                if (prev != null) problems.add(what + ": host port " + p.hostPort() + "/" + p.protocol() + " is already used by " + prev);
            }
        }
        for (VolumeMount v : spec.volumes()) filterRanges("volume '" + v.toFlag() + "'", v.filters(), spec, problems);
        settings("env", "-e", spec.env(), nodes, spec, problems);
        settings("k3s arg", "--k3s-arg", spec.args(), nodes, spec, problems);
        settings("node label", "--k3s-node-label", spec.nodeLabels(), nodes, spec, problems);
        if (spec.subnet() != null) {
            try {
                parseSubnet(spec.subnet());
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("\n", problems));
    }

    private static void settings(String what, String flag, List<NodeSetting> list, int nodes, ClusterSpec spec, List<String> problems) {
        for (NodeSetting s : list) {
            String w = what + " '" + s.value() + "'";
            if (s.filters().isEmpty() && nodes > 1) {
                problems.add(w + " has no node filter, but the cluster has " + nodes + " nodes: add one, e.g. "
                        + flag + " '" + s.value().replace("@", "\\@") + "@server:*' (or @all)");
            }
            filterRanges(w, s.filters(), spec, problems);
        }
    }

    private static void filterRanges(String what, List<NodeFilter> filters, ClusterSpec spec, List<String> problems) {
        for (NodeFilter f : filters) {
            String why = f.outOfRange(spec.servers(), spec.agents());
            if (why != null) problems.add(what + ": " + why);
        }
    }

    private static int selectedNodes(List<NodeFilter> filters, ClusterSpec spec) {
        int n = 0;
        for (int i = 0; i < spec.servers(); i++) if (any(filters, new NodeRef(NodeRole.SERVER, i))) n++;
        for (int i = 0; i < spec.agents(); i++) if (any(filters, new NodeRef(NodeRole.AGENT, i))) n++;
        return n;
    }

    private static boolean any(List<NodeFilter> filters, NodeRef node) {
        return filters.stream().anyMatch(f -> f.matches(node));
    }

    /**
     * Checks a cluster name: a DNS-1123 label of at most {@value #MAX_NAME_LENGTH} characters.
     *
     * @return the name
     * @throws IllegalArgumentException naming the problem
     */
    public static String validateName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) throw new IllegalArgumentException("cluster name is empty");
        if (name.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("cluster name '" + name + "' is " + name.length() + " characters long: at most "
                    + MAX_NAME_LENGTH + " are allowed");
        }
        if (!DNS1123_LABEL.matcher(name).matches()) {
            throw new IllegalArgumentException("cluster name '" + name + "' is not valid: use lower-case letters, digits and '-', "
                    + "starting and ending with a letter or digit (e.g. " + suggestName(name) + ")");
        }
        return name;
    }

    private static String suggestName(String name) {
        String s = name.toLowerCase().replaceAll("[^a-z0-9-]", "-").replaceAll("^-+|-+$", "");
        return s.isEmpty() ? "mycluster" : s.length() > MAX_NAME_LENGTH ? s.substring(0, MAX_NAME_LENGTH) : s;
    }

    /**
     * Parses {@code --api-port [HOST:]PORT} as k3d: HOST an IPv4 address or a host name (default {@code 0.0.0.0}),
     * PORT 1-65535 or {@code random} (returned as 0).
     *
     * @throws IllegalArgumentException naming the problem
     */
    public static HostPort parseApiPort(String value) {
        Objects.requireNonNull(value, "value");
        String v = value.trim();
        int colon = v.lastIndexOf(':');
        String host = colon < 0 ? "0.0.0.0" : v.substring(0, colon);
        String port = colon < 0 ? v : v.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (host.isEmpty() || !(Addresses.isIpv4(host) || Addresses.isIpv6(host) || Addresses.isHostname(host))) {
            throw new IllegalArgumentException("--api-port '" + value + "' is not valid: '" + host + "' is not an IP address or "
                    + "host name (expected [HOST:]PORT, e.g. 127.0.0.1:6445)");
        }
        if (port.equals("random")) return new HostPort(host, 0);
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--api-port '" + value + "' is not valid: port '" + port + "' is not a number "
                    + "(expected [HOST:]PORT, e.g. 127.0.0.1:6445)");
        }
        if (p < 1 || p > 65535) throw new IllegalArgumentException("--api-port '" + value + "' is not valid: port " + p + " is out of range (1-65535)");
        return new HostPort(host, p);
    }

    /**
     * Parses {@code --subnet}: an IPv4 CIDR with room for a cluster (prefix /8 to /28) or {@code auto}.
     *
     * @return the CIDR as given, or "auto"
     * @throws IllegalArgumentException naming the problem; host bits set get the corrected CIDR as the fix
     */
    public static String parseSubnet(String value) {
        Objects.requireNonNull(value, "value");
        String v = value.trim();
        if (v.equals("auto")) return v;
        int slash = v.indexOf('/');
        if (slash < 0 || !Addresses.isIpv4(v.substring(0, slash)) || !v.substring(slash + 1).matches("[0-9]{1,2}")) {
            throw new IllegalArgumentException("subnet '" + value + "' is not valid: expected an IPv4 CIDR such as 172.28.0.0/16, or auto");
        }
        int prefix = Integer.parseInt(v.substring(slash + 1));
        if (prefix < 8 || prefix > 28) {
            throw new IllegalArgumentException("subnet '" + value + "' is not valid: prefix /" + prefix + " is outside /8../28");
        }
        int addr = Addresses.ipv4ToInt(v.substring(0, slash));
        int mask = -1 << (32 - prefix);
        if ((addr & ~mask) != 0) {
            throw new IllegalArgumentException("subnet '" + value + "' has host bits set: did you mean "
                    + Addresses.intToIpv4(addr & mask) + "/" + prefix + "?");
        }
        return v;
    }

    /**
     * Parses a Go duration ({@code time.ParseDuration}): {@code 60s}, {@code 2m}, {@code 1m30s}, {@code 1.5h},
     * {@code 500ms}, {@code 0}. Negative durations are rejected.
     *
     * @throws IllegalArgumentException naming the problem
     */
    public static Duration parseDuration(String value) {
        Objects.requireNonNull(value, "value");
        String v = value.trim();
        String bad = "duration '" + value + "' is not valid: expected a number with a unit (ns, us, ms, s, m, h), e.g. 60s, 2m or 1m30s";
        if (v.startsWith("-")) throw new IllegalArgumentException("duration '" + value + "' is negative");
        if (v.startsWith("+")) v = v.substring(1);
        if (v.equals("0")) return Duration.ZERO;
        if (v.isEmpty()) throw new IllegalArgumentException(bad);
        Matcher m = GO_DURATION.matcher(v);
        BigDecimal nanos = BigDecimal.ZERO;
        int at = 0;
        while (at < v.length()) {
            if (!m.find(at) || m.start() != at || m.group(1).isEmpty() || m.group(1).equals(".")) throw new IllegalArgumentException(bad);
            BigDecimal unit = switch (m.group(2)) {
                case "ns" -> BigDecimal.ONE;
                case "us", "µs", "μs" -> BigDecimal.valueOf(1_000L);
                case "ms" -> BigDecimal.valueOf(1_000_000L);
                case "s" -> BigDecimal.valueOf(1_000_000_000L);
                case "m" -> BigDecimal.valueOf(60_000_000_000L);
                default -> BigDecimal.valueOf(3_600_000_000_000L);
            };
            nanos = nanos.add(new BigDecimal(m.group(1)).multiply(unit));
            at = m.end();
        }
        return Duration.ofNanos(nanos.longValue());
    }

    private static <T> T pick(T flag, T file, T dflt) {
        return flag != null ? flag : file != null ? file : dflt;
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
