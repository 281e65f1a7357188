package io.k3j.agent.pod;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.agent.cri.CriException;
import io.k3j.agent.cri.RuntimeService;
import io.k3j.agent.cri.v1.ExecSyncRequest;
import io.k3j.agent.cri.v1.ExecSyncResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Runs one probe or lifecycle handler (exec, httpGet, tcpSocket, grpc) against a container, as kubelet's prober does:
 * exec through CRI ExecSync with the probe's timeout, HTTP(S) to the pod IP (certificates not verified, redirects to
 * the same host followed, 2xx/3xx succeed), TCP connect, grpc.health.v1 Check ({@link GrpcHealth}).
 */
final class Prober implements AutoCloseable {
    /** kubelet sends {@code kube-probe/<major>.<minor>}. */
    static final String USER_AGENT = "kube-probe/1.32";
    private static final int MAX_BODY = 10 * 1024;

    private final RuntimeService runtime;
    private final GrpcHealth grpc = new GrpcHealth();

    Prober(RuntimeService runtime) {
        this.runtime = runtime;
    }

    /** Outcome of one run; {@code output} is what kubelet puts after "Liveness probe failed: ". */
    record Result(boolean success, String output) {
        static Result ok(String output) {
            return new Result(true, output);
        }

        static Result fail(String output) {
            return new Result(false, output);
        }
    }

    /** Runs a probe or handler object ({@code exec}/{@code httpGet}/{@code tcpSocket}/{@code grpc}). */
    Result run(JsonNode handler, JsonNode container, String containerId, String podIP, int timeoutSeconds) {
        int timeout = Math.max(1, timeoutSeconds);
        if (handler.has("exec")) return exec(handler.path("exec"), containerId, timeout);
        if (handler.has("httpGet")) return http(handler.path("httpGet"), container, podIP, timeout);
        if (handler.has("tcpSocket")) return tcp(handler.path("tcpSocket"), container, podIP, timeout);
        if (handler.has("grpc")) {
            JsonNode g = handler.path("grpc");
            // the grpc handler has no host (the API rejects one) and a numeric port only
            return grpc.check(podIP, g.path("port").asInt(), g.path("service").asText(""), timeout);
        }
        if (handler.has("sleep")) {
            long s = handler.path("sleep").path("seconds").asLong(0);
            try {
                Thread.sleep(s * 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Result.ok("");
        }
        return Result.fail("missing probe handler");
    }

    private Result exec(JsonNode exec, String containerId, int timeout) {
        List<String> cmd = new ArrayList<>();
        for (JsonNode a : exec.path("command")) cmd.add(a.asText());
        try {
            ExecSyncResponse r = runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(containerId).addAllCmd(cmd).setTimeout(timeout).build());
            String out = r.getStdout().toString(StandardCharsets.UTF_8) + r.getStderr().toString(StandardCharsets.UTF_8);
            if (r.getExitCode() == 0) return Result.ok(out);
            return Result.fail(out.isEmpty() ? "command " + quote(cmd) + " exited with " + r.getExitCode() : out);
        } catch (CriException e) {
            if (e.deadlineExceeded() || String.valueOf(e.statusMessage()).contains("timeout")) {
                return Result.fail("command " + quote(cmd) + " timed out");
            }
            return Result.fail(e.statusMessage());
        }
    }

    private static String quote(List<String> cmd) {
        return "\"" + String.join(" ", cmd) + "\"";
    }

    private Result http(JsonNode get, JsonNode container, String podIP, int timeout) {
        String scheme = get.path("scheme").asText("HTTP").toLowerCase(java.util.Locale.ROOT);
        String host = get.path("host").asText("");
        if (host.isEmpty()) host = podIP;
        int port = port(get.path("port"), container, scheme.equals("https") ? 443 : 80);
        String path = get.path("path").asText("/");
        if (!path.startsWith("/")) path = "/" + path;
        String hostPort = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        String url = scheme + "://" + hostPort + path;
        HttpURLConnection c = null;
        try {
            c = (HttpURLConnection) URI.create(url).toURL().openConnection(java.net.Proxy.NO_PROXY);
            if (c instanceof HttpsURLConnection s) {
                s.setSSLSocketFactory(TRUST_ALL.getSocketFactory());
                s.setHostnameVerifier((h, sess) -> true);
            }
            c.setConnectTimeout(timeout * 1000);
            c.setReadTimeout(timeout * 1000);
            c.setInstanceFollowRedirects(true);
            c.setRequestProperty("User-Agent", USER_AGENT);
            c.setRequestProperty("Accept", "*/*");
            for (JsonNode h : get.path("httpHeaders")) c.setRequestProperty(h.path("name").asText(), h.path("value").asText());
            int code = c.getResponseCode();
            String body = body(code >= 400 ? c.getErrorStream() : c.getInputStream());
            if (code >= 200 && code < 400) return Result.ok(body);
            return Result.fail("HTTP probe failed with statuscode: " + code);
        } catch (java.net.SocketTimeoutException e) {
            return Result.fail("Get \"" + url + "\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
        } catch (java.net.ConnectException e) {
            return Result.fail("Get \"" + url + "\": dial tcp " + hostPort + ": connect: connection refused");
        } catch (IOException | IllegalArgumentException e) {
            return Result.fail("Get \"" + url + "\": " + e.getMessage());
        } finally {
            if (c != null) c.disconnect();
        }
    }

    private static String body(InputStream in) throws IOException {
        if (in == null) return "";
        try (in) {
            return new String(in.readNBytes(MAX_BODY), StandardCharsets.UTF_8);
        }
    }

    private Result tcp(JsonNode sock, JsonNode container, String podIP, int timeout) {
        String host = sock.path("host").asText("");
        if (host.isEmpty()) host = podIP;
        int port = port(sock.path("port"), container, 0);
        String hostPort = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        try (Socket s = new Socket(java.net.Proxy.NO_PROXY)) {
            s.connect(new InetSocketAddress(host, port), timeout * 1000);
            return Result.ok("");
        } catch (java.net.SocketTimeoutException e) {
            return Result.fail("dial tcp " + hostPort + ": i/o timeout");
        } catch (java.net.ConnectException e) {
            return Result.fail("dial tcp " + hostPort + ": connect: connection refused");
        } catch (IOException | IllegalArgumentException e) {
            return Result.fail("dial tcp " + hostPort + ": " + e.getMessage());
        }
    }

    /** Stops the gRPC probes' event loop. */
    @Override
    public void close() {
        grpc.close();
    }

    /** A port by number or by the name of one of the container's ports. */
    static int port(JsonNode port, JsonNode container, int dflt) {
        if (port.isInt() || port.isLong()) return port.asInt();
        String s = port.asText("");
        if (s.isEmpty()) return dflt;
        if (s.chars().allMatch(Character::isDigit)) return Integer.parseInt(s);
        for (JsonNode p : container.path("ports")) if (p.path("name").asText().equals(s)) return p.path("containerPort").asInt();
        return -1;
    }

    private static final SSLContext TRUST_ALL = trustAll();

    private static SSLContext trustAll() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new X509TrustManager() {
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
            }}, new SecureRandom());
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
