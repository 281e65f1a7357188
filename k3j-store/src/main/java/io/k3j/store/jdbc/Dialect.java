package io.k3j.store.jdbc;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.sql.Driver;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * What differs between PostgreSQL and MySQL/MariaDB; everything else in this package is plain SQL that both
 * speak (kine is built the same way: generic SQL plus a thin dialect per database).
 *
 * <p>Keys must sort as UTF-8 bytes. PostgreSQL gets that from {@code COLLATE "C"} (byte comparison of the
 * UTF-8 text); MySQL stores keys as {@code VARBINARY}, since its {@code _bin} collations ignore trailing spaces
 * and kine's {@code CHARACTER SET ascii} would refuse other keys.
 */
enum Dialect {
    POSTGRES("postgres") {
        @Override
        String jdbcUrl(String host, int port, String database) {
            return "jdbc:postgresql://" + hostPart(host) + ":" + port + "/" + database;
        }

        @Override
        Driver driver() {
            return new org.postgresql.Driver();
        }

        @Override
        String adminDatabase() {
            return "postgres";
        }

        @Override
        boolean isUnknownDatabase(SQLException e) {
            return "3D000".equals(e.getSQLState());
        }

        @Override
        boolean isDuplicateDatabase(SQLException e) {
            // 42P04: created meanwhile by another server; 23505: the same race caught on pg_database's index
            return "42P04".equals(e.getSQLState()) || "23505".equals(e.getSQLState());
        }

        @Override
        String createDatabase(String name) {
            return "CREATE DATABASE \"" + name.replace("\"", "\"\"") + "\"";
        }

        @Override
        List<String> schema() {
            return List.of("""
                    CREATE TABLE IF NOT EXISTS k3j_kv (
                        id BIGINT PRIMARY KEY,
                        name TEXT COLLATE "C" NOT NULL,
                        created INTEGER NOT NULL,
                        deleted INTEGER NOT NULL,
                        create_revision BIGINT NOT NULL,
                        prev_revision BIGINT NOT NULL,
                        lease BIGINT NOT NULL DEFAULT 0,
                        value BYTEA NOT NULL,
                        old_value BYTEA)""",
                    "CREATE UNIQUE INDEX IF NOT EXISTS k3j_kv_name_id_index ON k3j_kv (name, id)",
                    "CREATE INDEX IF NOT EXISTS k3j_kv_prev_revision_index ON k3j_kv (prev_revision)",
                    "CREATE UNIQUE INDEX IF NOT EXISTS k3j_kv_name_prev_revision_uindex ON k3j_kv (name, prev_revision)",
                    "CREATE TABLE IF NOT EXISTS k3j_meta (name VARCHAR(64) PRIMARY KEY, value BIGINT NOT NULL)",
                    "INSERT INTO k3j_meta (name, value) VALUES ('schema_version', 1), ('revision', 0),"
                            + " ('compact_revision', 0) ON CONFLICT DO NOTHING");
        }

        @Override
        String deleteSuperseded() {
            return "DELETE FROM k3j_kv AS l USING k3j_kv AS n"
                    + " WHERE n.name = l.name AND n.id > l.id AND n.id <= ? AND l.id < ?";
        }

        @Override
        void bindName(PreparedStatement ps, int index, String name) throws SQLException {
            ps.setString(index, name);
        }

        @Override
        String readName(ResultSet rs, int index) throws SQLException {
            return rs.getString(index);
        }
    },

    MYSQL("mysql") {
        @Override
        String jdbcUrl(String host, int port, String database) {
            return "jdbc:mariadb://" + hostPart(host) + ":" + port + "/" + database;
        }

        @Override
        Driver driver() {
            return new org.mariadb.jdbc.Driver();
        }

        @Override
        String adminDatabase() {
            return "";
        }

        @Override
        boolean isUnknownDatabase(SQLException e) {
            return errorCode(e) == 1049; // ER_BAD_DB_ERROR
        }

        @Override
        boolean isDuplicateDatabase(SQLException e) {
            return errorCode(e) == 1007; // ER_DB_CREATE_EXISTS (IF NOT EXISTS makes it rare)
        }

        @Override
        String createDatabase(String name) {
            return "CREATE DATABASE IF NOT EXISTS `" + name.replace("`", "``") + "`";
        }

        @Override
        List<String> schema() {
            return List.of("""
                    CREATE TABLE IF NOT EXISTS k3j_kv (
                        id BIGINT NOT NULL PRIMARY KEY,
                        name VARBINARY(1024) NOT NULL,
                        created INTEGER NOT NULL,
                        deleted INTEGER NOT NULL,
                        create_revision BIGINT NOT NULL,
                        prev_revision BIGINT NOT NULL,
                        lease BIGINT NOT NULL DEFAULT 0,
                        value MEDIUMBLOB NOT NULL,
                        old_value MEDIUMBLOB,
                        UNIQUE INDEX k3j_kv_name_id_index (name, id),
                        INDEX k3j_kv_prev_revision_index (prev_revision),
                        UNIQUE INDEX k3j_kv_name_prev_revision_uindex (name, prev_revision)
                    ) ENGINE = InnoDB""",
                    "CREATE TABLE IF NOT EXISTS k3j_meta (name VARCHAR(64) NOT NULL PRIMARY KEY, value BIGINT NOT NULL)"
                            + " ENGINE = InnoDB",
                    "INSERT IGNORE INTO k3j_meta (name, value) VALUES ('schema_version', 1), ('revision', 0),"
                            + " ('compact_revision', 0)");
        }

        @Override
        String deleteSuperseded() {
            // MySQL refuses a subquery on the table being deleted from; a multi-table DELETE does the same.
            return "DELETE l FROM k3j_kv AS l JOIN k3j_kv AS n"
                    + " ON n.name = l.name AND n.id > l.id AND n.id <= ? WHERE l.id < ?";
        }

        @Override
        void bindName(PreparedStatement ps, int index, String name) throws SQLException {
            ps.setBytes(index, name.getBytes(UTF_8));
        }

        @Override
        String readName(ResultSet rs, int index) throws SQLException {
            return new String(rs.getBytes(index), UTF_8);
        }
    };

    private final String scheme;

    Dialect(String scheme) {
        this.scheme = scheme;
    }

    String scheme() {
        return scheme;
    }

    abstract String jdbcUrl(String host, int port, String database);

    /** A driver instance, used directly: a shaded jar or an odd class loader cannot hide it from DriverManager. */
    abstract Driver driver();

    /** The database to connect to for creating another one. */
    abstract String adminDatabase();

    abstract boolean isUnknownDatabase(SQLException e);

    abstract boolean isDuplicateDatabase(SQLException e);

    abstract String createDatabase(String name);

    /** Statements creating the tables if absent; each safe to run again. */
    abstract List<String> schema();

    /** Deletes rows below the second parameter superseded by a row at or below the first. */
    abstract String deleteSuperseded();

    abstract void bindName(PreparedStatement ps, int index, String name) throws SQLException;

    abstract String readName(ResultSet rs, int index) throws SQLException;

    private static String hostPart(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    private static int errorCode(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getErrorCode() != 0) {
                return s.getErrorCode();
            }
        }
        return 0;
    }
}
