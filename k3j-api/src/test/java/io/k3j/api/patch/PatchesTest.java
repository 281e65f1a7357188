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

class PatchesTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            application/json-patch+json                    | JSON
            application/merge-patch+json                   | MERGE
            application/strategic-merge-patch+json         | STRATEGIC
            application/apply-patch+yaml                   | APPLY
            application/merge-patch+json; charset=utf-8    | MERGE
            Application/Strategic-Merge-Patch+JSON         | STRATEGIC
            """)
    void contentTypes(String contentType, PatchType expected) {
        assertThat(PatchType.fromContentType(contentType)).isEqualTo(expected);
    }

    @Test
    void unknownContentTypeIs415() {
        for (String ct : new String[] {"application/json", "text/plain", null}) {
            assertThatThrownBy(() -> PatchType.fromContentType(ct))
                    .isInstanceOfSatisfying(ApiException.class, e -> {
                        assertThat(e.code()).isEqualTo(415);
                        assertThat(e.reason()).isEqualTo("UnsupportedMediaType");
                    });
        }
    }

    @Test
    void applyIsRoutedElsewhere() {
        assertThatThrownBy(() -> Patches.apply(PatchType.APPLY, json("{}"), bytes("{}"), PatchSchema.NONE))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("each type dispatches to its engine and leaves the target alone")
    void dispatch() {
        JsonNode target = json("{\"metadata\":{\"name\":\"a\",\"finalizers\":[\"x\"]}}");
        JsonNode before = target.deepCopy();
        assertThat(Patches.apply(PatchType.JSON, target,
                bytes("[{\"op\":\"add\",\"path\":\"/metadata/finalizers/-\",\"value\":\"y\"}]"), PatchSchema.NONE))
                .isEqualTo(json("{\"metadata\":{\"name\":\"a\",\"finalizers\":[\"x\",\"y\"]}}"));
        assertThat(Patches.apply(PatchType.MERGE, target,
                bytes("{\"metadata\":{\"finalizers\":[\"y\"]}}"), PatchSchema.NONE))
                .isEqualTo(json("{\"metadata\":{\"name\":\"a\",\"finalizers\":[\"y\"]}}"));
        assertThat(Patches.apply(PatchType.STRATEGIC, target,
                bytes("{\"metadata\":{\"finalizers\":[\"y\"]}}"), PatchTesting.WORKLOADS))
                .isEqualTo(json("{\"metadata\":{\"name\":\"a\",\"finalizers\":[\"y\",\"x\"]}}"));
        assertThat(Patches.apply(PatchType.STRATEGIC, target,
                bytes("{\"metadata\":{\"finalizers\":[\"y\"]}}"), PatchSchema.NONE))
                .isEqualTo(json("{\"metadata\":{\"name\":\"a\",\"finalizers\":[\"y\"]}}"));
        assertThat(target).isEqualTo(before);
    }

    @Test
    @DisplayName("a patch that leaves no object behind is 422 Invalid on the field \"patch\"")
    void resultMustBeAnObject() {
        assertThatThrownBy(() -> Patches.apply(PatchType.MERGE, json("{\"a\":1}"), bytes("[1]"), PatchSchema.NONE))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(422);
                    assertThat(e.reason()).isEqualTo("Invalid");
                    assertThat(e.causes()).singleElement().satisfies(c -> {
                        assertThat(c.field()).isEqualTo("patch");
                        assertThat(c.reason()).isEqualTo("FieldValueInvalid");
                    });
                });
        assertThatThrownBy(() -> Patches.apply(PatchType.JSON, json("{\"a\":1}"),
                bytes("[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]"), PatchSchema.NONE))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(422));
    }
}
