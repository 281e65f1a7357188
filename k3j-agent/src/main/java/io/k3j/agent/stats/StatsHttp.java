package io.k3j.agent.stats;

import io.k3j.api.Json;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;

/**
 * The kubelet API's stats endpoints, for {@code io.k3j.agent.kubelet.KubeletServer}'s router:
 *
 * <pre>
 * GET /stats/summary        Summary API JSON (?only_cpu_and_memory=true leaves file systems out)
 * GET /metrics/resource     resource metrics in the Prometheus text format
 * </pre>
 */
public final class StatsHttp {
    private StatsHttp() {
    }

    /**
     * Answers {@code uri} (path and query) on {@code ch}: 200 with the document, 404 for other paths or when {@code stats} is null
     * (a kubelet without stats), 405 for methods other than GET, 500 with the reason when the runtime failed
     * ({@code /stats/summary} only: the resource metrics report it as {@code resource_scrape_error 1}).
     */
    public static void respond(Channel ch, String method, String uri, StatsProvider stats) {
        QueryStringDecoder q = new QueryStringDecoder(uri);
        String path = q.path();
        boolean cpuAndMemoryOnly = "true".equals(q.parameters().getOrDefault("only_cpu_and_memory", java.util.List.of("")).get(0));
        if (path.endsWith("/") && path.length() > 1) path = path.substring(0, path.length() - 1);
        if (stats == null || !(path.equals("/stats/summary") || path.equals("/metrics/resource"))) {
            send(ch, 404, "text/plain; charset=utf-8", "404 page not found\n");
            return;
        }
        if (!method.equals("GET") && !method.equals("HEAD")) {
            send(ch, 405, "text/plain; charset=utf-8", "405: Method Not Allowed\n");
            return;
        }
        StatsProvider.Scrape scrape;
        try {
            scrape = stats.scrape();
        } catch (RuntimeException e) {
            send(ch, 500, "text/plain; charset=utf-8", "failed to get node stats: " + e.getMessage() + "\n");
            return;
        }
        if (path.equals("/metrics/resource")) {
            send(ch, 200, ResourceMetrics.CONTENT_TYPE, ResourceMetrics.render(scrape));
        } else if (scrape.podError() != null) {
            send(ch, 500, "text/plain; charset=utf-8", "Internal Error: failed to list pod stats: " + scrape.podError().getMessage() + "\n");
        } else {
            send(ch, 200, "application/json", Json.string(SummaryJson.render(scrape.summary(), cpuAndMemoryOnly)));
        }
    }

    private static void send(Channel ch, int status, String contentType, String body) {
        if (!ch.isActive()) return;
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        HttpUtil.setContentLength(r, bytes.length);
        ch.writeAndFlush(r);
    }
}
