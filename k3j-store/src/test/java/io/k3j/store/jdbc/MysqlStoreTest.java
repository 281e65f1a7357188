package io.k3j.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.store.testing.MariaDb;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The store on a private MariaDB server (the MySQL dialect) started for this class. */
class MysqlStoreTest extends JdbcStoreTest {
    private static MariaDb mariadb;

    @BeforeAll
    static void startMariaDb() {
        mariadb = MariaDb.start();
    }

    @AfterAll
    static void stopMariaDb() {
        if (mariadb != null) {
            mariadb.close();
        }
    }

    @Override
    protected void restartDatabase() throws Exception {
        mariadb.restart();
    }

    @Override
    protected String endpoint(String database) {
        return mariadb.endpoint(database);
    }

    @Test
    @DisplayName("creates the database and the kine-style tables and indexes on first start")
    void schema() throws Exception {
        store.create("/a", b("1"));
        try (Connection c = mariadb.connect(database()); Statement s = c.createStatement()) {
            List<String> columns = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT column_name FROM information_schema.columns"
                    + " WHERE table_schema = DATABASE() AND table_name = 'k3j_kv' ORDER BY ordinal_position")) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
            assertThat(columns).containsExactly("id", "name", "created", "deleted", "create_revision",
                    "prev_revision", "lease", "value", "old_value");
            List<String> indexes = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT DISTINCT index_name FROM information_schema.statistics"
                    + " WHERE table_schema = DATABASE() AND table_name = 'k3j_kv'")) {
                while (rs.next()) {
                    indexes.add(rs.getString(1));
                }
            }
            assertThat(indexes).contains("k3j_kv_name_id_index", "k3j_kv_prev_revision_index",
                    "k3j_kv_name_prev_revision_uindex");
            try (ResultSet rs = s.executeQuery("SELECT value FROM k3j_meta WHERE name = 'revision'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(1);
            }
        }
    }
}
