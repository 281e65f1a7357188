package io.k3j.store.sqlite;

import io.k3j.store.Event;
import io.k3j.store.KeyValue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The schema and row mapping of the log table. Like kine's, it has one row per revision: a create, an
 * update or a deletion of one key. Every row carries enough to rebuild its event alone (the previous
 * revision and value included), so watches replay correctly even after the previous row was compacted.
 */
final class LogTable {
    static final String COLUMNS = "id, name, created, deleted, create_revision, prev_revision, value, old_value";

    static final String INSERT = "INSERT INTO kv (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

    private LogTable() {}

    static void create(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            // id is the revision; being the rowid makes "rows after revision N" a range scan of the table itself.
            s.executeUpdate("""
                    CREATE TABLE IF NOT EXISTS kv (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        created INTEGER NOT NULL,
                        deleted INTEGER NOT NULL,
                        create_revision INTEGER NOT NULL,
                        prev_revision INTEGER NOT NULL,
                        value BLOB NOT NULL,
                        old_value BLOB)""");
            // (name, id) serves lookups by name too (leading column), so a separate index on name alone would
            // only cost write throughput.
            s.executeUpdate("CREATE UNIQUE INDEX IF NOT EXISTS kv_name_id ON kv (name, id)");
            s.executeUpdate("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
            s.executeUpdate("INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', 1)");
            s.executeUpdate("INSERT OR IGNORE INTO meta (name, value) VALUES ('compact_revision', 0)");
        }
    }

    static long compactRevision(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT value FROM meta WHERE name = 'compact_revision'")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /** Maps a row selected with {@link #COLUMNS} to its event. */
    static Event event(ResultSet rs) throws SQLException {
        long id = rs.getLong(1);
        String name = rs.getString(2);
        boolean created = rs.getInt(3) != 0;
        boolean deleted = rs.getInt(4) != 0;
        long createRevision = rs.getLong(5);
        long prevRevision = rs.getLong(6);
        byte[] value = bytes(rs.getBytes(7));
        if (deleted) {
            return deleteEvent(name, value, createRevision, prevRevision, id);
        }
        KeyValue kv = new KeyValue(name, value, createRevision, id);
        if (created) {
            return new Event(Event.Type.PUT, kv, null);
        }
        return new Event(Event.Type.PUT, kv, new KeyValue(name, bytes(rs.getBytes(8)), createRevision, prevRevision));
    }

    /** A deletion's event: the last value, at the deletion's revision, and the value as it was before. */
    static Event deleteEvent(String name, byte[] lastValue, long createRevision, long prevRevision, long revision) {
        return new Event(Event.Type.DELETE,
                new KeyValue(name, lastValue, createRevision, revision),
                new KeyValue(name, lastValue, createRevision, prevRevision));
    }

    /** SQLite hands back null for an empty blob. */
    static byte[] bytes(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    /**
     * The smallest string greater than every string starting with {@code prefix}, in UTF-8 byte order (which
     * is code point order, and SQLite's BINARY collation); null if there is none.
     */
    static String prefixEnd(String prefix) {
        int[] cps = prefix.codePoints().toArray();
        for (int i = cps.length - 1; i >= 0; i--) {
            int next = cps[i] + 1;
            if (next == Character.MIN_SURROGATE) {
                next = Character.MAX_SURROGATE + 1;
            }
            if (next <= Character.MAX_CODE_POINT) {
                cps[i] = next;
                return new String(cps, 0, i + 1);
            }
        }
        return null;
    }
}
