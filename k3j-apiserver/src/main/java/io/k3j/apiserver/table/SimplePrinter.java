package io.k3j.apiserver.table;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.function.BiFunction;

/** A printer made of fixed columns and a cell function; most built-in resources need nothing more. */
record SimplePrinter(List<Column> columns, BiFunction<ObjectNode, Instant, List<Object>> cellFunction) implements TablePrinter {
    SimplePrinter {
        columns = List.copyOf(columns);
    }

    @Override
    public List<Object> cells(ObjectNode obj, Instant now) {
        return cellFunction.apply(obj, now);
    }
}
