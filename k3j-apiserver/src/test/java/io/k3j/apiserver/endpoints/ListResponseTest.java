package io.k3j.apiserver.endpoints;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.testing.TestServers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JSON LIST larger than one of the chunks it is sent in (ResourceHandler writes a list in pieces as it goes): the
 * same answer over HTTP/1.1 and HTTP/2, with a Content-Length that matches, each item as a GET returns it, and the
 * connection usable afterwards.
 */
@DisplayName("A large LIST is sent in pieces and arrives whole")
class ListResponseTest {
    static final int CONFIGMAPS = 400; // ~1 KB each: ~3 chunks of 128 KB

    @TempDir static Path dir;
    private static ControlPlane cp;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        cp = TestServers.start(dir);
        base = "https://127.0.0.1:" + cp.port();
        try (HttpClient http = client(HttpClient.Version.HTTP_2)) {
            post(http, "/api/v1/namespaces", "{\"metadata\":{\"name\":\"big\"}}");
            String value = "v".repeat(900);
            for (int i = 0; i < CONFIGMAPS; i++) {
                post(http, "/api/v1/namespaces/big/configmaps", "{\"metadata\":{\"name\":\"cm-" + i + "\"},\"data\":{\"k\":\"" + value + "\"}}");
            }
        }
    }

    @AfterAll
    static void stop() {
        if (cp != null) cp.close();
    }

    static HttpClient client(HttpClient.Version version) throws Exception {
        return HttpClient.newBuilder().sslContext(TestServers.adminTls(cp)).version(version).build();
    }

    static void post(HttpClient http, String path, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    @ParameterizedTest
    @EnumSource(HttpClient.Version.class)
    @DisplayName("over HTTP/1.1 and HTTP/2: Content-Length matches the body, items are the objects, twice on one connection")
    void largeList(HttpClient.Version version) throws Exception {
        try (HttpClient http = client(version)) {
            HttpRequest list = HttpRequest.newBuilder(URI.create(base + "/api/v1/namespaces/big/configmaps"))
                    .header("Accept", "application/json").build();
            for (int round = 0; round < 2; round++) {
                HttpResponse<byte[]> r = http.send(list, HttpResponse.BodyHandlers.ofByteArray());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.version()).isEqualTo(version);
                assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
                assertThat(r.headers().firstValueAsLong("Content-Length")).as("the length announced before the pieces")
                        .hasValue(r.body().length);
                assertThat(r.body().length).isGreaterThan(3 * 128 * 1024);
                JsonNode body = Json.MAPPER.readTree(r.body());
                assertThat(body.path("kind").asText()).isEqualTo("ConfigMapList");
                assertThat(body.path("apiVersion").asText()).isEqualTo("v1");
                assertThat(body.path("metadata").path("resourceVersion").asText()).isNotEmpty();
                JsonNode items = body.path("items");
                assertThat(items).as("ours and the namespace's kube-root-ca.crt").hasSize(CONFIGMAPS + 1);
                for (int i : new int[] {0, CONFIGMAPS / 2, CONFIGMAPS}) {
                    JsonNode item = items.get(i);
                    String name = item.path("metadata").path("name").asText();
                    HttpResponse<byte[]> get = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/namespaces/big/configmaps/" + name))
                            .header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofByteArray());
                    assertThat(item).as("item %s as its GET returns it", name).isEqualTo(Json.MAPPER.readTree(get.body()));
                }
            }
        }
    }
}
