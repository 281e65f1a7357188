package io.k3j.agent.lb;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.net.URI;

/**
 * One API server as the load balancer dials it: a host (name or literal IP) and a port, written {@code host:port}
 * or {@code [v6]:port} as k3s's load balancer and Go's {@code net.JoinHostPort} write them.
 */
public record ServerAddress(String host, int port) {
    public ServerAddress {
        requireNonNull(host, "host");
        if (host.isEmpty()) throw new IllegalArgumentException("host : \"\" (expected: a host name or IP address)");
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port : " + port + " (expected: 1-65535)");
    }

    /**
     * Parses {@code host:port} or {@code [v6]:port}.
     *
     * @throws IllegalArgumentException naming the accepted forms
     */
    public static ServerAddress parse(String text) {
        requireNonNull(text, "text");
        int colon = text.lastIndexOf(':');
        String host = colon < 0 ? "" : text.substring(0, colon);
        // a bare IPv6 literal has colons but no brackets: its last colon is no port separator
        if (colon < 0 || (host.contains(":") && !host.startsWith("["))) {
            throw new IllegalArgumentException("server address \"" + text + "\" (expected: host:port or [ipv6]:port)");
        }
        try {
            return new ServerAddress(host, Integer.parseInt(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("server address \"" + text + "\" (expected: host:port or [ipv6]:port)", e);
        }
    }

    /** The host and port of an {@code https://} server URL (port 443 when it has none). */
    public static ServerAddress of(URI url) {
        requireNonNull(url, "url");
        if (url.getHost() == null) throw new IllegalArgumentException("server URL " + url + " (expected: https://HOST:PORT)");
        return new ServerAddress(url.getHost(), url.getPort() < 0 ? 443 : url.getPort());
    }

    /** Resolved when dialled, so a name follows its DNS record. */
    InetSocketAddress socketAddress() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
}
