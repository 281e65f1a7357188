package io.k3j.apiserver.table;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * k8s.io/apiserver's default table convertor, used by resources without a printer (Roles, ClusterRoles,
 * LimitRanges, CustomResourceDefinitions, APIServices...): NAME and CREATED AT, the latter an RFC 3339 UTC
 * timestamp (kubectl prints it verbatim), {@code 0001-01-01T00:00:00Z} when unset.
 */
final class DefaultPrinter implements TablePrinter {
    static final DefaultPrinter INSTANCE = new DefaultPrinter();

    private static final List<Column> COLUMNS = List.of(
            Cells.name(), new Column("Created At", "date", "", Cells.CREATED, 0));
    private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ssXXX").withZone(ZoneOffset.UTC);

    private DefaultPrinter() {}

    @Override
    public List<Column> columns() {
        return COLUMNS;
    }

    @Override
    public List<Object> cells(ObjectNode obj, Instant now) {
        Instant created = Cells.time(obj, "metadata", "creationTimestamp");
        String at = created == null ? "0001-01-01T00:00:00Z" : RFC3339.format(created.truncatedTo(ChronoUnit.SECONDS));
        return Cells.row(Cells.name(obj), at);
    }
}
