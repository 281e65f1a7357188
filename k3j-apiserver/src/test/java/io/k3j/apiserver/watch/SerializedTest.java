package io.k3j.apiserver.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("A cached object's JSON spliced from its stored bytes is the JSON of the object clients see")
class SerializedTest {

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"}{\\\"\"},\"managedFields\":[{\"fieldsV1\":{\"f:spec\":{\"f:x\":{}}}}]},\"spec\":{\"n\":[1,2.5,{\"k\":null}],\"b\":true}}",
        "{\"metadata\":{},\"data\":{\"k\":\"v\"}}",
        "{\"kind\":\"ConfigMap\",\"data\":{\"metadata\":\"not this one\",\"x\":\"\\\\\"},\"metadata\":{\"name\":\"late\"}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"e\",\"namespace\":\"ns\",\"uid\":\"u\"},\"message\":\"é ünïcode\",\"count\":12}"
    })
    @DisplayName("byte for byte what serializing the decoded tree gives, kept or spliced each time")
    void sameAsSerializingTheTree(String storedJson) throws java.io.IOException {
        byte[] stored = storedJson.getBytes(StandardCharsets.UTF_8);
        ObjectNode obj = WatchCache.decode(stored, 42);
        String expected = text(Json.bytes(obj));
        for (boolean keep : new boolean[] {true, false}) {
            Serialized s = Serialized.ofStored(obj, stored, 42, keep);
            assertThat(Serialized.metadataEnd(stored)).isPositive();
            assertThat(text(s.bytes())).isEqualTo(expected);
            assertThat(s.length()).isEqualTo(expected.getBytes(StandardCharsets.UTF_8).length);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            s.writeTo(out);
            assertThat(text(out.toByteArray())).isEqualTo(expected);
            assertThat(s.bytes() == s.bytes()).as("kept: %s", keep).isEqualTo(keep);
        }
    }

    @Test
    @DisplayName("stored JSON as others write it (spaces, escapes Jackson would not write): the same object")
    void whitespace() {
        byte[] stored = "{ \"kind\" : \"\\u2028\" ,\n \"metadata\" : { \"name\" : \"a\" } , \"z\" : [ 1 , 2 ] }".getBytes(StandardCharsets.UTF_8);
        ObjectNode obj = WatchCache.decode(stored, 7);
        byte[] spliced = Serialized.ofStored(obj, stored, 7, false).bytes();
        assertThat(Json.parseObject(spliced)).isEqualTo(obj);
        byte[] empty = "{\"metadata\": { } }".getBytes(StandardCharsets.UTF_8);
        assertThat(Json.parseObject(Serialized.ofStored(WatchCache.decode(empty, 8), empty, 8, false).bytes()))
                .isEqualTo(WatchCache.decode(empty, 8));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"kind\":\"X\"}",
        "{\"kind\":\"X\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"3\"}}",
        "{\"metadata\":null}",
        "{\"metadata\":{\"name\":\"a\"",
    })
    @DisplayName("no metadata object, a stored resourceVersion or broken JSON: the tree is serialized instead")
    void fallsBackToTheTree(String storedJson) throws java.io.IOException {
        byte[] stored = storedJson.getBytes(StandardCharsets.UTF_8);
        assertThat(Serialized.metadataEnd(stored)).isEqualTo(-1);
        ObjectNode obj = (ObjectNode) Json.parse("{\"kind\":\"X\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"9\"}}".getBytes(StandardCharsets.UTF_8));
        Serialized s = Serialized.ofStored(obj, stored, 9, false);
        assertThat(text(s.bytes())).isEqualTo(text(Json.bytes(obj)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        s.writeTo(out);
        assertThat(text(out.toByteArray())).isEqualTo(text(Json.bytes(obj)));
    }
}
