package io.k3j.apiserver.http;

/** Handles one request; runs on a virtual thread, so it may block. */
@FunctionalInterface
public interface HttpHandler {
    void handle(ApiRequest request, HttpExchange exchange) throws Exception;
}
