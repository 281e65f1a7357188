package io.k3j.controllers.servicelb;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The networking objects {@code k3j server} ships, written into its auto-deploy folder at start as k3s stages
 * {@code coredns.yaml} and {@code traefik.yaml} into {@code <data-dir>/server/manifests} (the
 * {@link io.k3j.controllers.deploy.ManifestDeployer} applies them; a {@code coredns.yaml.skip} beside one stops
 * that). The DNS server and the ingress controller they front run inside every agent, so the Services carry
 * {@value #NODE_LOCAL} and have no selector.
 *
 * <ul>
 *   <li>{@code coredns.yaml}: Service {@code kube-system/kube-dns} on the cluster DNS address, 53/UDP and 53/TCP
 *       ({@code --disable coredns} leaves it out);</li>
 *   <li>{@code traefik.yaml}: Service {@code kube-system/k3j-ingress} of type LoadBalancer on 80 and 443, and the
 *       default IngressClass {@value #INGRESS_CLASS} ({@code --disable traefik}, or {@code ingress}, leaves them
 *       out).</li>
 * </ul>
 */
public final class PackagedManifests {
    /** {@code --disable} item of the cluster DNS. */
    public static final String COREDNS = "coredns";
    /** {@code --disable} item of the ingress controller (k3s's name); {@link #INGRESS} is accepted too. */
    public static final String TRAEFIK = "traefik";
    public static final String INGRESS = "ingress";
    /** {@code --disable} item of the service load balancer. */
    public static final String SERVICELB = "servicelb";
    /** Annotation of Services the agents answer on every node themselves. */
    public static final String NODE_LOCAL = "k3j.io/node-local";
    public static final String INGRESS_CLASS = "k3j";
    public static final String INGRESS_CONTROLLER = "k3j.io/ingress-controller";
    static final String INGRESS_SERVICE_KEY = "kube-system/k3j-ingress";

    private PackagedManifests() {
    }

    /** Whether {@code component} ({@link #COREDNS}, {@link #TRAEFIK}, {@link #SERVICELB}) is switched off by {@code disabled}. */
    public static boolean disabled(Set<String> disabled, String component) {
        if (disabled.contains(component)) return true;
        return TRAEFIK.equals(component) && disabled.contains(INGRESS);
    }

    /**
     * Writes the packaged manifests that {@code disabled} leaves on into {@code dir} (replacing what an earlier
     * start wrote there, untouched when equal) and removes those it switches off.
     *
     * @param clusterDns the cluster DNS address ({@code --cluster-dns}), kube-dns's clusterIP
     * @throws UncheckedIOException when the folder can't be written, naming it
     */
    public static void stage(Path dir, String clusterDns, Set<String> disabled) {
        requireNonNull(dir, "dir");
        requireNonNull(clusterDns, "clusterDns");
        requireNonNull(disabled, "disabled");
        try {
            Files.createDirectories(dir);
            for (Map.Entry<String, String> e : files(clusterDns).entrySet()) {
                Path file = dir.resolve(e.getKey() + ".yaml");
                if (disabled(disabled, e.getKey())) {
                    Files.deleteIfExists(file);
                } else {
                    write(file, e.getValue());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing packaged manifests to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** File base name (its {@code --disable} item) to content. */
    static Map<String, String> files(String clusterDns) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(COREDNS, """
                # Written by k3j server at every start; put a coredns.yaml.skip beside it to stop it being applied.
                apiVersion: v1
                kind: Service
                metadata:
                  name: kube-dns
                  namespace: kube-system
                  labels:
                    k8s-app: kube-dns
                    kubernetes.io/cluster-service: "true"
                    kubernetes.io/name: CoreDNS
                  annotations:
                    %s: "true"
                spec:
                  type: ClusterIP
                  clusterIP: %s
                  ports:
                  - name: dns
                    port: 53
                    protocol: UDP
                    targetPort: 53
                  - name: dns-tcp
                    port: 53
                    protocol: TCP
                    targetPort: 53
                """.formatted(NODE_LOCAL, clusterDns));
        out.put(TRAEFIK, """
                # Written by k3j server at every start; put a traefik.yaml.skip beside it to stop it being applied.
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata:
                  name: %s
                  annotations:
                    ingressclass.kubernetes.io/is-default-class: "true"
                spec:
                  controller: %s
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: k3j-ingress
                  namespace: kube-system
                  labels:
                    app.kubernetes.io/name: k3j-ingress
                    app.kubernetes.io/component: ingress-controller
                  annotations:
                    %s: "true"
                spec:
                  type: LoadBalancer
                  ports:
                  - name: web
                    port: 80
                    protocol: TCP
                    targetPort: 80
                  - name: websecure
                    port: 443
                    protocol: TCP
                    targetPort: 443
                """.formatted(INGRESS_CLASS, INGRESS_CONTROLLER, NODE_LOCAL));
        return out;
    }

    /** Replaces the file atomically, so the deployer never reads half of it; leaves it alone when unchanged. */
    private static void write(Path file, String content) throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        if (Files.isRegularFile(file) && Arrays.equals(Files.readAllBytes(file), bytes)) return;
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
