package io.k3j.api.select;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.api.select.LabelSelector.Operator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LabelSelectorTest {

    private static final String VALUE_RULE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            + "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
            + "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    private static final String NAME_RULE = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            + "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            + "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    // The good strings of Kubernetes' TestSelectorParse: they print back without their spaces.
    @ParameterizedTest
    @ValueSource(strings = {"x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"})
    void goodStringsRoundTrip(String in) {
        assertThat(LabelSelector.parse(in).toString()).isEqualTo(in.replace(" ", ""));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "z=1,a=2|a=2,z=1",
        "x in (b,a,b)|x in (a,b)",
        "x notin (c)|x notin (c)",
        "  app == web , !legacy|app==web,!legacy",
        "tier in (),a|a,tier in ()",
        "in in (in,notin)|in in (in,notin)",
        "example.com/role|example.com/role",
    })
    void printsCanonicalForm(String in, String canonical) {
        assertThat(LabelSelector.parse(in).toString()).isEqualTo(canonical);
    }

    @Test
    void parsesOperatorsAndValues() {
        LabelSelector s = LabelSelector.parse("env in (prod, qa),tier notin (db),app,!old,n>3");
        assertThat(s.requirements()).containsExactly(
                new LabelSelector.Requirement("app", Operator.EXISTS, List.of()),
                new LabelSelector.Requirement("env", Operator.IN, List.of("prod", "qa")),
                new LabelSelector.Requirement("n", Operator.GREATER_THAN, List.of("3")),
                new LabelSelector.Requirement("old", Operator.DOES_NOT_EXIST, List.of()),
                new LabelSelector.Requirement("tier", Operator.NOT_IN, List.of("db")))
                .isSortedAccordingTo((a, b) -> a.key().compareTo(b.key()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "x==a==b|found '==', expected: ',' or 'end of string'",
        "!x=a|found '=', expected: ',' or 'end of string'",
        ",|found ',', expected: !, identifier, or 'end of string'",
        "a=b,|found '', expected: identifier after ','",
        "!|unable to parse requirement: found '', expected: identifier",
        "a b|unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
        "a in b|unable to parse requirement: found 'b' expected: '('",
        "a in (b|unable to parse requirement: found '', expected: ',' or ')'",
        "a in (b c)|unable to parse requirement: found 'c', expected: ',' or ')'",
        "a in (=)|unable to parse requirement: found '=', expected: ',', ')' or identifier",
        "a=(|unable to parse requirement: found '(', expected: identifier",
        "x<a|`unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer`",
    })
    void rejectsWithKubernetesMessages(String in, String message) {
        assertThatThrownBy(() -> LabelSelector.parse(in))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.code()).isEqualTo(400);
                    assertThat(e.reason()).isEqualTo("BadRequest");
                })
                .hasMessage(message);
    }

    @Test
    void invalidKeyAndValueUseFieldErrorText() {
        assertThatThrownBy(() -> LabelSelector.parse("-a=b"))
                .hasMessage("unable to parse requirement: <nil>: Invalid value: \"-a\": name part " + NAME_RULE);
        assertThatThrownBy(() -> LabelSelector.parse("x=a||y=b"))
                .hasMessage("unable to parse requirement: values[0][x]: Invalid value: \"a||y\": " + VALUE_RULE);
        assertThatThrownBy(() -> LabelSelector.parse("a/b/c"))
                .hasMessageStartingWith("unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of");
        assertThatThrownBy(() -> LabelSelector.parse("Example.com/x"))
                .hasMessageContaining("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters");
        assertThatThrownBy(() -> LabelSelector.parse("k=" + "v".repeat(64)))
                .hasMessageContaining("must be no more than 63 characters");
    }

    @Test
    void matchesLikeKubernetes() {
        var labels = Json.parseObject("{\"app\":\"web\",\"tier\":\"front\",\"n\":\"10\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(LabelSelector.parse("app=web").matches(labels)).isTrue();
        assertThat(LabelSelector.parse("app!=web").matches(labels)).isFalse();
        assertThat(LabelSelector.parse("missing!=x").matches(labels)).isTrue();
        assertThat(LabelSelector.parse("missing notin (x)").matches(labels)).isTrue();
        assertThat(LabelSelector.parse("tier in (back,front)").matches(labels)).isTrue();
        assertThat(LabelSelector.parse("tier,!missing").matches(labels)).isTrue();
        assertThat(LabelSelector.parse("n>9,n<11").matches(labels)).isTrue();
        assertThat(LabelSelector.parse("app>1").matches(labels)).isFalse();
        assertThat(LabelSelector.parse("app=web,tier=back").matches(labels)).isFalse();
        assertThat(LabelSelector.parse("app=web").matches((com.fasterxml.jackson.databind.JsonNode) null)).isFalse();
        assertThat(LabelSelector.parse("").matches(labels)).isTrue();
        assertThat(LabelSelector.EVERYTHING.isEmpty()).isTrue();
    }

    @Test
    void nullSelectorObjectMatchesNothingButEmptyMatchesEverything() {
        var labels = Json.parseObject("{\"app\":\"web\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(LabelSelector.fromJson(null)).isSameAs(LabelSelector.NOTHING);
        assertThat(LabelSelector.fromJson(Json.NODES.nullNode()).matches(labels)).isFalse();
        assertThat(LabelSelector.fromJson(Json.object()).matches(labels)).isTrue();
        assertThat(LabelSelector.NOTHING.toString()).isEmpty();
        assertThat(LabelSelector.NOTHING.isEmpty()).isFalse();
    }

    @Test
    void convertsMetav1LabelSelector() {
        var sel = LabelSelector.fromJson(Json.parseObject(("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
                + "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"b\",\"a\"]},"
                + "{\"key\":\"canary\",\"operator\":\"DoesNotExist\"},"
                + "{\"key\":\"env\",\"operator\":\"Exists\"}]}").getBytes(StandardCharsets.UTF_8)));
        assertThat(sel.toString()).isEqualTo("app=web,!canary,env,tier in (a,b)");
        assertThat(sel.matches(Map.of("app", "web", "env", "x", "tier", "a"))).isTrue();
        assertThat(sel.matches(Map.of("app", "web", "env", "x", "tier", "a", "canary", ""))).isFalse();
    }

    @Test
    void rejectsBadMetav1Selectors() {
        assertThatThrownBy(() -> LabelSelector.fromJson(Json.parseObject(
                "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}".getBytes(StandardCharsets.UTF_8))))
                .hasMessage("\"Foo\" is not a valid label selector operator");
        assertThatThrownBy(() -> LabelSelector.fromJson(Json.parseObject(
                "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}".getBytes(StandardCharsets.UTF_8))))
                .hasMessage("values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty");
        assertThatThrownBy(() -> LabelSelector.fromJson(Json.parseObject(
                "{\"matchExpressions\":[{\"key\":\"-a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}".getBytes(StandardCharsets.UTF_8))))
                .hasMessage("[key: Invalid value: \"-a\": name part " + NAME_RULE
                        + ", values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist]");
    }

    @Test
    void exactMatchForIndexes() {
        assertThat(LabelSelector.parse("a=1,b in (2),c in (3,4)").requiresExactMatch("a")).contains("1");
        assertThat(LabelSelector.parse("a=1,b in (2),c in (3,4)").requiresExactMatch("b")).contains("2");
        assertThat(LabelSelector.parse("a=1,b in (2),c in (3,4)").requiresExactMatch("c")).isEmpty();
        assertThat(LabelSelector.fromMap(Map.of("b", "2", "a", "1")).toString()).isEqualTo("a=1,b=2");
    }
}
