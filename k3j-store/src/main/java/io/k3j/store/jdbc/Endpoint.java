package io.k3j.store.jdbc;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * A {@code --datastore-endpoint} for an SQL database, parsed as k3s (kine) accepts it, and turned into what the
 * JDBC driver wants. The password never appears in {@link #toString()} or in error messages.
 *
 * @param dialect  which database
 * @param host     server host
 * @param port     server port
 * @param database database name (kine's default {@code kubernetes} when the endpoint names none)
 * @param user     user name, possibly empty
 * @param password password, possibly empty
 * @param options  driver options from the endpoint's query, already in the driver's spelling
 */
record Endpoint(Dialect dialect, String host, int port, String database, String user, String password,
                Map<String, String> options) {

    static final String FORMS = "postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable (or postgresql://), "
            + "mysql://USER:PASSWORD@tcp(HOST:PORT)/DATABASE";

    private static final String DEFAULT_DATABASE = "kubernetes";

    /** True if {@code endpoint} names one of the SQL schemes (it may still be malformed). */
    static boolean accepts(String endpoint) {
        return endpoint.startsWith("postgres://") || endpoint.startsWith("postgresql://")
                || endpoint.startsWith("mysql://");
    }

    /**
     * Parses an endpoint.
     *
     * @throws IllegalArgumentException naming the problem and the accepted forms
     */
    static Endpoint parse(String endpoint) {
        if (endpoint == null || !accepts(endpoint)) {
            throw invalid(endpoint, "unknown scheme");
        }
        return endpoint.startsWith("mysql://") ? parseMysql(endpoint) : parsePostgres(endpoint);
    }

    private static Endpoint parsePostgres(String endpoint) {
        URI uri;
        try {
            uri = new URI(endpoint);
        } catch (URISyntaxException e) {
            throw invalid(endpoint, e.getReason());
        }
        if (uri.getHost() == null) {
            throw invalid(endpoint, "no host");
        }
        String[] userInfo = userInfo(uri.getRawUserInfo());
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String database = path.isEmpty() || path.equals("/") ? DEFAULT_DATABASE : decode(path.substring(1));
        if (database.contains("/")) {
            throw invalid(endpoint, "database name \"" + database + "\" contains /");
        }
        Map<String, String> options = query(endpoint, uri.getRawQuery());
        return new Endpoint(Dialect.POSTGRES, uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), database,
                userInfo[0], userInfo[1], options);
    }

    /** The Go MySQL driver's DSN behind a scheme: {@code mysql://[user[:pass]@]tcp(host[:port])/db[?params]}. */
    private static Endpoint parseMysql(String endpoint) {
        String rest = endpoint.substring("mysql://".length());
        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        int slash = rest.lastIndexOf('/');
        if (slash < 0) {
            throw invalid(endpoint, "no /DATABASE after the address");
        }
        String database = rest.substring(slash + 1).isEmpty() ? DEFAULT_DATABASE : decode(rest.substring(slash + 1));
        String head = rest.substring(0, slash);
        int at = head.lastIndexOf('@');
        String[] userInfo = at < 0 ? new String[] {"", ""} : userInfo(head.substring(0, at));
        String address = at < 0 ? head : head.substring(at + 1);
        String host;
        int port = 3306;
        if (address.isEmpty()) {
            host = "127.0.0.1";
        } else if (address.startsWith("tcp(") && address.endsWith(")")) {
            String hostPort = address.substring(4, address.length() - 1);
            int colon = hostPort.lastIndexOf(':');
            if (colon >= 0 && !hostPort.endsWith("]")) {
                host = hostPort.substring(0, colon);
                try {
                    port = Integer.parseInt(hostPort.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw invalid(endpoint, "port \"" + hostPort.substring(colon + 1) + "\" is not a number");
                }
            } else {
                host = hostPort;
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty()) {
                host = "127.0.0.1";
            }
        } else {
            throw invalid(endpoint, "address \"" + address + "\" is not tcp(HOST:PORT)");
        }
        if (port < 1 || port > 65535) {
            throw invalid(endpoint, "port " + port + " out of range");
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : query(endpoint, query).entrySet()) {
            // The Go driver's tls= switch is what k3s users write; the others are passed to the JDBC driver.
            if (e.getKey().equals("tls")) {
                switch (e.getValue()) {
                    case "true" -> options.put("sslMode", "verify-full");
                    case "skip-verify", "preferred" -> options.put("sslMode", "trust");
                    case "false" -> options.put("sslMode", "disable");
                    default -> throw invalid(endpoint, "tls=" + e.getValue() + " (expected: true, false, skip-verify)");
                }
            } else {
                options.put(e.getKey(), e.getValue());
            }
        }
        return new Endpoint(Dialect.MYSQL, host, port, database, userInfo[0], userInfo[1], options);
    }

    private static String[] userInfo(String raw) {
        if (raw == null || raw.isEmpty()) {
            return new String[] {"", ""};
        }
        int colon = raw.indexOf(':');
        return colon < 0 ? new String[] {decode(raw), ""}
                : new String[] {decode(raw.substring(0, colon)), decode(raw.substring(colon + 1))};
    }

    private static Map<String, String> query(String endpoint, String raw) {
        Map<String, String> options = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return options;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw invalid(endpoint, "query parameter \"" + pair + "\" is not NAME=VALUE");
            }
            options.put(decode(pair.substring(0, eq)), decode(pair.substring(eq + 1)));
        }
        return options;
    }

    /** Percent-decoding without turning '+' into a space (userinfo and paths are not form-encoded). */
    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static IllegalArgumentException invalid(String endpoint, String problem) {
        return new IllegalArgumentException("invalid datastore endpoint \"" + redact(endpoint) + "\": " + problem
                + "; accepted forms: " + FORMS);
    }

    /** The endpoint with its password replaced, for messages. */
    static String redact(String endpoint) {
        if (endpoint == null) {
            return "null";
        }
        int scheme = endpoint.indexOf("://");
        int at = endpoint.lastIndexOf('@');
        if (scheme < 0 || at < scheme) {
            return endpoint;
        }
        int colon = endpoint.indexOf(':', scheme + 3);
        return colon < 0 || colon > at ? endpoint : endpoint.substring(0, colon + 1) + "***" + endpoint.substring(at);
    }

    /** The JDBC URL of {@code db} on this server. */
    String jdbcUrl(String db) {
        return dialect.jdbcUrl(host, port, db);
    }

    /** User, password and options as driver properties. */
    Properties properties() {
        Properties p = new Properties();
        // A database that stops answering fails the calls waiting on it instead of hanging them (and close())
        // forever; the endpoint's own options override these.
        if (dialect == Dialect.POSTGRES) {
            p.setProperty("connectTimeout", "10");
            p.setProperty("socketTimeout", "60");
            // one multi-row INSERT per batch instead of one statement per row
            p.setProperty("reWriteBatchedInserts", "true");
        } else {
            p.setProperty("connectTimeout", "10000");
            p.setProperty("socketTimeout", "60000");
        }
        if (!user.isEmpty()) {
            p.setProperty("user", user);
        }
        if (!password.isEmpty()) {
            p.setProperty("password", password);
        }
        options.forEach(p::setProperty);
        return p;
    }

    @Override
    public String toString() {
        return dialect.scheme() + "://" + (user.isEmpty() ? "" : user + "@") + host + ":" + port + "/" + database;
    }
}
