package io.k3j.agent.ingress;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * What the ingress controller listens on and which Ingresses it serves.
 *
 * @param http           the cleartext listener (the agent: pod gateway address, port 80)
 * @param https          the TLS listener (pod gateway address, port 443), or null for none
 * @param className      the IngressClass name served ({@code k3j})
 * @param controllerName the IngressClass {@code spec.controller} value served ({@code k3j.io/ingress-controller})
 * @param debounce       how long the routing table waits for more changes before it is rebuilt
 * @param threads        event loop threads for client and upstream connections
 * @param connectTimeout how long connecting to an endpoint may take before the answer is 502
 */
public record IngressConfig(InetSocketAddress http, InetSocketAddress https, String className, String controllerName,
        Duration debounce, int threads, Duration connectTimeout) {
    public static final String CLASS_NAME = "k3j";
    public static final String CONTROLLER_NAME = "k3j.io/ingress-controller";

    /**
     * @throws NullPointerException     if {@code http}, a name or a duration is null
     * @throws IllegalArgumentException if {@code threads < 1} or a duration is negative
     */
    public IngressConfig {
        requireNonNull(http, "http");
        requireNonNull(className, "className");
        requireNonNull(controllerName, "controllerName");
        requireNonNull(debounce, "debounce");
        requireNonNull(connectTimeout, "connectTimeout");
        if (threads < 1) throw new IllegalArgumentException("threads : " + threads + " (expected: >= 1)");
        if (debounce.isNegative()) throw new IllegalArgumentException("debounce : " + debounce + " (expected: >= 0)");
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout : " + connectTimeout + " (expected: > 0)");
        }
    }

    /** The defaults on explicit listener addresses (tests use port 0). */
    public static IngressConfig of(InetSocketAddress http, InetSocketAddress https) {
        return new IngressConfig(http, https, CLASS_NAME, CONTROLLER_NAME, Duration.ofMillis(50),
                Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())), Duration.ofSeconds(5));
    }

    /** What the agent runs: ports 80 and 443 on the node's pod gateway address. */
    public static IngressConfig forGateway(InetAddress podGateway) {
        return of(new InetSocketAddress(podGateway, 80), new InetSocketAddress(podGateway, 443));
    }

    public IngressConfig withThreads(int n) {
        return new IngressConfig(http, https, className, controllerName, debounce, n, connectTimeout);
    }
}
