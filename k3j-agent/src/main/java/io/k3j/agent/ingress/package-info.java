/**
 * The node's ingress controller (Traefik's job in k3s): {@link io.k3j.agent.ingress.IngressController} routes the
 * Ingresses of the {@code k3j} class to the ready endpoints of their Services through a Netty reverse proxy on the
 * node's pod gateway address, ports 80 and 443.
 *
 * <pre>
 * IngressController  informers → RouteCompiler → Routes (+ SNI map from Certificates), rebuilt debounced, swapped whole
 * IngressProxy       listeners: cleartext (HTTP/1.1, h2c prior knowledge) and TLS (SNI, ALPN h2/http/1.1)
 * Http1Proxy         one per HTTP/1.x connection: heads scanned and copied as bytes (Http1Head, Http1Chunks), bodies
 *                    passed as slices, 400/404/502/503, WebSocket splice
 * ClientHandler      one per HTTP/2 stream: the same job on decoded messages (Netty's HTTP codecs)
 * UpstreamPool       keep-alive HTTP/1.1 connections to endpoints, per event loop (raw for Http1Proxy, with a codec
 *                    for ClientHandler)
 * </pre>
 */
package io.k3j.agent.ingress;
