package io.k3j.apiserver.endpoints;

import io.k3j.apiserver.http.HttpExchange;
import io.k3j.apiserver.registry.Warnings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts a request's {@link Warnings} on its response as {@code Warning: 299 - "<text>"} (RFC 7234 §5.5, the form
 * kube-apiserver sends and client-go parses). The exchange takes one value per header name, so several warnings
 * go comma-separated in one header, which the RFC allows and client-go's {@code ParseWarningHeaders} reads.
 */
final class WarningExchange implements HttpExchange {
    private final HttpExchange delegate;
    private final Warnings warnings;

    WarningExchange(HttpExchange delegate, Warnings warnings) {
        this.delegate = delegate;
        this.warnings = warnings;
    }

    Warnings warnings() {
        return warnings;
    }

    /** The collector of {@code ex} if it is one of these, else a fresh one nobody reads. */
    static Warnings of(HttpExchange ex) {
        return ex instanceof WarningExchange w ? w.warnings : new Warnings();
    }

    @Override
    public void send(int status, String contentType, byte[] body, Map<String, String> headers) {
        delegate.send(status, contentType, body, withWarnings(headers));
    }

    @Override
    public Stream stream(int status, String contentType, Map<String, String> headers) {
        return delegate.stream(status, contentType, withWarnings(headers));
    }

    @Override
    public boolean responded() {
        return delegate.responded();
    }

    private Map<String, String> withWarnings(Map<String, String> headers) {
        List<String> texts = warnings.list();
        if (texts.isEmpty()) return headers;
        Map<String, String> out = new LinkedHashMap<>(headers);
        StringBuilder sb = new StringBuilder();
        for (String t : texts) sb.append(sb.isEmpty() ? "" : ", ").append(headerValue(t));
        out.put("Warning", sb.toString());
        return out;
    }

    /** {@code 299 - "<text>"}: code 299 (miscellaneous persistent warning), no agent, the text Go-quoted. */
    static String headerValue(String text) {
        return "299 - " + GoText.quote(text);
    }
}
