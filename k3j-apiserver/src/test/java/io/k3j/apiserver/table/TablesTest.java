package io.k3j.apiserver.table;

import static io.k3j.apiserver.table.PrintersGoldenTest.NOW;
import static io.k3j.apiserver.table.PrintersGoldenTest.obj;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class TablesTest {

    private static final ObjectNode NS = obj("""
            {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default","uid":"u1","resourceVersion":"42",
             "creationTimestamp":"2024-05-01T11:00:00Z","labels":{"kubernetes.io/metadata.name":"default"}},
             "spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}
            """);

    @Test
    void listTableWithMetadataRows() {
        ObjectNode listMeta = obj("{\"resourceVersion\":\"99\",\"continue\":\"\",\"remainingItemCount\":3}");
        ObjectNode table = Tables.render(TablePrinters.forResource("", "namespaces"), List.of(NS), IncludeObject.METADATA, listMeta, NOW);
        assertThat(Json.string(table)).isEqualTo("{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
                + "\"metadata\":{\"resourceVersion\":\"99\",\"remainingItemCount\":3},"
                + "\"columnDefinitions\":["
                + "{\"name\":\"Name\",\"type\":\"string\",\"format\":\"name\",\"description\":" + Json.string(Json.NODES.textNode(Cells.NAME)) + ",\"priority\":0},"
                + "{\"name\":\"Status\",\"type\":\"string\",\"format\":\"\",\"description\":\"The status of the namespace\",\"priority\":0},"
                + "{\"name\":\"Age\",\"type\":\"string\",\"format\":\"\",\"description\":" + Json.string(Json.NODES.textNode(Cells.CREATED)) + ",\"priority\":0}],"
                + "\"rows\":[{\"cells\":[\"default\",\"Active\",\"60m\"],"
                + "\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":"
                + Json.string(NS.get("metadata")) + "}}]}");
    }

    @Test
    void includeObjectModes() {
        TablePrinter p = TablePrinters.forResource("", "namespaces");
        assertThat(Tables.render(p, List.of(NS), IncludeObject.OBJECT, null, NOW).at("/rows/0/object")).isEqualTo(NS);
        assertThat(Tables.render(p, List.of(NS), IncludeObject.NONE, null, NOW).at("/rows/0/object").isNull()).isTrue();
        assertThat(Tables.render(p, List.of(NS), IncludeObject.METADATA, null, NOW, Tables.V1BETA1).at("/rows/0/object/apiVersion").asText())
                .isEqualTo("meta.k8s.io/v1beta1");
        assertThat(IncludeObject.parse(null)).isEqualTo(IncludeObject.METADATA);
        assertThat(IncludeObject.parse("Object")).isEqualTo(IncludeObject.OBJECT);
        assertThatThrownBy(() -> IncludeObject.parse("object"))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(400))
                .hasMessage("unrecognized includeObject value: \"object\"");
    }

    @Test
    void initialEventsEndBookmarkKeepsMetadataEvenWithNone() {
        ObjectNode bookmark = obj("""
                {"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"7","annotations":{"k8s.io/initial-events-end":"true"}}}
                """);
        ObjectNode t = Tables.renderOne(TablePrinters.forResource("", "pods"), bookmark, IncludeObject.NONE, false, NOW);
        assertThat(t.at("/rows/0/object/kind").asText()).isEqualTo("PartialObjectMetadata");
    }

    @Test
    void watchEventsCarryColumnsOnlyFirst() {
        TablePrinter p = TablePrinters.forResource("", "namespaces");
        ObjectNode first = Tables.renderOne(p, NS, IncludeObject.METADATA, true, NOW);
        ObjectNode later = Tables.renderOne(p, NS, IncludeObject.METADATA, false, NOW);
        assertThat(first.get("columnDefinitions")).hasSize(3);
        assertThat(later.get("columnDefinitions").isNull()).isTrue();
        assertThat(later.get("metadata")).isEqualTo(obj("{\"resourceVersion\":\"42\"}"));
        assertThat(later.get("rows")).hasSize(1);
    }

    @Test
    void emptyListsAndRowConditions() {
        assertThat(Tables.render(TablePrinters.defaultPrinter(), List.of(), IncludeObject.METADATA, null, NOW).get("rows").isNull()).isTrue();
        assertThat(Tables.render(TablePrinters.forResource("", "pods"), List.of(), IncludeObject.METADATA, null, NOW).get("rows")).isEmpty();
        ObjectNode failed = obj("{\"metadata\":{\"name\":\"f\"},\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Failed\"}}");
        ObjectNode t = Tables.render(TablePrinters.forResource("", "pods"), List.of(failed), IncludeObject.NONE, null, NOW);
        assertThat(Json.string(t.at("/rows/0/conditions"))).isEqualTo(
                "[{\"type\":\"Completed\",\"status\":\"True\",\"reason\":\"Failed\",\"message\":\"The pod failed.\"}]");
    }

    @Test
    void numberCellsEncodeLikeGo() {
        TablePrinter p = TablePrinters.forCustomResource(Json.parse(
                "[{\"name\":\"N\",\"type\":\"number\",\"jsonPath\":\".spec.n\"}]".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        ObjectNode cr = obj("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"n\":3}}");
        assertThat(Json.string(Tables.render(p, List.of(cr), IncludeObject.NONE, null, NOW).at("/rows/0/cells"))).isEqualTo("[\"x\",3]");
    }
}
