package io.k3j.apiserver.table;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Turns objects of one resource into table rows, as a kube-apiserver {@code TableConvertor} does for
 * {@code Accept: application/json;as=Table;g=meta.k8s.io;v=v1}. Printers always produce the wide (-o wide)
 * cells; kubectl hides columns with priority above 0 unless asked. Obtain printers from {@link TablePrinters};
 * render them with {@link Tables}.
 */
public interface TablePrinter {

    /** A {@code metav1.TableColumnDefinition}. {@code format} is "" when unset; priority 0 is always shown. */
    record Column(String name, String type, String format, String description, int priority) {
        public Column {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            format = format == null ? "" : format;
            description = description == null ? "" : description;
        }
    }

    /** The column definitions, in order. */
    List<Column> columns();

    /**
     * The cells of one object's row, one per column: {@link String}, {@link Long}, {@link Double},
     * {@link Boolean}, a Jackson node, or null. Ages are computed against {@code now}.
     */
    List<Object> cells(ObjectNode obj, Instant now);

    /**
     * The row's {@code conditions} (e.g. {@code Completed} for finished pods), each an object with type,
     * status, reason and message; empty for most resources.
     */
    default List<ObjectNode> conditions(ObjectNode obj) {
        return List.of();
    }
}
