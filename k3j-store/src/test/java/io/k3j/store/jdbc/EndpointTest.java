package io.k3j.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class EndpointTest {

    @Test
    @DisplayName("postgres:// and postgresql:// endpoints as k3s takes them, with driver options from the query")
    void postgres() {
        Endpoint e = Endpoint.parse("postgres://k3s:s%40cret@db.example:5433/cluster?sslmode=disable");
        assertThat(e.dialect()).isEqualTo(Dialect.POSTGRES);
        assertThat(e.host()).isEqualTo("db.example");
        assertThat(e.port()).isEqualTo(5433);
        assertThat(e.database()).isEqualTo("cluster");
        assertThat(e.user()).isEqualTo("k3s");
        assertThat(e.password()).isEqualTo("s@cret");
        assertThat(e.options()).isEqualTo(Map.of("sslmode", "disable"));
        assertThat(e.jdbcUrl(e.database())).isEqualTo("jdbc:postgresql://db.example:5433/cluster");

        Endpoint defaults = Endpoint.parse("postgresql://u@10.0.0.1");
        assertThat(defaults.port()).isEqualTo(5432);
        assertThat(defaults.database()).isEqualTo("kubernetes");
        assertThat(defaults.password()).isEmpty();
    }

    @Test
    @DisplayName("mysql:// endpoints in the Go driver's DSN form, tls= mapped onto the JDBC driver")
    void mysql() {
        Endpoint e = Endpoint.parse("mysql://root:p:w@tcp(192.168.1.5:3307)/k3s?tls=true");
        assertThat(e.dialect()).isEqualTo(Dialect.MYSQL);
        assertThat(e.host()).isEqualTo("192.168.1.5");
        assertThat(e.port()).isEqualTo(3307);
        assertThat(e.database()).isEqualTo("k3s");
        assertThat(e.user()).isEqualTo("root");
        assertThat(e.password()).isEqualTo("p:w");
        assertThat(e.options()).isEqualTo(Map.of("sslMode", "verify-full"));
        assertThat(e.jdbcUrl("x")).isEqualTo("jdbc:mariadb://192.168.1.5:3307/x");

        Endpoint defaults = Endpoint.parse("mysql://u:p@tcp(db)/");
        assertThat(defaults.port()).isEqualTo(3306);
        assertThat(defaults.database()).isEqualTo("kubernetes");
    }

    @Test
    @DisplayName("malformed endpoints fail with IllegalArgumentException naming the accepted forms, never the password")
    void invalid() {
        for (String bad : new String[] {"mysql://u:hunter2@db:3306/k3s", "mysql://u:hunter2@tcp(db:x)/k3s",
                "postgres://u:hunter2@/k3s", "mysql://u:hunter2@tcp(db)", "redis://db", "postgres://u:hunter2@db/a/b"}) {
            assertThatThrownBy(() -> JdbcStore.open(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("postgres://USER:PASSWORD@HOST:PORT/DATABASE")
                    .hasMessageContaining("mysql://USER:PASSWORD@tcp(HOST:PORT)/DATABASE")
                    .hasMessageNotContaining("hunter2");
        }
        assertThat(JdbcStore.accepts("postgres://x")).isTrue();
        assertThat(JdbcStore.accepts("sqlite:///tmp/x")).isFalse();
    }
}
