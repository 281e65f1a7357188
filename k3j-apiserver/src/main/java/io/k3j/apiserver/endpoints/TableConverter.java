package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.table.IncludeObject;
import io.k3j.apiserver.table.TablePrinter;
import io.k3j.apiserver.table.TablePrinters;
import io.k3j.apiserver.table.Tables;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Renders objects as meta.k8s.io/v1 Tables for {@code kubectl get}: built-in printers, CRD printer columns. */
public final class TableConverter {
    private final Map<String, TablePrinter> custom = new ConcurrentHashMap<>();

    /** The printer of a custom resource version (from its CRD's additionalPrinterColumns); null removes it. */
    public void customPrinter(ResourceType type, TablePrinter printer) {
        if (printer == null) custom.remove(key(type));
        else custom.put(key(type), printer);
    }

    private TablePrinter printer(ResourceType type) {
        TablePrinter p = type.custom() ? custom.get(key(type)) : null;
        return p != null ? p : TablePrinters.forResource(type.group(), type.plural());
    }

    /**
     * @param listMeta    the list's metadata, or null for a single object or watch event
     * @param withColumns false to leave out columnDefinitions (watch events after the first)
     */
    ObjectNode toTable(ResourceType type, List<ObjectNode> objects, String includeObject, ObjectNode listMeta, boolean withColumns,
                       Instant now) {
        IncludeObject include = IncludeObject.parse(includeObject);
        if (listMeta == null && objects.size() == 1) {
            return Tables.renderOne(printer(type), objects.get(0), include, withColumns, now);
        }
        return Tables.render(printer(type), objects, include, listMeta, now);
    }

    private static String key(ResourceType t) {
        return t.group() + "/" + t.version() + "/" + t.plural();
    }
}
