package io.k3j.apiserver.robustness;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * An HTTPS client for tests that talks to a k3j server as the cluster admin (client certificate), over
 * HTTP/1.1 or HTTP/2 with the JDK client, or over a raw TLS socket when the test needs to control the bytes on
 * the wire (oversized bodies the server must refuse before they arrive).
 */
final class TlsClient {
    /** One answer: status code, content type and body. */
    record Answer(int code, String contentType, byte[] body) {
        JsonNode json() {
            return Json.parse(body);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            String t = text();
            return code + " " + contentType + " " + (t.length() > 300 ? t.substring(0, 300) + "..." : t);
        }
    }

    private final String host;
    private final int port;
    private final SSLContext ssl;
    private final HttpClient http1;
    private final HttpClient http2;

    TlsClient(int port, String caPem, String clientCertPem, String clientKeyPem) {
        this.host = "127.0.0.1";
        this.port = port;
        this.ssl = sslContext(caPem, clientCertPem, clientKeyPem);
        this.http1 = HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        this.http2 = HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    int port() {
        return port;
    }

    Answer send(HttpClient.Version version, String method, String path, String contentType, byte[] body) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://" + host + ":" + port + path))
                .timeout(Duration.ofSeconds(60))
                .header("Accept", "application/json");
        if (contentType != null) b.header("Content-Type", contentType);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        HttpClient client = version == HttpClient.Version.HTTP_2 ? http2 : http1;
        try {
            HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (version == HttpClient.Version.HTTP_2 && r.version() != HttpClient.Version.HTTP_2) {
                throw new IOException("server did not negotiate HTTP/2 for " + method + " " + path);
            }
            return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    Answer send(String method, String path, String contentType, byte[] body) throws IOException {
        return send(HttpClient.Version.HTTP_2, method, path, contentType, body);
    }

    Answer get(String path) throws IOException {
        return send("GET", path, null, null);
    }

    Answer post(String path, String json) throws IOException {
        return send("POST", path, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sends request headers (and, when {@code bodyChunks} is given, a chunked body) over HTTP/1.1 on a raw TLS
     * socket and reads the response as soon as it comes, without waiting to finish sending.
     */
    Answer raw(String head, List<byte[]> bodyChunks) throws IOException {
        try (SSLSocket s = (SSLSocket) ssl.getSocketFactory().createSocket(host, port)) {
            s.setSoTimeout(30_000);
            var params = s.getSSLParameters();
            params.setApplicationProtocols(new String[] {"http/1.1"});
            s.setSSLParameters(params);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (bodyChunks != null) {
                try {
                    for (byte[] chunk : bodyChunks) {
                        out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(chunk);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    // the server may answer and close while we are still sending: the answer is what counts
                }
            }
            return readResponse(s.getInputStream());
        }
    }

    /** Reads one HTTP/1.1 response with a Content-Length (the only kind the server sends for errors). */
    private static Answer readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) throw new IOException("connection closed before a response: " + head.toString(StandardCharsets.US_ASCII));
            head.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
        }
        String[] lines = head.toString(StandardCharsets.US_ASCII).split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        int code = Integer.parseInt(statusLine[1]);
        if (code == 100) return readResponse(in);
        int length = 0;
        String contentType = "";
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (name.equals("content-length")) length = Integer.parseInt(value);
            if (name.equals("content-type")) contentType = value;
        }
        return new Answer(code, contentType, in.readNBytes(length));
    }

    private static SSLContext sslContext(String caPem, String certPem, String keyPem) {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (Certificate c : cf.generateCertificates(new java.io.ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII)))) {
                trust.setCertificateEntry("ca" + i++, c);
            }
            List<Certificate> chain = new ArrayList<>(cf.generateCertificates(
                    new java.io.ByteArrayInputStream(certPem.getBytes(StandardCharsets.US_ASCII))));
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            char[] pw = "test".toCharArray();
            keys.setKeyEntry("admin", privateKey(keyPem), pw, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, pw);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException("building the admin client's TLS context", e);
        }
    }

    private static PrivateKey privateKey(String pem) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof PEMKeyPair pair) return converter.getKeyPair(pair).getPrivate();
                if (o instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
            }
        }
        throw new IOException("no private key in PEM");
    }
}
