package io.k3j.api.jsonpath;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonPathTest {

    private static final JsonNode OBJ = Json.parse("""
            {"apiVersion":"example.com/v1","kind":"Widget",
             "metadata":{"name":"w1","labels":{"app":"web","example.com/tier":"front"},"creationTimestamp":"2024-01-01T00:00:00Z"},
             "spec":{"replicas":3,"ratio":0.5,"paused":false,"ports":[{"name":"http","port":80},{"name":"https","port":443}]},
             "status":{"conditions":[{"type":"Progressing","status":"True"},{"type":"Ready","status":"False","reason":"Waiting"}],
                       "items":[1,2,3,4,5],"nothing":null}}
            """.getBytes(StandardCharsets.UTF_8));

    private static List<String> texts(String expr) {
        return JsonPath.eval(expr, OBJ).stream().map(JsonPath::printText).toList();
    }

    @Test
    void fields() {
        assertThat(texts(".spec.replicas")).containsExactly("3");
        assertThat(texts(".metadata.labels.app")).containsExactly("web");
        assertThat(texts("{.metadata.name}")).containsExactly("w1");
        assertThat(texts("$.metadata.name")).containsExactly("w1");
        assertThat(texts(".metadata.labels.example\\.com/tier")).containsExactly("front");
        assertThat(texts(".metadata['name']")).containsExactly("w1");
        assertThat(texts(".spec.paused")).containsExactly("false");
        assertThat(texts(".spec.ratio")).containsExactly("0.5");
    }

    @Test
    void missingKeysYieldNothing() {
        assertThat(JsonPath.eval(".spec.missing.deeper", OBJ)).isEmpty();
        assertThat(JsonPath.eval(".status.conditions[?(@.type==\"Gone\")].status", OBJ)).isEmpty();
        assertThat(JsonPath.eval(".status.nothing", OBJ)).hasSize(1).allMatch(JsonNode::isNull);
        assertThat(JsonPath.eval(".status.nothing.x", OBJ)).isEmpty();
    }

    @Test
    void filters() {
        assertThat(texts(".status.conditions[?(@.type==\"Ready\")].status")).containsExactly("False");
        assertThat(texts(".status.conditions[?(@.type=='Ready')].reason")).containsExactly("Waiting");
        assertThat(texts(".status.conditions[?(@.reason)].type")).containsExactly("Ready");
        assertThat(texts(".spec.ports[?(@.port>100)].name")).containsExactly("https");
        assertThat(texts(".spec.ports[?(@.port<=80)].name")).containsExactly("http");
        assertThat(texts(".spec.ports[?(@.name!='http')].port")).containsExactly("443");
    }

    @Test
    void comparingIntWithFloatFails() {
        assertThatThrownBy(() -> JsonPath.eval(".spec.ports[?(@.port==80.0)].name", OBJ))
                .isInstanceOf(JsonPathException.class)
                .hasMessage("incompatible types for comparison");
    }

    @Test
    void indexesSlicesWildcardsUnions() {
        assertThat(texts(".status.items[0]")).containsExactly("1");
        assertThat(texts(".status.items[-1]")).containsExactly("5");
        assertThat(texts(".status.items[1:3]")).containsExactly("2", "3");
        assertThat(texts(".status.items[::2]")).containsExactly("1", "3", "5");
        assertThat(texts(".status.items[*]")).containsExactly("1", "2", "3", "4", "5");
        assertThat(texts(".status.items[0,4]")).containsExactly("1", "5");
        assertThat(texts(".spec.ports[*].port")).containsExactly("80", "443");
        assertThat(texts(".metadata.labels.*")).containsExactly("web", "front");
        assertThat(texts("..port")).containsExactly("80", "443");
    }

    @Test
    void outOfBoundsIsAnError() {
        assertThatThrownBy(() -> JsonPath.eval(".status.items[9]", OBJ))
                .hasMessage("array index out of bounds: index 9, length 5");
        assertThatThrownBy(() -> JsonPath.eval(".metadata[0]", OBJ))
                .hasMessage("map[string]interface {} is not array or slice");
    }

    @Test
    void printsObjectsAsCompactJsonWithSortedKeys() {
        assertThat(texts(".spec.ports[0]")).containsExactly("{\"name\":\"http\",\"port\":80}");
        assertThat(texts(".metadata.labels")).containsExactly("{\"app\":\"web\",\"example.com/tier\":\"front\"}");
        assertThat(JsonPath.goFloat(1234567.5)).isEqualTo("1.2345675e+06");
        assertThat(JsonPath.goFloat(0.00001)).isEqualTo("1e-05");
        assertThat(JsonPath.goFloat(-2.25)).isEqualTo("-2.25");
    }

    @Test
    void rejectsBadSyntax() {
        assertThatThrownBy(() -> JsonPath.compile(".a[")).hasMessage("unterminated array");
        assertThatThrownBy(() -> JsonPath.compile(".a[x]")).hasMessage("invalid array index x");
        assertThatThrownBy(() -> JsonPath.compile(".a[?(@.b=='c']")).hasMessage("unterminated filter");
        assertThatThrownBy(() -> JsonPath.compile("#")).hasMessage("unrecognized character in action: U+0023 '#'");
        assertThatThrownBy(() -> JsonPath.compile("....a")).hasMessage("invalid multiple recursive descent");
    }
}
