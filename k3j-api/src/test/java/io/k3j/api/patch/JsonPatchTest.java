package io.k3j.api.patch;

import static io.k3j.api.patch.PatchTesting.bytes;
import static io.k3j.api.patch.PatchTesting.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.ApiException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonPatchTest {

    private static JsonNode patch(String target, String ops) {
        return JsonPatch.apply(json(target), bytes(ops));
    }

    /** The detail evanphx/json-patch reports (kube-apiserver hides it behind a generic 422). */
    private static String failure(String target, String ops) {
        try {
            JsonPatch.applyOps(json(target), JsonPatch.decode(bytes(ops)));
        } catch (JsonPatch.Failure e) {
            return e.getMessage();
        }
        throw new AssertionError("patch applied");
    }

    // RFC 6902 appendix A

    @ParameterizedTest(name = "RFC 6902 {0}")
    @CsvSource(delimiter = '|', textBlock = """
            A.1 add object member    | {"foo":"bar"}                         | [{"op":"add","path":"/baz","value":"qux"}]                    | {"baz":"qux","foo":"bar"}
            A.2 add array element    | {"foo":["bar","baz"]}                 | [{"op":"add","path":"/foo/1","value":"qux"}]                  | {"foo":["bar","qux","baz"]}
            A.3 remove object member | {"baz":"qux","foo":"bar"}             | [{"op":"remove","path":"/baz"}]                               | {"foo":"bar"}
            A.4 remove array element | {"foo":["bar","qux","baz"]}           | [{"op":"remove","path":"/foo/1"}]                             | {"foo":["bar","baz"]}
            A.5 replace value        | {"baz":"qux","foo":"bar"}             | [{"op":"replace","path":"/baz","value":"boo"}]                | {"baz":"boo","foo":"bar"}
            A.6 move value           | {"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}} | [{"op":"move","from":"/foo/waldo","path":"/qux/thud"}] | {"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}
            A.7 move array element   | {"foo":["all","grass","cows","eat"]}  | [{"op":"move","from":"/foo/1","path":"/foo/3"}]               | {"foo":["all","cows","eat","grass"]}
            A.8 test success         | {"baz":"qux","foo":["a",2,"c"]}       | [{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}] | {"baz":"qux","foo":["a",2,"c"]}
            A.10 add nested member   | {"foo":"bar"}                         | [{"op":"add","path":"/child","value":{"grandchild":{}}}]      | {"foo":"bar","child":{"grandchild":{}}}
            A.11 ignore unknown keys | {"foo":"bar"}                         | [{"op":"add","path":"/baz","value":"qux","xyz":123}]          | {"foo":"bar","baz":"qux"}
            A.14 escape ordering     | {"/":9,"~1":10}                       | [{"op":"test","path":"/~01","value":10}]                      | {"/":9,"~1":10}
            A.16 append with dash    | {"foo":["bar"]}                       | [{"op":"add","path":"/foo/-","value":["abc","def"]}]          | {"foo":["bar",["abc","def"]]}
            escaped slash and tilde  | {"metadata":{"labels":{}}}            | [{"op":"add","path":"/metadata/labels/app.kubernetes.io~1name","value":"web"},{"op":"add","path":"/metadata/labels/a~0b","value":"x"}] | {"metadata":{"labels":{"app.kubernetes.io/name":"web","a~b":"x"}}}
            copy                     | {"a":{"b":1}}                         | [{"op":"copy","from":"/a","path":"/c"}]                       | {"a":{"b":1},"c":{"b":1}}
            """)
    void rfc6902Examples(String name, String target, String ops, String expected) {
        assertThat(patch(target, ops)).isEqualTo(json(expected));
    }

    @Test
    @DisplayName("copy makes an independent value: a later change to the copy leaves the source alone")
    void copyIsDeep() {
        JsonNode out = patch("{\"a\":{\"b\":1}}",
                "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"},{\"op\":\"replace\",\"path\":\"/c/b\",\"value\":2}]");
        assertThat(out).isEqualTo(json("{\"a\":{\"b\":1},\"c\":{\"b\":2}}"));
    }

    @Test
    @DisplayName("kubectl patch --type=json on a Deployment: replace an image, append a container port")
    void kubectlStyle() {
        String deployment = """
                {"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25","ports":[{"containerPort":80}]}]}}}}""";
        JsonNode out = patch(deployment, """
                [{"op":"test","path":"/spec/replicas","value":1},
                 {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.27"},
                 {"op":"add","path":"/spec/template/spec/containers/0/ports/-","value":{"containerPort":443}}]""");
        assertThat(out.at("/spec/template/spec/containers/0/image").asText()).isEqualTo("nginx:1.27");
        assertThat(out.at("/spec/template/spec/containers/0/ports")).isEqualTo(json("[{\"containerPort\":80},{\"containerPort\":443}]"));
    }

    // the leniencies of evanphx/json-patch v4 that kube-apiserver inherits

    @Test
    @DisplayName("replace of a missing object member adds it (evanphx v4), instead of failing as RFC 6902 says")
    void replaceMissingMemberAdds() {
        assertThat(patch("{\"metadata\":{}}", "[{\"op\":\"replace\",\"path\":\"/metadata/labels\",\"value\":{\"a\":\"b\"}}]"))
                .isEqualTo(json("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}"));
    }

    @Test
    @DisplayName("negative array indices count from the end")
    void negativeIndices() {
        assertThat(patch("{\"a\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/a/-1\"}]")).isEqualTo(json("{\"a\":[1,2]}"));
        assertThat(patch("{\"a\":[1,2,3]}", "[{\"op\":\"replace\",\"path\":\"/a/-3\",\"value\":0}]")).isEqualTo(json("{\"a\":[0,2,3]}"));
    }

    @Test
    @DisplayName("test of a missing member against null succeeds")
    void testMissingAgainstNull() {
        assertThat(patch("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/b\",\"value\":null}]")).isEqualTo(json("{\"a\":1}"));
    }

    @Test
    @DisplayName("a JSON null body is an empty patch")
    void nullBodyIsNoOp() {
        assertThat(patch("{\"a\":1}", "null")).isEqualTo(json("{\"a\":1}"));
    }

    @Test
    void replaceWholeDocument() {
        assertThat(patch("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]")).isEqualTo(json("{\"b\":2}"));
    }

    // failures

    @Test
    @DisplayName("a failed test is 422 Invalid with kube-apiserver's generic message and no causes")
    void failedTestIs422() {
        assertThatThrownBy(() -> patch("{\"spec\":{\"replicas\":2}}", "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":1}]"))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(422);
                    assertThat(e.reason()).isEqualTo("Invalid");
                    assertThat(e.getMessage()).isEqualTo("the server rejected our request due to an error in our request");
                    assertThat(e.causes()).isEmpty();
                    assertThat(e.toStatus().get("code").asInt()).isEqualTo(422);
                });
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            failed test              | {"spec":{"replicas":2}} | [{"op":"test","path":"/spec/replicas","value":1}]  | testing value /spec/replicas failed: test failed
            A.12 add to missing path | {"foo":"bar"}           | [{"op":"add","path":"/baz/bat","value":"qux"}]     | add operation does not apply: doc is missing path: "/baz/bat": missing value
            remove missing member    | {"a":{}}                | [{"op":"remove","path":"/a/b"}]                    | error in remove for path: '/a/b': Unable to remove nonexistent key: b: missing value
            add past the end         | {"a":[1]}               | [{"op":"add","path":"/a/5","value":2}]             | error in add for path: '/a/5': Unable to access invalid index: 5: invalid index referenced
            add at a bad index       | {"a":[1]}               | [{"op":"add","path":"/a/x","value":2}]             | error in add for path: '/a/x': value was not a proper array index: 'x': strconv.Atoi: parsing "x": invalid syntax
            replace past the end     | {"a":[1]}               | [{"op":"replace","path":"/a/1","value":2}]         | replace operation does not apply: doc is missing key: /a/1: missing value
            move from missing member | {"a":{}}                | [{"op":"move","from":"/a/b","path":"/c"}]          | error in move for path: 'b': Unable to remove nonexistent key: b: missing value
            A.15 number vs string    | {"/":9,"~1":10}         | [{"op":"test","path":"/~01","value":"10"}]         | testing value /~01 failed: test failed
            unknown op               | {}                      | [{"op":"frobnicate","path":"/a"}]                  | Unexpected kind: frobnicate
            missing op               | {}                      | [{"path":"/a"}]                                    | Unexpected kind: unknown
            """)
    void operationsThatDoNotApply(String name, String target, String ops, String detail) {
        assertThat(failure(target, ops)).isEqualTo(detail);
        assertThatThrownBy(() -> patch(target, ops))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(422));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            an object            | {"op":"add","path":"/a","value":1} | json: cannot unmarshal object into Go value of type jsonpatch.Patch
            an array of strings  | ["add"]                            | json: cannot unmarshal string into Go value of type jsonpatch.Operation
            empty                | ''                                 | unexpected end of JSON input
            """)
    void malformedBodiesAre400(String name, String body, String message) {
        assertThatThrownBy(() -> patch("{}", body))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(400);
                    assertThat(e.reason()).isEqualTo("BadRequest");
                    assertThat(e.getMessage()).isEqualTo(message);
                });
    }

    @Test
    void invalidJsonIs400() {
        assertThatThrownBy(() -> patch("{}", "[{\"op\":"))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(400));
    }

    @Test
    @DisplayName("more than 10000 operations is 413, as kube-apiserver's maxJSONPatchOperations")
    void tooManyOperations() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i <= 10_000; i++) sb.append(i == 0 ? "" : ",").append("{\"op\":\"test\",\"path\":\"/a\",\"value\":1}");
        byte[] body = bytes(sb.append(']').toString());
        assertThatThrownBy(() -> JsonPatch.apply(json("{\"a\":1}"), body))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(413);
                    assertThat(e.getMessage()).isEqualTo("The allowed maximum operations in a JSON patch is 10000, got 10001");
                });
    }

    @Test
    @DisplayName("the target is not modified, even when an operation fails half way")
    void targetUntouched() {
        JsonNode target = json("{\"a\":1,\"b\":[1,2]}");
        JsonNode before = target.deepCopy();
        patch(target.toString(), "[{\"op\":\"remove\",\"path\":\"/a\"}]");
        JsonPatch.apply(target, bytes("[{\"op\":\"remove\",\"path\":\"/a\"},{\"op\":\"add\",\"path\":\"/b/-\",\"value\":3}]"));
        assertThatThrownBy(() -> JsonPatch.apply(target, bytes("[{\"op\":\"remove\",\"path\":\"/a\"},{\"op\":\"remove\",\"path\":\"/zz\"}]")))
                .isInstanceOf(ApiException.class);
        assertThat(target).isEqualTo(before);
    }
}
