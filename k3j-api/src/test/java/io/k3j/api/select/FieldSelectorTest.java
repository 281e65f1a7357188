package io.k3j.api.select;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.api.ApiException;
import io.k3j.api.select.FieldSelector.Operator;
import io.k3j.api.select.FieldSelector.Requirement;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FieldSelectorTest {

    @Test
    void parsesSortsAndPrints() {
        FieldSelector s = FieldSelector.parse("status.phase!=Running,metadata.name==web,spec.nodeName=");
        assertThat(s.requirements()).containsExactly(
                new Requirement("metadata.name", Operator.EQUALS, "web"),
                new Requirement("spec.nodeName", Operator.EQUALS, ""),
                new Requirement("status.phase", Operator.NOT_EQUALS, "Running"));
        assertThat(s.toString()).isEqualTo("metadata.name=web,spec.nodeName=,status.phase!=Running");
    }

    @Test
    void unescapesValues() {
        FieldSelector s = FieldSelector.parse("a=x\\,y\\=z\\\\,b=1");
        assertThat(s.requirements()).containsExactly(
                new Requirement("a", Operator.EQUALS, "x,y=z\\"),
                new Requirement("b", Operator.EQUALS, "1"));
        assertThat(s.toString()).isEqualTo("a=x\\,y\\=z\\\\,b=1");
    }

    @Test
    void emptyInputAndEmptyTermsMeanEverything() {
        assertThat(FieldSelector.parse("").isEmpty()).isTrue();
        assertThat(FieldSelector.parse(null)).isSameAs(FieldSelector.EVERYTHING);
        assertThat(FieldSelector.parse(",,=").isEmpty()).isTrue();
    }

    @Test
    void rejectsWithKubernetesMessages() {
        assertThatThrownBy(() -> FieldSelector.parse("a,b=c"))
                .isInstanceOf(ApiException.class)
                .hasMessage("invalid selector: 'a,b=c'; can't understand 'a'");
        assertThatThrownBy(() -> FieldSelector.parse("a=b\\c")).hasMessage("invalid field selector: invalid escape sequence: \\c");
        assertThatThrownBy(() -> FieldSelector.parse("a=b\\")).hasMessage("invalid field selector: invalid escape sequence: \\");
        assertThatThrownBy(() -> FieldSelector.parse("a=b=c")).hasMessage("invalid field selector: unescaped character in value: 61");
    }

    @Test
    void matchesMissingFieldsAsEmpty() {
        Map<String, String> pod = Map.of("metadata.name", "web", "status.phase", "Running");
        assertThat(FieldSelector.parse("metadata.name=web").matches(pod::get)).isTrue();
        assertThat(FieldSelector.parse("metadata.name!=web").matches(pod::get)).isFalse();
        assertThat(FieldSelector.parse("spec.nodeName=").matches(pod::get)).isTrue();
        assertThat(FieldSelector.parse("spec.nodeName!=").matches(pod::get)).isFalse();
        assertThat(FieldSelector.parse("metadata.name=web,status.phase=Pending").matches(pod::get)).isFalse();
        assertThat(FieldSelector.parse("metadata.name=web").requiresExactMatch("metadata.name")).contains("web");
    }

    @Test
    void unsupportedFieldIsBadRequest() {
        FieldSelector s = FieldSelector.parse("metadata.name=a,spec.foo=b");
        assertThatThrownBy(() -> s.requireSupported(Set.of("metadata.name", "metadata.namespace")))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(400))
                .hasMessage("field label not supported: spec.foo");
    }
}
