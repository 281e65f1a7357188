package io.k3j.agent.ingress;

import io.netty.channel.Channel;

/**
 * The client side an upstream connection currently serves: {@link ClientHandler} (HTTP/2 streams, decoded messages)
 * or {@link Http1Proxy} (HTTP/1.1 connections, raw bytes). Every call comes on the loop both channels share.
 */
interface UpstreamOwner {
    /** What the endpoint sent: an HTTP object behind a codec, a {@code ByteBuf} on a raw connection. */
    void upstreamRead(Channel up, Object msg);

    /** The end of one read from the endpoint: time to flush towards the client. */
    void upstreamReadComplete();

    /** A writability change on either side. */
    void updateReading();

    /** The endpoint's connection closed. */
    void upstreamClosed(Channel up);
}
