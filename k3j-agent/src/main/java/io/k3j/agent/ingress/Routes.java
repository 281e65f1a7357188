package io.k3j.agent.ingress;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The routing table: immutable once built, swapped whole by the controller. Requests are matched as the Ingress
 * spec says: the host's own rules first (exact host over a {@code *.wildcard} one label deep), then the rules
 * without a host, then the default backend; within one host the longest matching path wins, an Exact path beating
 * a Prefix of the same length. Falling from a host's rules to the host-less ones when no path matches is what
 * Traefik does (its host-less routers catch what the host routers leave).
 */
final class Routes {
    static final Routes EMPTY = new Routes(Map.of(), List.of(), null);

    private final Map<String, List<Path>> byHost;
    private final List<Path> anyHost;
    private final Target defaultBackend;

    private Routes(Map<String, List<Path>> byHost, List<Path> anyHost, Target defaultBackend) {
        this.byHost = byHost;
        this.anyHost = anyHost;
        this.defaultBackend = defaultBackend;
    }

    /** What to forward a request to: a Service port and its ready endpoints (none: 503). */
    static final class Target {
        final String service;
        final List<InetSocketAddress> endpoints;
        private final AtomicInteger next = new AtomicInteger();

        Target(String service, List<InetSocketAddress> endpoints) {
            this.service = service;
            this.endpoints = List.copyOf(endpoints);
        }

        /** The next ready endpoint, round-robin, or null when there is none. */
        InetSocketAddress pick() {
            int n = endpoints.size();
            if (n == 0) return null;
            if (n == 1) return endpoints.get(0);
            return endpoints.get(Math.floorMod(next.getAndIncrement(), n));
        }

        @Override
        public String toString() {
            return service + endpoints;
        }
    }

    /** One path rule: Exact or Prefix (ImplementationSpecific is treated as Prefix). */
    record Path(boolean exact, String path, Target target) {
        /** Prefix paths compare element-wise, so a trailing slash is not part of the prefix. */
        String prefix() {
            return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        }

        boolean matches(String requestPath) {
            if (exact) return requestPath.equals(path);
            String p = prefix();
            return p.isEmpty() || requestPath.equals(p)
                    || (requestPath.startsWith(p) && requestPath.charAt(p.length()) == '/');
        }

        int length() {
            return exact ? path.length() : prefix().length();
        }
    }

    /**
     * The target for a request, or null when nothing matches (404).
     *
     * @param host the Host header or :authority, possibly with a port
     * @param path the request path without the query
     */
    Target route(String host, String path) {
        String h = hostOnly(host);
        List<Path> rules = byHost.get(h);
        if (rules == null) {
            int dot = h.indexOf('.');
            if (dot > 0) rules = byHost.get("*" + h.substring(dot));
        }
        Target t = rules == null ? null : match(rules, path);
        if (t == null) t = match(anyHost, path);
        return t != null ? t : defaultBackend;
    }

    private static Target match(List<Path> rules, String path) {
        for (Path p : rules) {
            if (p.matches(path)) return p.target();
        }
        return null;
    }

    /** Lower-cases the host and drops a port and the brackets of an IPv6 literal. */
    static String hostOnly(String host) {
        if (host == null) return "";
        String h = host.trim();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return (end > 0 ? h.substring(1, end) : h).toLowerCase(Locale.ROOT);
        }
        int colon = h.lastIndexOf(':');
        if (colon >= 0 && h.indexOf(':') == colon) h = h.substring(0, colon);
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        return h.toLowerCase(Locale.ROOT);
    }

    /** Collects rules in order of precedence between Ingresses (oldest first: the first one of a path wins). */
    static final class Builder {
        private final Map<String, List<Path>> byHost = new HashMap<>();
        private final List<Path> anyHost = new ArrayList<>();
        private Target defaultBackend;

        /** Adds a path rule for {@code host} ("" for every host) unless an earlier Ingress has the same path. */
        Builder add(String host, boolean exact, String path, Target target) {
            List<Path> rules = host.isEmpty() ? anyHost : byHost.computeIfAbsent(host.toLowerCase(Locale.ROOT), h -> new ArrayList<>());
            for (Path p : rules) {
                if (p.exact() == exact && p.path().equals(path)) return this;
            }
            rules.add(new Path(exact, path, target));
            return this;
        }

        /** Makes {@code host} known even without paths, so that it does not fall to a wildcard rule. */
        Builder host(String host) {
            if (!host.isEmpty()) byHost.computeIfAbsent(host.toLowerCase(Locale.ROOT), h -> new ArrayList<>());
            return this;
        }

        /** Sets the default backend unless an earlier Ingress set one. */
        Builder defaultBackend(Target target) {
            if (defaultBackend == null) defaultBackend = target;
            return this;
        }

        Routes build() {
            Comparator<Path> order = Comparator.comparingInt(Path::length).reversed()
                    .thenComparing(p -> !p.exact());
            Map<String, List<Path>> hosts = new HashMap<>();
            byHost.forEach((h, rules) -> hosts.put(h, sorted(rules, order)));
            return new Routes(Map.copyOf(hosts), sorted(anyHost, order), defaultBackend);
        }

        private static List<Path> sorted(List<Path> rules, Comparator<Path> order) {
            List<Path> copy = new ArrayList<>(rules);
            copy.sort(order); // stable: equal paths keep the older Ingress first
            return List.copyOf(copy);
        }
    }
}
