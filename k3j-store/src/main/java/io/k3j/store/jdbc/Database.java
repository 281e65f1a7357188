package io.k3j.store.jdbc;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** Opens connections to the endpoint's database, creating the database and the schema on first use. */
final class Database {
    private static final System.Logger LOG = System.getLogger(Database.class.getName());

    private final Endpoint endpoint;
    private final Driver driver;
    private final String url;

    Database(Endpoint endpoint) {
        this.endpoint = endpoint;
        this.driver = endpoint.dialect().driver();
        this.url = endpoint.jdbcUrl(endpoint.database());
    }

    Dialect dialect() {
        return endpoint.dialect();
    }

    Endpoint endpoint() {
        return endpoint;
    }

    /** A new connection with auto-commit off and the given isolation. */
    Connection connect(int isolation) throws SQLException {
        Connection c = open(url);
        try {
            c.setAutoCommit(false);
            c.setTransactionIsolation(isolation);
            return c;
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    /** A new connection with auto-commit on (for LISTEN). */
    Connection connectAutoCommit() throws SQLException {
        return open(url);
    }

    private Connection open(String jdbcUrl) throws SQLException {
        Properties p = endpoint.properties();
        Connection c = driver.connect(jdbcUrl, p);
        if (c == null) {
            throw new SQLException("driver " + driver.getClass().getName() + " refused " + jdbcUrl);
        }
        return c;
    }

    /**
     * Creates the database if it is missing and the user may (as kine does), then the tables if they are
     * missing. Servers starting together may race here; every statement tolerates the other having won.
     */
    void prepare() throws SQLException {
        try {
            open(url).close();
        } catch (SQLException e) {
            if (!dialect().isUnknownDatabase(e)) {
                throw e;
            }
            LOG.log(System.Logger.Level.INFO, "creating database {0} on {1}:{2}", endpoint.database(),
                    endpoint.host(), endpoint.port());
            try (Connection admin = open(endpoint.jdbcUrl(dialect().adminDatabase()));
                 Statement s = admin.createStatement()) {
                s.executeUpdate(dialect().createDatabase(endpoint.database()));
            } catch (SQLException create) {
                if (!dialect().isDuplicateDatabase(create)) {
                    create.addSuppressed(e);
                    throw new SQLException("creating database " + endpoint.database() + ": " + create.getMessage(),
                            create.getSQLState(), create.getErrorCode(), create);
                }
            }
        }
        SQLException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try (Connection c = open(url); Statement s = c.createStatement()) {
                for (String sql : dialect().schema()) {
                    s.executeUpdate(sql);
                }
                return;
            } catch (SQLException e) {
                // PostgreSQL's CREATE ... IF NOT EXISTS can still fail when another server creates the same
                // table at the same moment; the next attempt finds it.
                last = e;
            }
        }
        throw last;
    }
}
