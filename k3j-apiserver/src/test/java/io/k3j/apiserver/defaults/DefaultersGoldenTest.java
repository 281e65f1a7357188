package io.k3j.apiserver.defaults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden files under resources/defaults: {@code apiVersion/kind} say what to default, {@code in} is what
 * kubectl sends, {@code out} what {@code kubectl get -o yaml} shows for it on a real cluster (minus
 * server-set metadata and status). A file with {@code admission.uid} also runs {@link Admission#mutate}.
 */
class DefaultersGoldenTest {

    static Stream<String> cases() throws IOException, URISyntaxException {
        Path dir = Path.of(DefaultersGoldenTest.class.getResource("/defaults").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void defaultsMatchKubernetes(String file) throws IOException {
        JsonNode golden;
        try (InputStream in = getClass().getResourceAsStream("/defaults/" + file)) {
            golden = Json.parseYamlOrJson(in.readAllBytes());
        }
        String apiVersion = golden.get("apiVersion").asText();
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        String kind = golden.get("kind").asText();
        ObjectNode obj = golden.get("in").deepCopy();
        Defaulters.apply(group, version, kind, obj);

        // Defaulting is idempotent: running it on its own output changes nothing.
        ObjectNode again = obj.deepCopy();
        Defaulters.apply(group, version, kind, again);
        assertThat(normalize(again)).isEqualTo(normalize(obj));

        if (golden.has("admission")) {
            Admission.mutate(group, kind, obj, golden.at("/admission/uid").asText(null), new SplittableRandom(7));
        }
        // The token volume's suffix is random in Kubernetes; the goldens write it as SUFFIX.
        String actual = Json.string(obj).replaceAll("kube-api-access-[a-z0-9]{5}", "kube-api-access-SUFFIX");
        assertThat(Json.parse(actual.getBytes())).isEqualTo(normalize(golden.get("out")));
    }

    /** Re-reads through the JSON mapper so int/long node types don't matter. */
    private static JsonNode normalize(JsonNode n) {
        return Json.parse(Json.bytes(n));
    }
}
