package io.k3j.bench;

import java.net.http.HttpClient;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/** JDK HttpClient factories: one client is one connection for sequential use (HTTP/1.1 keep-alive or HTTP/2). */
final class Http {

    private Http() {
    }

    static HttpClient client(SSLContext ssl, HttpClient.Version version) {
        HttpClient.Builder b = HttpClient.newBuilder().version(version).connectTimeout(Duration.ofSeconds(5));
        if (ssl != null) {
            b.sslContext(ssl);
        }
        return b.build();
    }
}
