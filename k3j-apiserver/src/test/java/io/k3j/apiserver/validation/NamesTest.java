package io.k3j.apiserver.validation;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NamesTest {

    @Test
    void subdomainLengthAndShape() {
        assertThat(Names.isDNS1123Subdomain("a.b-c.d")).isEmpty();
        assertThat(Names.isDNS1123Subdomain("a".repeat(254))).first().isEqualTo("must be no more than 253 characters");
        assertThat(Names.isDNS1123Label("a".repeat(64))).containsExactly("must be no more than 63 characters");
    }

    @Test
    void qualifiedNamePrefix() {
        assertThat(Names.isQualifiedName("example.com/name")).isEmpty();
        assertThat(Names.isQualifiedName("/name")).containsExactly("prefix part must be non-empty");
        assertThat(Names.isQualifiedName("Example.com/name")).singleElement().asString().startsWith("prefix part a lowercase RFC 1123 subdomain");
        assertThat(Names.isQualifiedName("example.com/")).first().isEqualTo("name part must be non-empty");
    }

    @Test
    void pathSegments() {
        assertThat(Names.isPathSegmentName("..")).containsExactly("may not be '..'");
        assertThat(Names.isPathSegmentName("a/b%c")).containsExactly("may not contain '/'", "may not contain '%'");
        assertThat(Names.isPathSegmentName("system:masters")).isEmpty();
    }

    // Error texts of robfig/cron's standard parser, which CronJob validation reports.
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "*/5 * * * *|", "0 0 * * MON-FRI|", "@hourly|", "0 0 1 JAN *|", "15,45 9-17 * * 1-5|",
            "* * *|expected exactly 5 fields, found 3: * * *",
            "0 24 * * *|end of range (24) above maximum (23): 24",
            "0 0 0 * *|beginning of range (0) below minimum (1): 0",
            "5-1 * * * *|beginning of range (5) beyond end of range (1): 5-1",
            "*/0 * * * *|step of range should be a positive number: */0",
            "@often|unrecognized descriptor: @often"})
    void cron(String spec, String error) {
        assertThat(Cron.check(spec)).isEqualTo(error);
    }
}
