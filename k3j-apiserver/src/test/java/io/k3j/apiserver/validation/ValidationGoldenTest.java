package io.k3j.apiserver.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException.Cause;
import io.k3j.api.Json;
import io.k3j.apiserver.defaults.Defaulters;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden files under resources/validation: {@code object} is what a client sends (defaulted first, as
 * kube-apiserver does), optional {@code old} makes it an update, and {@code errors} are the causes in
 * kube-apiserver's {@code field: message} form, in order. An empty list asserts the object is valid.
 */
class ValidationGoldenTest {

    static Stream<String> cases() throws IOException, URISyntaxException {
        Path dir = Path.of(ValidationGoldenTest.class.getResource("/validation").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void causesMatchKubernetes(String file) throws IOException {
        JsonNode golden;
        try (InputStream in = getClass().getResourceAsStream("/validation/" + file)) {
            golden = Json.parseYamlOrJson(in.readAllBytes());
        }
        String apiVersion = golden.get("apiVersion").asText();
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        String kind = golden.get("kind").asText();
        ObjectNode obj = golden.get("object").deepCopy();
        boolean defaults = golden.path("defaults").asBoolean(true);
        if (defaults) Defaulters.apply(group, version, kind, obj);
        List<Cause> causes;
        if (golden.hasNonNull("old")) {
            ObjectNode old = golden.get("old").deepCopy();
            if (defaults) Defaulters.apply(group, version, kind, old);
            causes = Validation.validateUpdate(group, kind, obj, old);
        } else {
            causes = Validation.validateCreate(group, kind, obj);
        }
        List<String> expected = new ArrayList<>();
        golden.path("errors").forEach(n -> expected.add(n.asText()));
        assertThat(causes.stream().map(Cause::render).toList()).containsExactlyElementsOf(expected);
        if (golden.has("reasons")) {
            List<String> reasons = new ArrayList<>();
            golden.get("reasons").forEach(n -> reasons.add(n.asText()));
            assertThat(causes.stream().map(Cause::reason).toList()).containsExactlyElementsOf(reasons);
        }
    }
}
