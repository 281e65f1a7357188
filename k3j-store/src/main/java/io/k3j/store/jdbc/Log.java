package io.k3j.store.jdbc;

import io.k3j.store.Event;
import io.k3j.store.KeyValue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The log table {@code k3j_kv}, kine's layout: one row per revision (a create, an update or a deletion of one
 * key) whose id is the revision. Every row carries enough to rebuild its event alone (previous revision and
 * value included), so a watch replays correctly even after the previous row was compacted away. A deletion row
 * keeps the last value. {@code k3j_meta} holds the revision counter and the compact revision, shared by every
 * server writing to the database.
 */
final class Log {
    static final String COLUMNS = "id, name, created, deleted, create_revision, prev_revision, value, old_value";

    static final String INSERT = "INSERT INTO k3j_kv (" + COLUMNS + ", lease) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)";

    /** The latest row of a key: live, or a deletion (kept so a re-create can name it as its previous row). */
    record Latest(long createRevision, long modRevision, boolean deleted) {}

    /** Revision counter and compact revision, as one snapshot saw them. */
    record Meta(long revision, long compactRevision) {}

    private Log() {}

    static Meta meta(Connection c, boolean forUpdate) throws SQLException {
        long revision = -1;
        long compact = 0;
        String sql = "SELECT name, value FROM k3j_meta WHERE name IN ('revision', 'compact_revision')"
                + (forUpdate ? " FOR UPDATE" : "");
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                if (rs.getString(1).equals("revision")) {
                    revision = rs.getLong(2);
                } else {
                    compact = rs.getLong(2);
                }
            }
        }
        if (revision < 0) {
            throw new SQLException("k3j_meta has no revision row: the schema is incomplete");
        }
        return new Meta(revision, compact);
    }

    /** Events of the rows in (after, upTo] under {@code prefix} ("" for all), oldest first, at most limit. */
    static List<Event> events(Connection c, Dialect dialect, String prefix, long after, long upTo, int limit)
            throws SQLException {
        String end = prefixEnd(prefix);
        String sql = "SELECT " + COLUMNS + " FROM k3j_kv WHERE id > ? AND id <= ?"
                + (prefix.isEmpty() ? "" : " AND name >= ?") + (end == null ? "" : " AND name < ?")
                + " ORDER BY id LIMIT ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setLong(i++, after);
            ps.setLong(i++, upTo);
            if (!prefix.isEmpty()) {
                dialect.bindName(ps, i++, prefix);
            }
            if (end != null) {
                dialect.bindName(ps, i++, end);
            }
            ps.setInt(i, limit);
            List<Event> events = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    events.add(event(rs, dialect));
                }
            }
            return events;
        }
    }

    /** Maps a row selected with {@link #COLUMNS} to its event. */
    static Event event(ResultSet rs, Dialect dialect) throws SQLException {
        long id = rs.getLong(1);
        String name = dialect.readName(rs, 2);
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

    static Event deleteEvent(String name, byte[] lastValue, long createRevision, long prevRevision, long revision) {
        return new Event(Event.Type.DELETE,
                new KeyValue(name, lastValue, createRevision, revision),
                new KeyValue(name, lastValue, createRevision, prevRevision));
    }

    static byte[] bytes(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    /**
     * The smallest string above every string starting with {@code prefix} in code point order, which is UTF-8
     * byte order and so the order of both dialects' key columns; null if there is none (or the prefix is empty).
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
