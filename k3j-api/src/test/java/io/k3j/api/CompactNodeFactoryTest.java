package io.k3j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Trees parsed for the cache behave as ordinary Jackson trees")
class CompactNodeFactoryTest {

    static ObjectNode stored(String json) {
        return Json.parseStored(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    @DisplayName("a stored tree equals the ordinary parse, keeps field order and serializes to the same bytes")
    void sameAsOrdinaryParse() {
        StringBuilder big = new StringBuilder("{");
        for (int i = 0; i < 40; i++) big.append(i == 0 ? "" : ",").append("\"k").append(39 - i).append("\":\"v").append(i).append('"');
        big.append('}');
        String json = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{\"b\":\"1\",\"a\":\"2\"},\"annotations\":"
                + big + "},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{\"containerPort\":80}]}],\"x\":[],\"y\":{}}}";
        ObjectNode compact = stored(json);
        ObjectNode ordinary = (ObjectNode) Json.parse(json.getBytes(StandardCharsets.UTF_8));
        assertThat(compact).isEqualTo(ordinary);
        assertThat(ordinary).isEqualTo(compact);
        assertThat(compact.hashCode()).isEqualTo(ordinary.hashCode());
        assertThat(new String(Json.bytes(compact), StandardCharsets.UTF_8)).isEqualTo(new String(Json.bytes(ordinary), StandardCharsets.UTF_8));
        List<String> names = new ArrayList<>();
        compact.get("metadata").get("annotations").fieldNames().forEachRemaining(names::add);
        assertThat(names).hasSize(40).startsWith("k39", "k38").endsWith("k0");
        assertThat(compact.get("metadata").get("annotations").get("k7").asText()).isEqualTo("v32");
        assertThat(compact.get("metadata").get("annotations").has("k40")).isFalse();
    }

    @Test
    @DisplayName("a stored tree and its deep copy change like any ObjectNode: set, replace, remove, iterator remove, retain")
    void mutable() {
        ObjectNode o = stored("{\"a\":1,\"b\":2,\"c\":3}");
        Map<String, JsonNode> model = new LinkedHashMap<>();
        o.fields().forEachRemaining(e -> model.put(e.getKey(), e.getValue()));

        ObjectNode copy = o.deepCopy();
        copy.put("b", 20);
        copy.put("d", 4);
        copy.remove("a");
        assertThat(Json.bytes(copy)).asString(StandardCharsets.UTF_8).isEqualTo("{\"b\":20,\"c\":3,\"d\":4}");
        assertThat(o.toString()).as("the original is untouched").isEqualTo("{\"a\":1,\"b\":2,\"c\":3}");

        for (int i = 0; i < 30; i++) copy.put("f" + i, i);
        for (int i = 0; i < 30; i += 2) copy.remove("f" + i);
        assertThat(copy.size()).isEqualTo(18);
        assertThat(copy.get("f29").asInt()).isEqualTo(29);
        assertThat(copy.get("f28")).isNull();
        copy.put("f3", "three");
        assertThat(copy.get("f3").asText()).isEqualTo("three");

        Iterator<Map.Entry<String, JsonNode>> it = copy.fields();
        while (it.hasNext()) if (it.next().getKey().startsWith("f")) it.remove();
        assertThat(copy.toString()).isEqualTo("{\"b\":20,\"c\":3,\"d\":4}");
        copy.without(List.of("b"));
        assertThat(copy.toString()).isEqualTo("{\"c\":3,\"d\":4}");
        copy.put("b", 20);
        assertThat(copy.deepCopy()).isEqualTo(copy);
        assertThat(new LinkedHashMap<>(model)).containsOnlyKeys("a", "b", "c");
        copy.retain("c", "d");
        assertThat(copy.toString()).isEqualTo("{\"c\":3,\"d\":4}");
        copy.fields().next().setValue(Json.NODES.textNode("x"));
        assertThat(copy.toString()).isEqualTo("{\"c\":\"x\",\"d\":4}");
        copy.removeAll();
        assertThat(copy.isEmpty()).isTrue();
        copy.put("z", 1);
        assertThat(copy.toString()).isEqualTo("{\"z\":1}");

        Iterator<Map.Entry<String, JsonNode>> stale = o.fields();
        o.deepCopy(); // not a change
        stale.next();
        ObjectNode changed = o.deepCopy();
        Iterator<Map.Entry<String, JsonNode>> broken = changed.fields();
        changed.put("new", 1);
        assertThatThrownBy(broken::next).isInstanceOf(java.util.ConcurrentModificationException.class);
    }
}
