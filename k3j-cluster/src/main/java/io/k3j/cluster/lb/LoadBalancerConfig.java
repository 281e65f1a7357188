package io.k3j.cluster.lb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What the load balancer listens on and where it forwards. The cluster tool writes it as a JSON file
 * ({@link #write(Path)}, atomically) and the {@code k3j loadbalancer --config FILE} process reloads it when it changes:
 *
 * <pre>{@code
 * {
 *   "listeners": [
 *     {"name": "api", "bind": "127.0.0.1", "port": 6445, "protocol": "tcp",
 *      "backends": [{"host": "172.28.0.2", "port": 6443}, {"host": "172.28.0.3", "port": 6443}]},
 *     {"name": "port-8080-tcp", "bind": "0.0.0.0", "port": 8080, "protocol": "tcp",
 *      "backends": [{"host": "172.28.0.2", "port": 80}, {"host": "172.28.0.4", "port": 80}]}
 *   ],
 *   "healthCheck": {"intervalMillis": 500, "timeoutMillis": 300, "fall": 2, "rise": 1},
 *   "connectTimeoutMillis": 300,
 *   "udpIdleTimeoutMillis": 60000
 * }
 * }</pre>
 *
 * Everything but {@code listeners} may be left out (the defaults are shown above; a listener's {@code bind} defaults to
 * {@code 0.0.0.0}, its {@code protocol} to {@code tcp}, its {@code name} to {@code tcp/0.0.0.0:8080}).
 *
 * @param listeners      distinct names; a listener is identified across reloads by its name
 * @param healthCheck    the active checks of TCP backends
 * @param connectTimeout how long a new connection waits for one backend before trying the next
 * @param udpIdleTimeout how long a UDP session (one client address) lives without traffic
 */
public record LoadBalancerConfig(List<Listener> listeners, HealthCheck healthCheck, Duration connectTimeout, Duration udpIdleTimeout) {
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofMillis(300);
    public static final Duration DEFAULT_UDP_IDLE_TIMEOUT = Duration.ofSeconds(60);

    public LoadBalancerConfig {
        listeners = List.copyOf(listeners);
        Objects.requireNonNull(healthCheck, "healthCheck");
        positive("connectTimeout", connectTimeout);
        positive("udpIdleTimeout", udpIdleTimeout);
        Set<String> names = new HashSet<>();
        for (Listener l : listeners) {
            if (!names.add(l.name())) throw new IllegalArgumentException("listener name " + l.name() + " is used twice (expected: distinct names)");
        }
    }

    /** The given listeners with the default health checks and timeouts. */
    public static LoadBalancerConfig of(List<Listener> listeners) {
        return new LoadBalancerConfig(listeners, HealthCheck.DEFAULT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_UDP_IDLE_TIMEOUT);
    }

    /** The same settings with other listeners. */
    public LoadBalancerConfig withListeners(List<Listener> newListeners) {
        return new LoadBalancerConfig(newListeners, healthCheck, connectTimeout, udpIdleTimeout);
    }

    /** The listener called {@code name}, or null. */
    public Listener listener(String name) {
        for (Listener l : listeners) if (l.name().equals(name)) return l;
        return null;
    }

    /** TCP or UDP. */
    public enum Protocol {
        TCP, UDP;

        /** As written in the config file and in {@code -p 8080:80/udp}. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Protocol parse(String s, String field) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "tcp" -> TCP;
                case "udp" -> UDP;
                default -> throw new IllegalArgumentException(field + ": '" + s + "' (expected: tcp or udp)");
            };
        }
    }

    /**
     * One address to forward to.
     *
     * @param host an IP address or host name (resolved on every connect)
     * @param port 1..65535
     */
    public record Backend(String host, int port) {
        public Backend {
            if (host == null || host.isBlank()) throw new IllegalArgumentException("backend host is empty (expected: an address)");
            if (port < 1 || port > 65535) throw new IllegalArgumentException("backend port: " + port + " (expected: 1..65535)");
        }

        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /**
     * One listening socket and the backends behind it.
     *
     * @param name     identifies the listener across reloads and in logs; by convention {@code api} for the API port
     *                 (bind errors then suggest {@code --api-port}) and {@code port-HOSTPORT-PROTOCOL} for {@code -p}
     * @param bind     the local address ({@code 0.0.0.0} for all)
     * @param port     the local port; 0 = an ephemeral one (see {@link LoadBalancer#status()})
     * @param protocol TCP or UDP
     * @param backends where to forward; may be empty (connections are then closed at once)
     */
    public record Listener(String name, String bind, int port, Protocol protocol, List<Backend> backends) {
        public Listener {
            Objects.requireNonNull(protocol, "protocol");
            if (bind == null || bind.isBlank()) bind = "0.0.0.0";
            if (port < 0 || port > 65535) throw new IllegalArgumentException("listener port: " + port + " (expected: 0..65535)");
            if (name == null || name.isBlank()) name = protocol.id() + "/" + bind + ":" + port;
            backends = List.copyOf(backends);
        }

        /** The same listener forwarding elsewhere. */
        public Listener withBackends(List<Backend> newBackends) {
            return new Listener(name, bind, port, protocol, newBackends);
        }

        /** True when this listener needs a new socket to become {@code other} (anything but the backends differs). */
        boolean sameSocket(Listener other) {
            return bind.equals(other.bind) && port == other.port && protocol == other.protocol;
        }
    }

    /**
     * Active health checks: every {@code interval} each TCP backend gets a connect attempt that must succeed within
     * {@code timeout}. A backend is marked down after {@code fall} failed checks in a row (or at once when a client's
     * connect to it fails) and up again after {@code rise} successful ones. UDP backends are not checked.
     */
    public record HealthCheck(Duration interval, Duration timeout, int fall, int rise) {
        public static final HealthCheck DEFAULT = new HealthCheck(Duration.ofMillis(500), Duration.ofMillis(300), 2, 1);

        public HealthCheck {
            positive("healthCheck.interval", interval);
            positive("healthCheck.timeout", timeout);
            if (fall < 1) throw new IllegalArgumentException("healthCheck.fall: " + fall + " (expected: >= 1)");
            if (rise < 1) throw new IllegalArgumentException("healthCheck.rise: " + rise + " (expected: >= 1)");
        }
    }

    private static void positive(String field, Duration d) {
        Objects.requireNonNull(d, field);
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException(field + ": " + d + " (expected: > 0)");
    }

    // ---- JSON ----

    /**
     * Reads a config file.
     *
     * @throws IOException              when the file can't be read
     * @throws IllegalArgumentException when it is not valid, naming the field
     */
    public static LoadBalancerConfig read(Path file) throws IOException {
        try {
            return parse(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses the JSON form.
     *
     * @throws IllegalArgumentException when it is not valid JSON or a field is wrong (the message names the field)
     */
    public static LoadBalancerConfig parse(String json) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException("expected a JSON object");
        known(root, "", "listeners", "healthCheck", "connectTimeoutMillis", "udpIdleTimeoutMillis");
        JsonNode ls = root.path("listeners");
        if (!ls.isMissingNode() && !ls.isArray()) throw new IllegalArgumentException("listeners: expected an array");
        List<Listener> listeners = new ArrayList<>();
        for (int i = 0; i < ls.size(); i++) {
            String at = "listeners[" + i + "]";
            JsonNode l = ls.get(i);
            if (!l.isObject()) throw new IllegalArgumentException(at + ": expected an object");
            known(l, at + ".", "name", "bind", "port", "protocol", "backends");
            List<Backend> backends = new ArrayList<>();
            JsonNode bs = l.path("backends");
            if (!bs.isMissingNode() && !bs.isArray()) throw new IllegalArgumentException(at + ".backends: expected an array");
            for (int j = 0; j < bs.size(); j++) {
                String bat = at + ".backends[" + j + "]";
                JsonNode b = bs.get(j);
                if (!b.isObject()) throw new IllegalArgumentException(bat + ": expected an object");
                known(b, bat + ".", "host", "port");
                try {
                    backends.add(new Backend(text(b, "host", bat, null), integer(b, "port", bat, -1)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(bat + ": " + e.getMessage(), e);
                }
            }
            try {
                listeners.add(new Listener(text(l, "name", at, null), text(l, "bind", at, "0.0.0.0"), integer(l, "port", at, -1),
                        Protocol.parse(text(l, "protocol", at, "tcp"), at + ".protocol"), backends));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage().startsWith(at) ? e.getMessage() : at + ": " + e.getMessage(), e);
            }
        }
        HealthCheck hc = HealthCheck.DEFAULT;
        JsonNode h = root.path("healthCheck");
        if (!h.isMissingNode()) {
            if (!h.isObject()) throw new IllegalArgumentException("healthCheck: expected an object");
            known(h, "healthCheck.", "intervalMillis", "timeoutMillis", "fall", "rise");
            hc = new HealthCheck(millis(h, "intervalMillis", "healthCheck", hc.interval()), millis(h, "timeoutMillis", "healthCheck", hc.timeout()),
                    integer(h, "fall", "healthCheck", hc.fall()), integer(h, "rise", "healthCheck", hc.rise()));
        }
        return new LoadBalancerConfig(listeners, hc, millis(root, "connectTimeoutMillis", "", DEFAULT_CONNECT_TIMEOUT),
                millis(root, "udpIdleTimeoutMillis", "", DEFAULT_UDP_IDLE_TIMEOUT));
    }

    /** The JSON form, as {@link #parse(String)} reads it. */
    public String toJson() {
        ObjectNode root = Json.object();
        ArrayNode ls = root.putArray("listeners");
        for (Listener l : listeners) {
            ObjectNode o = ls.addObject();
            o.put("name", l.name()).put("bind", l.bind()).put("port", l.port()).put("protocol", l.protocol().id());
            ArrayNode bs = o.putArray("backends");
            for (Backend b : l.backends()) bs.addObject().put("host", b.host()).put("port", b.port());
        }
        root.putObject("healthCheck").put("intervalMillis", healthCheck.interval().toMillis())
                .put("timeoutMillis", healthCheck.timeout().toMillis()).put("fall", healthCheck.fall()).put("rise", healthCheck.rise());
        root.put("connectTimeoutMillis", connectTimeout.toMillis());
        root.put("udpIdleTimeoutMillis", udpIdleTimeout.toMillis());
        try {
            return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException("writing the load balancer config", e);
        }
    }

    /**
     * SHA-256 (hex) of {@link #toJson()}, i.e. of the file {@link #write} writes: the load balancer process reports the
     * digest of the config it applied in its status file, so a writer can wait for its change to take effect.
     */
    public String digest() {
        return sha256(toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /**
     * Writes the JSON form to {@code file} atomically (a temporary file renamed over it), so a watching load balancer
     * never reads half a file.
     */
    public void write(Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
        Files.writeString(tmp, toJson());
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void known(JsonNode node, String prefix, String... fields) {
        Set<String> ok = Set.of(fields);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!ok.contains(f)) throw new IllegalArgumentException(prefix + f + ": unknown field (expected one of " + String.join(", ", fields) + ")");
        }
    }

    private static String text(JsonNode n, String field, String at, String dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            if (dflt == null && !field.equals("name")) throw new IllegalArgumentException(at + "." + field + ": missing");
            return dflt;
        }
        if (!v.isTextual()) throw new IllegalArgumentException(at + "." + field + ": " + v + " (expected: a string)");
        return v.asText();
    }

    private static int integer(JsonNode n, String field, String at, int dflt) {
        JsonNode v = n.get(field);
        String where = at.isEmpty() ? field : at + "." + field;
        if (v == null || v.isNull()) {
            if (dflt < 0) throw new IllegalArgumentException(where + ": missing");
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new IllegalArgumentException(where + ": " + v + " (expected: an integer)");
        return v.intValue();
    }

    private static Duration millis(JsonNode n, String field, String at, Duration dflt) {
        JsonNode v = n.get(field);
        String where = at.isEmpty() ? field : at + "." + field;
        if (v == null || v.isNull()) return dflt;
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw new IllegalArgumentException(where + ": " + v + " (expected: milliseconds)");
        if (v.longValue() <= 0) throw new IllegalArgumentException(where + ": " + v + " (expected: > 0)");
        return Duration.ofMillis(v.longValue());
    }
}
