package io.k3j.api.patch;

import static io.k3j.api.patch.PatchTesting.bytes;
import static io.k3j.api.patch.PatchTesting.json;
import static io.k3j.api.patch.PatchTesting.yaml;
import static io.k3j.api.patch.PatchTesting.yamlBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MergePatchTest {

    @ParameterizedTest(name = "RFC 7386: {0} + {1} = {2}")
    @CsvSource(delimiter = '|', textBlock = """
            {"a":"b"}               | {"a":"c"}                      | {"a":"c"}
            {"a":"b"}               | {"b":"c"}                      | {"a":"b","b":"c"}
            {"a":"b"}               | {"a":null}                     | {}
            {"a":"b","b":"c"}       | {"a":null}                     | {"b":"c"}
            {"a":["b"]}             | {"a":"c"}                      | {"a":"c"}
            {"a":"c"}               | {"a":["b"]}                    | {"a":["b"]}
            {"a":{"b":"c"}}         | {"a":{"b":"d","c":null}}       | {"a":{"b":"d"}}
            {"a":[{"b":"c"}]}       | {"a":[1]}                      | {"a":[1]}
            ["a","b"]               | ["c","d"]                      | ["c","d"]
            {"a":"b"}               | ["c"]                          | ["c"]
            {"e":null}              | {"a":1}                        | {"e":null,"a":1}
            [1,2]                   | {"a":"b","c":null}             | {"a":"b"}
            {}                      | {"a":{"bb":{"ccc":null}}}      | {"a":{"bb":{}}}
            """)
    void rfc7386AppendixA(String target, String patch, String expected) {
        assertThat(MergePatch.apply(json(target), bytes(patch))).isEqualTo(json(expected));
    }

    @ParameterizedTest(name = "patch body {0} is 400 Invalid JSON Patch")
    @ValueSource(strings = {"null", "\"bar\"", "42", "{\"a\":", ""})
    void patchesThatAreNotObjectsOrArrays(String body) {
        // RFC 7386 would let null and scalars replace the document; evanphx (and so kube-apiserver) refuses them
        assertThatThrownBy(() -> MergePatch.apply(json("{\"a\":\"foo\"}"), bytes(body)))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(400);
                    assertThat(e.getMessage()).isEqualTo("Invalid JSON Patch");
                });
    }

    @Test
    @DisplayName("kubectl docs: a JSON merge patch replaces the whole containers list")
    void docsMergePatchReplacesContainers() {
        JsonNode deployment = yaml("""
                spec:
                  template:
                    spec:
                      containers:
                      - name: patch-demo-ctr
                        image: nginx
                      - name: patch-demo-ctr-2
                        image: redis
                """);
        JsonNode out = MergePatch.apply(deployment, yamlBytes("""
                spec:
                  template:
                    spec:
                      containers:
                      - name: patch-demo-ctr-3
                        image: gcr.io/google-samples/hello-app:2.0
                """));
        assertThat(out.at("/spec/template/spec/containers")).isEqualTo(yaml("""
                - name: patch-demo-ctr-3
                  image: gcr.io/google-samples/hello-app:2.0
                """));
    }

    @Test
    @DisplayName("labels are merged and a null label removed; the target is not modified")
    void labels() {
        JsonNode target = json("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}");
        JsonNode out = MergePatch.apply(target, bytes("{\"metadata\":{\"labels\":{\"b\":null,\"c\":\"3\"}}}"));
        assertThat(out).isEqualTo(json("{\"metadata\":{\"labels\":{\"a\":\"1\",\"c\":\"3\"}}}"));
        assertThat(target).isEqualTo(json("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}"));
    }
}
