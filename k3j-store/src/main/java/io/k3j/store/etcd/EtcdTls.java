package io.k3j.store.etcd;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/**
 * TLS for https etcd endpoints, as k3s's {@code --datastore-cafile/--datastore-certfile/--datastore-keyfile}: PEM
 * files. The server's certificate must chain to {@code caFile} (the JDK's trusted roots when null) and name the
 * endpoint's host. {@code certFile}/{@code keyFile} are the client certificate etcd asks for with
 * {@code --client-cert-auth}; both or neither. The key is PKCS#8 ("BEGIN PRIVATE KEY"), or any PEM key when
 * BouncyCastle's bcpkix is on the class path (Netty then reads it).
 */
public record EtcdTls(Path caFile, Path certFile, Path keyFile) {

    public EtcdTls {
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("datastore certfile and keyfile go together (got certfile " + certFile + ", keyfile " + keyFile + ")");
        }
        for (Path p : new Path[] {caFile, certFile, keyFile}) {
            if (p != null && !Files.isReadable(p)) throw new IllegalArgumentException("cannot read " + p);
        }
    }

    /** The client context: ALPN offers only "h2", since gRPC needs HTTP/2. */
    SslContext sslContext() {
        try {
            SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(SslProvider.JDK)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2));
            if (caFile != null) b.trustManager(caFile.toFile());
            if (certFile != null) b.keyManager(certFile.toFile(), keyFile.toFile());
            SslContext ctx = b.build();
            // the JDK's first engine initialises its TLS machinery, seconds on a busy machine: do it here rather
            // than on the event loop inside a connect timeout
            ReferenceCountUtil.release(ctx.newEngine(ByteBufAllocator.DEFAULT));
            return ctx;
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("datastore TLS files (ca " + caFile + ", cert " + certFile + ", key " + keyFile
                    + "): " + e.getMessage(), e);
        }
    }
}
