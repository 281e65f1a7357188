package io.k3j.apiserver.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * {@link Members} over etcd's JSON gateway ({@code POST /v3/cluster/member/*} on the client port, which etcd 3.4
 * serves beside gRPC), tried on each endpoint in turn.
 *
 * <p>Stopgap until {@code io.k3j.store.etcd.EtcdCluster} (the gRPC client of the etcd store) is merged: the member
 * calls are three small JSON requests, so joining could be built and tested before it.
 */
final class GatewayMembers implements Members {
    private final List<URI> endpoints;
    private final HttpClient http;

    GatewayMembers(List<String> endpoints, SSLContext tls) {
        if (endpoints.isEmpty()) throw new IllegalArgumentException("no etcd endpoints to reach the cluster through");
        this.endpoints = endpoints.stream().map(URI::create).toList();
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(3))
                .version(HttpClient.Version.HTTP_1_1).build();
    }

    @Override
    public List<Member> list() throws IOException {
        return members(call("/v3/cluster/member/list", Json.object()));
    }

    @Override
    public List<Member> add(List<String> peerUrls) throws IOException {
        ObjectNode body = Json.object();
        var urls = body.putArray("peerURLs");
        peerUrls.forEach(urls::add);
        return members(call("/v3/cluster/member/add", body));
    }

    @Override
    public void remove(long id) throws IOException {
        ObjectNode body = Json.object();
        body.put("ID", Long.toUnsignedString(id));
        call("/v3/cluster/member/remove", body);
    }

    private static List<Member> members(JsonNode answer) {
        List<Member> out = new ArrayList<>();
        for (JsonNode m : answer.path("members")) {
            List<String> peers = new ArrayList<>();
            m.path("peerURLs").forEach(n -> peers.add(n.asText()));
            List<String> clients = new ArrayList<>();
            m.path("clientURLs").forEach(n -> clients.add(n.asText()));
            out.add(new Member(Long.parseUnsignedLong(m.path("ID").asText("0")), m.path("name").asText(""), peers, clients));
        }
        return out;
    }

    private JsonNode call(String path, ObjectNode body) throws IOException {
        IOException last = null;
        for (URI endpoint : endpoints) {
            try {
                HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(endpoint.resolve(path))
                        .timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.bytes(body))).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                JsonNode answer = Json.parse(r.body());
                if (r.statusCode() != 200) {
                    // a definite answer from the cluster (e.g. "Peer URLs already exists"): no other member will say otherwise
                    throw new EtcdError(endpoint + path + ": " + answer.path("error").asText(answer.path("message").asText(Json.string(answer))));
                }
                return answer;
            } catch (EtcdError e) {
                throw e;
            } catch (IOException e) {
                last = new IOException(endpoint + path + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted calling etcd", e);
            }
        }
        throw last;
    }

    /** An error answer from etcd itself. */
    static final class EtcdError extends IOException {
        EtcdError(String message) {
            super(message);
        }
    }
}
