package io.k3j.apiserver.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;

/**
 * A request as the API layer sees it: method, decoded path and query, headers, the whole body (bounded by the
 * server's body limit) and the TLS client certificates, if any.
 */
public final class ApiRequest {
    private final String method;
    private final String path;
    private final Map<String, List<String>> query;
    private final HttpHeaders headers;
    private final byte[] body;
    private final X509Certificate[] peerCertificates;
    private final String remoteAddress;

    public ApiRequest(String method, String uri, HttpHeaders headers, byte[] body, X509Certificate[] peerCertificates, String remoteAddress) {
        QueryStringDecoder decoder = new QueryStringDecoder(uri);
        this.method = method;
        this.path = decoder.path();
        this.query = decoder.parameters();
        this.headers = headers;
        this.body = body;
        this.peerCertificates = peerCertificates;
        this.remoteAddress = remoteAddress;
    }

    public String method() {
        return method;
    }

    public String path() {
        return path;
    }

    /** The first value of a query parameter, or null. */
    public String param(String name) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    public List<String> params(String name) {
        return query.getOrDefault(name, List.of());
    }

    public Map<String, List<String>> query() {
        return query;
    }

    public String header(String name) {
        return headers.get(name);
    }

    public HttpHeaders headers() {
        return headers;
    }

    public byte[] body() {
        return body;
    }

    public X509Certificate[] peerCertificates() {
        return peerCertificates;
    }

    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public String toString() {
        return method + " " + path + (query.isEmpty() ? "" : "?" + query);
    }
}
