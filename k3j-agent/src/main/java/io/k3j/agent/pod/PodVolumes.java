package io.k3j.agent.pod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the pod workers need from the volume side (io.k3j.agent.volume): a pod's volumes made ready on the host, the
 * mounts and environment of each container, and cleanup after the pod is gone. The agent wires an adapter over the
 * volume package's VolumeManager and EnvResolver; {@link #none()} serves pods without volumes (env values and the
 * downward API fields only).
 */
public interface PodVolumes {

    /**
     * Makes the pod's volumes ready on the host (called before each sync; must be idempotent and refresh
     * configMap/secret contents).
     *
     * @throws Failure with reason FailedMount (or another kubelet event reason) when a volume cannot be set up
     */
    void prepare(ObjectNode pod);

    /**
     * The host mounts of {@code container} (its volumeMounts resolved to host paths; {@code env} serves subPathExpr).
     *
     * @throws Failure with reason CreateContainerConfigError for a bad mount (unknown volume, bad subPath)
     */
    List<Mount> mounts(ObjectNode pod, JsonNode container, List<Env> env);

    /**
     * The environment of {@code container} in order (env and envFrom resolved, $(VAR) expanded).
     *
     * @throws Failure with reason CreateContainerConfigError when a referenced configMap/secret/key is missing
     */
    List<Env> env(ObjectNode pod, JsonNode container, String podIP, List<String> hostIPs);

    /**
     * A configMap or secret the pod mounts has changed: the next {@link #prepare} of the pod refreshes its volumes
     * whatever the refresh period.
     */
    default void invalidate(String podUid) {
    }

    /** Removes what {@link #prepare} set up, after all the pod's containers are gone. */
    void cleanup(String podUid);

    /** A bind mount. {@code propagation} is the pod's mountPropagation (None, HostToContainer, Bidirectional). */
    record Mount(String containerPath, String hostPath, boolean readOnly, String propagation) {}

    record Env(String name, String value) {}

    /** A volume or environment problem a pod shows as a waiting reason / event, e.g. FailedMount. */
    final class Failure extends RuntimeException {
        private final String reason;

        public Failure(String reason, String message) {
            super(message);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    /**
     * The volume package's {@link io.k3j.agent.volume.VolumeManager} and {@link io.k3j.agent.volume.EnvResolver}:
     * volumes set up on the first sync of a pod and their contents (configMaps, secrets, downward API, tokens)
     * refreshed at most every {@code refreshPeriod} after that.
     */
    static PodVolumes of(io.k3j.agent.volume.VolumeManager volumes, io.k3j.agent.volume.EnvResolver env, java.time.Duration refreshPeriod) {
        return new VolumeAdapter(volumes, env, refreshPeriod);
    }

    /** No volumes; env from values and downward API fieldRefs. */
    static PodVolumes none() {
        return new PodVolumes() {
            @Override
            public void prepare(ObjectNode pod) {
                for (JsonNode v : pod.path("spec").path("volumes")) {
                    if (!v.has("emptyDir") && !isProjectedToken(v)) {
                        throw new Failure("FailedMount", "MountVolume.SetUp failed for volume \"" + v.path("name").asText()
                                + "\" : volumes are not available on this node");
                    }
                }
            }

            private boolean isProjectedToken(JsonNode v) {
                return v.has("projected") && v.path("name").asText().startsWith("kube-api-access-");
            }

            @Override
            public List<Mount> mounts(ObjectNode pod, JsonNode container, List<Env> env) {
                return List.of();
            }

            @Override
            public List<Env> env(ObjectNode pod, JsonNode container, String podIP, List<String> hostIPs) {
                return basicEnv(pod, container, podIP, hostIPs);
            }

            @Override
            public void cleanup(String podUid) {
            }
        };
    }

    /** env values (with $(VAR) expansion) and fieldRefs; other sources fail as kubelet does without them. */
    static List<Env> basicEnv(ObjectNode pod, JsonNode container, String podIP, List<String> hostIPs) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : container.path("env")) {
            String name = e.path("name").asText();
            if (e.has("valueFrom")) {
                JsonNode f = e.path("valueFrom");
                if (f.has("fieldRef")) {
                    env.put(name, field(pod, f.path("fieldRef").path("fieldPath").asText(), podIP, hostIPs));
                } else if (!f.path("configMapKeyRef").path("optional").asBoolean(false) && f.has("configMapKeyRef")
                        || !f.path("secretKeyRef").path("optional").asBoolean(false) && f.has("secretKeyRef")) {
                    JsonNode ref = f.has("configMapKeyRef") ? f.path("configMapKeyRef") : f.path("secretKeyRef");
                    throw new Failure("CreateContainerConfigError", (f.has("configMapKeyRef") ? "configmap" : "secret") + " \""
                            + ref.path("name").asText() + "\" not found");
                }
            } else {
                env.put(name, expand(e.path("value").asText(""), env));
            }
        }
        List<Env> out = new ArrayList<>();
        env.forEach((k, v) -> out.add(new Env(k, v)));
        return out;
    }

    private static String field(ObjectNode pod, String path, String podIP, List<String> hostIPs) {
        JsonNode m = pod.path("metadata");
        if (path.startsWith("metadata.labels['")) return m.path("labels").path(path.substring(17, path.length() - 2)).asText("");
        if (path.startsWith("metadata.annotations['")) return m.path("annotations").path(path.substring(22, path.length() - 2)).asText("");
        return switch (path) {
            case "metadata.name" -> m.path("name").asText();
            case "metadata.namespace" -> m.path("namespace").asText();
            case "metadata.uid" -> m.path("uid").asText();
            case "spec.nodeName" -> pod.path("spec").path("nodeName").asText();
            case "spec.serviceAccountName" -> pod.path("spec").path("serviceAccountName").asText();
            case "status.podIP", "status.podIPs" -> podIP == null ? "" : podIP;
            case "status.hostIP" -> hostIPs.isEmpty() ? "" : hostIPs.get(0);
            case "status.hostIPs" -> String.join(",", hostIPs);
            default -> "";
        };
    }

    /** Kubernetes' $(VAR) expansion: $$ escapes, unknown references stay as written. */
    static String expand(String s, Map<String, String> env) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '$' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                if (n == '$') {
                    b.append('$');
                    i++;
                    continue;
                }
                if (n == '(') {
                    int end = s.indexOf(')', i + 2);
                    if (end > 0) {
                        String var = s.substring(i + 2, end);
                        String v = env.get(var);
                        b.append(v != null ? v : s, v != null ? 0 : i, v != null ? v.length() : end + 1);
                        i = end;
                        continue;
                    }
                }
            }
            b.append(c);
        }
        return b.toString();
    }
}
