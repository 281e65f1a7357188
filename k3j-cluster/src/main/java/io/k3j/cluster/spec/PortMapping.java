package io.k3j.cluster.spec;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * {@code -p/--port [HOST:][HOSTPORT:]NODEPORT[/tcp|udp][@NODEFILTER]}: a host port the load balancer listens on
 * (or, with {@code :direct}, the selected node itself), forwarded to {@code nodePort} of the selected nodes.
 *
 * @param hostIp   the host address to bind ({@code 0.0.0.0} when not given)
 * @param hostPort the host port (0 = a random free one, chosen at create time and then kept)
 * @param nodePort the port on the nodes
 * @param protocol "tcp" or "udp"
 * @param filters  which nodes; empty = k3d's default (the load balancer, forwarding to every server and agent), also
 *                 what {@code @loadbalancer} and {@code @all} mean for a port
 */
public record PortMapping(String hostIp, int hostPort, int nodePort, String protocol, List<NodeFilter> filters) {
    public PortMapping {
        Objects.requireNonNull(hostIp, "hostIp");
        Objects.requireNonNull(protocol, "protocol");
        filters = List.copyOf(filters);
    }

    /**
     * Parses a {@code --port} value as k3d (Docker's port syntax): {@code 80} (random host port), {@code 8080:80},
     * {@code 127.0.0.1:8080:80}, {@code 127.0.0.1::80}, {@code [::1]:8080:80}, each with {@code /tcp} or {@code /udp}
     * and {@code @FILTER}.
     *
     * @throws IllegalArgumentException naming the value and the problem
     */
    public static PortMapping parse(String flag) {
        Objects.requireNonNull(flag, "flag");
        FilterSuffix.Split split = FilterSuffix.split(flag);
        return parse(flag, split.value(), split.filters());
    }

    /** Parses {@code spec} (without filters) with the filters of a config file entry; {@code flag} names it in errors. */
    static PortMapping parse(String flag, String spec, List<NodeFilter> filters) {
        String s = spec.trim();
        String protocol = "tcp";
        int slash = s.lastIndexOf('/');
        if (slash >= 0) {
            protocol = s.substring(slash + 1).toLowerCase(Locale.ROOT);
            if (!protocol.equals("tcp") && !protocol.equals("udp")) {
                throw bad(flag, "protocol '" + s.substring(slash + 1) + "' is not tcp or udp");
            }
            s = s.substring(0, slash);
        }
        String host = "0.0.0.0";
        if (s.startsWith("[")) { // IPv6 host in brackets, as Docker writes it
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') throw bad(flag, "expected [IPv6]:HOSTPORT:NODEPORT");
            host = s.substring(1, close);
            if (!Addresses.isIpv6(host)) throw bad(flag, "'" + host + "' is not an IPv6 address");
            s = s.substring(close + 2);
            if (!s.contains(":")) throw bad(flag, "expected [IPv6]:HOSTPORT:NODEPORT");
        }
        String[] parts = s.split(":", -1);
        String hostPort;
        String nodePort;
        switch (parts.length) {
            case 1 -> {
                hostPort = "";
                nodePort = parts[0];
            }
            case 2 -> {
                hostPort = parts[0];
                nodePort = parts[1];
            }
            case 3 -> {
                if (!host.equals("0.0.0.0")) throw bad(flag, "too many ':'");
                host = parts[0];
                if (!Addresses.isIpv4(host)) {
                    throw bad(flag, "host '" + host + "' is not an IPv4 address (write IPv6 as [::1])");
                }
                hostPort = parts[1];
                nodePort = parts[2];
            }
            default -> throw bad(flag, "expected [HOST:][HOSTPORT:]NODEPORT[/tcp|udp][@NODEFILTER]");
        }
        int hp = hostPort.isEmpty() ? 0 : port(flag, hostPort, "host port");
        int np = port(flag, nodePort, "node port");
        return new PortMapping(host, hp, np, protocol, normalize(flag, filters));
    }

    // k3d: a port targeting the load balancer (or with no filter) goes through it to every server and agent.
    private static List<NodeFilter> normalize(String flag, List<NodeFilter> filters) {
        for (NodeFilter f : filters) {
            for (NodeFilter.Selector s : f.selectors()) {
                boolean lbOrAll = s.role() == NodeRole.LOADBALANCER || s.role() == null;
                if (lbOrAll && "direct".equals(f.suffix())) {
                    throw bad(flag, "node filter '" + f.text() + "': ':direct' needs one server or agent, e.g. agent:0:direct");
                }
                if (lbOrAll) {
                    if (filters.size() > 1) {
                        throw bad(flag, "node filter '" + f.text() + "' already selects every node; drop the other filters");
                    }
                    return List.of();
                }
            }
        }
        return filters;
    }

    private static int port(String flag, String text, String what) {
        if (text.contains("-")) throw bad(flag, "port ranges ('" + text + "') are not supported: give one --port per port");
        int p;
        try {
            p = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw bad(flag, what + " '" + text + "' is not a number");
        }
        if (p < 1 || p > 65535) throw bad(flag, what + " " + p + " is out of range (expected 1-65535)");
        return p;
    }

    private static IllegalArgumentException bad(String flag, String why) {
        return new IllegalArgumentException("port '" + flag + "' is not valid: " + why);
    }

    /** Whether it is published by the selected node itself ({@code :direct}) rather than the load balancer. */
    public boolean direct() {
        return filters.stream().anyMatch(f -> "direct".equals(f.suffix()));
    }

    /** In {@code --port} syntax, v5 filters. */
    public String toFlag() {
        StringBuilder sb = new StringBuilder();
        if (!hostIp.equals("0.0.0.0")) sb.append(hostIp.contains(":") ? "[" + hostIp + "]" : hostIp).append(':');
        if (hostPort != 0) sb.append(hostPort).append(':');
        else if (!hostIp.equals("0.0.0.0")) sb.append(':');
        sb.append(nodePort);
        if (!protocol.equals("tcp")) sb.append('/').append(protocol);
        return sb.toString();
    }
}
