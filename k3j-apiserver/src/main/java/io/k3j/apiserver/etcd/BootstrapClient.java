package io.k3j.apiserver.etcd;

import io.k3j.apiserver.pki.JoinToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The joining side of {@link BootstrapEndpoints}: fetches the server CA from {@code /cacerts} without trusting it
 * yet, checks it against the hash in the K10 token (k3s's way of pinning the cluster), then fetches the bootstrap
 * data over TLS verified with that CA, authenticated as {@code server:<password>}.
 */
final class BootstrapClient {
    private static final System.Logger LOG = System.getLogger(BootstrapClient.class.getName());

    private final URI server;
    private final JoinToken token;

    /**
     * @throws IllegalArgumentException if the token is malformed
     */
    BootstrapClient(String server, String token) {
        this.server = URI.create(server.endsWith("/") ? server.substring(0, server.length() - 1) : server);
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("joining " + server + " needs the cluster's server token (--token)");
        }
        this.token = JoinToken.parse(token.strip());
    }

    /**
     * Fetches the bootstrap data, retrying while the server cannot be reached (it may be starting).
     *
     * @throws IOException when the server refuses the token, the CA does not match it, or it stays unreachable
     */
    BootstrapData fetch(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return fetchOnce();
            } catch (Refused e) {
                throw new IOException(e.getMessage(), e);
            } catch (IOException e) {
                if (System.nanoTime() > deadline) throw new IOException("fetching bootstrap data from " + server + ": " + e.getMessage(), e);
                LOG.log(System.Logger.Level.INFO, "waiting for " + server + " to hand out bootstrap data: " + e.getMessage());
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", ie);
                }
            }
        }
    }

    /** A definite no from the server or a CA mismatch: retrying won't help. */
    private static final class Refused extends IOException {
        Refused(String message) {
            super(message);
        }
    }

    private BootstrapData fetchOnce() throws IOException {
        byte[] caBundle = get("/cacerts", trustAll(), null);
        try {
            token.verifyCaHash(caBundle);
        } catch (IllegalArgumentException e) {
            throw new Refused(server + " does not serve the cluster CA the token names: " + e.getMessage());
        }
        String basic = "Basic " + Base64.getEncoder().encodeToString(
                (io.k3j.apiserver.pki.ClusterToken.SERVER_USER + ":" + token.password()).getBytes(StandardCharsets.UTF_8));
        return BootstrapData.fromJson(get(BootstrapEndpoints.PATH, trusting(caBundle), basic));
    }

    private byte[] get(String path, SSLContext tls, String authorization) throws IOException {
        HttpsURLConnection c = (HttpsURLConnection) server.resolve(path).toURL().openConnection();
        c.setSSLSocketFactory(tls.getSocketFactory());
        if (tls == TRUST_ALL) {
            // only for /cacerts, whose answer is checked against the token's hash before anything trusts it
            c.setHostnameVerifier((host, session) -> true);
        }
        c.setConnectTimeout(5000);
        c.setReadTimeout(30000);
        if (authorization != null) c.setRequestProperty("Authorization", authorization);
        try {
            int code = c.getResponseCode();
            if (code == 401 || code == 403) {
                throw new Refused(server + path + " answered " + code + ": the token is not this cluster's server token");
            }
            if (code != HttpURLConnection.HTTP_OK) throw new IOException(server + path + " answered " + code);
            try (InputStream in = c.getInputStream()) {
                return in.readAllBytes();
            }
        } finally {
            c.disconnect();
        }
    }

    private static final SSLContext TRUST_ALL = trustAllContext();

    private static SSLContext trustAll() {
        return TRUST_ALL;
    }

    private static SSLContext trustAllContext() {
        X509TrustManager all = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {all}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS is mandatory in every JDK", e);
        }
    }

    private static SSLContext trusting(byte[] caBundle) throws IOException {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(caBundle))) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("reading the cluster CA: " + e.getMessage(), e);
        }
    }
}
