package io.k3j.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * kubectl's human-readable tables, compared cell by cell. Cells are whitespace-separated tokens (none of the
 * values in the scenario contain spaces); {@link #ANY} matches one token whose value depends on time (AGE) or
 * allocation (CLUSTER-IP).
 */
final class Table {
    static final String ANY = "\u0000any";

    private Table() {}

    static List<List<String>> rows(String out) {
        List<List<String>> rows = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) rows.add(Arrays.asList(line.trim().split("\\s+")));
        }
        return rows;
    }

    static boolean matches(List<String> row, String... cells) {
        if (row.size() != cells.length) return false;
        for (int i = 0; i < cells.length; i++) {
            if (!cells[i].equals(ANY) && !cells[i].equals(row.get(i))) return false;
        }
        return true;
    }

    /** Asserts that some line of {@code out} has exactly these cells. */
    static void assertHasRow(String out, String... cells) {
        assertThat(rows(out)).as("a row %s in:%n%s", Arrays.toString(cells).replace(ANY, "*"), out)
                .anyMatch(r -> matches(r, cells));
    }

    static void assertNoRowStartingWith(String out, String... cells) {
        assertThat(rows(out)).as("no row starting with %s in:%n%s", Arrays.toString(cells), out)
                .noneMatch(r -> r.size() >= cells.length && r.subList(0, cells.length).equals(List.of(cells)));
    }

    /** Asserts the first line (the header) has exactly these column names. */
    static void assertHeader(String out, String... columns) {
        assertThat(rows(out)).as("table:%n%s", out).isNotEmpty();
        assertThat(rows(out).get(0)).as("header of:%n%s", out).containsExactly(columns);
    }
}
