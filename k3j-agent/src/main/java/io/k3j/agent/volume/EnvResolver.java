package io.k3j.agent.volume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A container's environment, computed as kubelet's makeEnvironmentVariables does (pkg/kubelet/kubelet_pods.go):
 * {@code envFrom} first (ConfigMaps and Secrets, with prefix; keys that are not env var names are skipped and
 * reported), then {@code env} in order ({@code value} with {@code $(VAR)} expansion over the variables so far and the
 * service links; {@code valueFrom} fieldRef / resourceFieldRef / configMapKeyRef / secretKeyRef, never expanded), then
 * the service link variables no declared variable overrides.
 *
 * <p>Kubelet returns the variables in map order; this returns them in declaration order (envFrom, env, services),
 * each name once at its first
 * position, with the last value assigned to it.
 */
public final class EnvResolver {

    private static final Pattern ENV_VAR_NAME = Pattern.compile("^[-._a-zA-Z][-._a-zA-Z0-9]*$");
    /** The namespace and names of the services whose variables every pod gets, even with enableServiceLinks false. */
    private static final String MASTER_NAMESPACE = "default";
    private static final String MASTER_SERVICE = "kubernetes";

    private final PodSources sources;
    private final NodeFacts node;

    public EnvResolver(PodSources sources, NodeFacts node) {
        this.sources = Objects.requireNonNull(sources, "sources");
        this.node = Objects.requireNonNull(node, "node");
    }

    /**
     * The environment of {@code container} in {@code pod}.
     *
     * @param podIPs    the sandbox's addresses ({@code status.podIP} is the first), empty when host network has none yet
     * @param warnings  receives kubelet's Warning event text for skipped envFrom keys
     *                  ({@code InvalidEnvironmentVariableNames}); may be null
     * @throws PodConfigException ({@link PodConfigException#CREATE_CONTAINER_CONFIG_ERROR}) with kubelet's message:
     *     {@code configmap "x" not found}, {@code couldn't find key k in ConfigMap ns/x}, {@code secret "x" not found},
     *     {@code couldn't find key k in Secret ns/x}, {@code unsupported fieldPath: ...}
     */
    public List<Map.Entry<String, String>> resolve(ObjectNode pod, ObjectNode container, List<String> podIPs,
            Consumer<String> warnings) {
        String ns = pod.path("metadata").path("namespace").asText("");
        boolean serviceLinks = pod.path("spec").path("enableServiceLinks").asBoolean(true);
        Map<String, String> serviceEnv = serviceEnv(ns, serviceLinks);
        Map<String, Optional<ObjectNode>> configMaps = new HashMap<>();
        Map<String, Optional<ObjectNode>> secrets = new HashMap<>();
        LinkedHashMap<String, String> env = new LinkedHashMap<>();

        for (JsonNode from : container.path("envFrom")) {
            String prefix = from.path("prefix").asText("");
            boolean isConfigMap = from.has("configMapRef");
            JsonNode ref = isConfigMap ? from.path("configMapRef") : from.path("secretRef");
            if (ref.isMissingNode()) continue;
            String name = ref.path("name").asText("");
            boolean optional = ref.path("optional").asBoolean(false);
            Optional<ObjectNode> obj = isConfigMap
                    ? configMaps.computeIfAbsent(name, n -> sources.configMap(ns, n))
                    : secrets.computeIfAbsent(name, n -> sources.secret(ns, n));
            if (obj.isEmpty()) {
                if (optional) continue;
                throw PodConfigException.config((isConfigMap ? "configmap" : "secret") + " \"" + name + "\" not found");
            }
            TreeSet<String> invalid = new TreeSet<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = obj.get().path("data").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String key = prefix + e.getKey();
                if (!ENV_VAR_NAME.matcher(key).matches()) {
                    invalid.add(key);
                    continue;
                }
                env.put(key, isConfigMap ? e.getValue().asText("") : decode(e.getValue()));
            }
            if (!invalid.isEmpty() && warnings != null) {
                warnings.accept("Keys [" + String.join(", ", invalid) + "] from the EnvFrom " + (isConfigMap ? "configMap" : "secret")
                        + " " + ns + "/" + name + " were skipped since they are considered invalid environment variable names.");
            }
        }

        for (JsonNode var : container.path("env")) {
            String name = var.path("name").asText("");
            String value = var.path("value").asText("");
            JsonNode from = var.get("valueFrom");
            if (!value.isEmpty()) {
                value = Expansion.expand(value, key -> env.containsKey(key) ? env.get(key) : serviceEnv.get(key));
            } else if (from != null && from.isObject()) {
                String resolved = valueFrom(pod, container, ns, from, podIPs, configMaps, secrets);
                if (resolved == null) continue; // an optional reference that is missing
                value = resolved;
            }
            env.put(name, value);
        }

        List<Map.Entry<String, String>> result = new ArrayList<>(env.size() + serviceEnv.size());
        env.forEach((k, v) -> result.add(Map.entry(k, v)));
        serviceEnv.forEach((k, v) -> {
            if (!env.containsKey(k)) result.add(Map.entry(k, v));
        });
        return result;
    }

    /**
     * Kubelet's ExpandContainerCommandAndArgs for one list ({@code command} or {@code args}): each element with
     * {@code $(VAR)} replaced from the container's resolved environment, unknown names kept verbatim, {@code $$}
     * unescaped.
     */
    public static List<String> expandCommand(List<String> commandOrArgs, List<Map.Entry<String, String>> env) {
        Map<String, String> vars = new HashMap<>();
        for (Map.Entry<String, String> e : env) vars.put(e.getKey(), e.getValue());
        List<String> out = new ArrayList<>(commandOrArgs.size());
        for (String arg : commandOrArgs) out.add(Expansion.expand(arg, vars::get));
        return out;
    }

    private String valueFrom(ObjectNode pod, ObjectNode container, String ns, JsonNode from, List<String> podIPs,
            Map<String, Optional<ObjectNode>> configMaps, Map<String, Optional<ObjectNode>> secrets) {
        if (from.has("fieldRef")) {
            return podField(pod, from.path("fieldRef").path("fieldPath").asText(""), podIPs);
        }
        if (from.has("resourceFieldRef")) {
            JsonNode ref = from.path("resourceFieldRef");
            try {
                return DownwardApi.containerResource(container, ref.path("resource").asText(""),
                        ref.path("divisor").asText(""), node);
            } catch (IllegalArgumentException e) {
                throw PodConfigException.config(e.getMessage());
            }
        }
        boolean isConfigMap = from.has("configMapKeyRef");
        if (!isConfigMap && !from.has("secretKeyRef")) return "";
        JsonNode ref = isConfigMap ? from.path("configMapKeyRef") : from.path("secretKeyRef");
        String name = ref.path("name").asText("");
        String key = ref.path("key").asText("");
        boolean optional = ref.path("optional").asBoolean(false);
        Optional<ObjectNode> obj = isConfigMap
                ? configMaps.computeIfAbsent(name, n -> sources.configMap(ns, n))
                : secrets.computeIfAbsent(name, n -> sources.secret(ns, n));
        if (obj.isEmpty()) {
            if (optional) return null;
            throw PodConfigException.config((isConfigMap ? "configmap" : "secret") + " \"" + name + "\" not found");
        }
        JsonNode v = obj.get().path("data").get(key);
        if (v == null) {
            if (optional) return null;
            throw PodConfigException.config("couldn't find key " + key + " in " + (isConfigMap ? "ConfigMap " : "Secret ")
                    + ns + "/" + name);
        }
        return isConfigMap ? v.asText("") : decode(v);
    }

    private String podField(ObjectNode pod, String fieldPath, List<String> podIPs) {
        JsonNode spec = pod.path("spec");
        switch (fieldPath) {
            case "spec.nodeName": return spec.path("nodeName").asText("");
            case "spec.serviceAccountName": return spec.path("serviceAccountName").asText("");
            case "status.hostIP": return node.hostIPs().isEmpty() ? "" : node.hostIPs().get(0);
            case "status.hostIPs": return String.join(",", node.hostIPs());
            case "status.podIP": return podIPs.isEmpty() ? "" : podIPs.get(0);
            case "status.podIPs": return String.join(",", podIPs);
            default:
        }
        try {
            return DownwardApi.metadataField(pod, fieldPath);
        } catch (IllegalArgumentException e) {
            throw PodConfigException.config(e.getMessage());
        }
    }

    private static String decode(JsonNode base64) {
        return new String(Base64.getDecoder().decode(base64.asText("")), StandardCharsets.UTF_8);
    }

    /**
     * Kubelet's getServiceEnvVarMap: the {@code kubernetes} service of {@code default} always, the services of the
     * pod's namespace when links are enabled; headless and ExternalName services (no cluster IP) give nothing.
     */
    Map<String, String> serviceEnv(String ns, boolean links) {
        Map<String, ObjectNode> byName = new LinkedHashMap<>();
        for (ObjectNode svc : sources.services(MASTER_NAMESPACE)) {
            if (svc.path("metadata").path("name").asText("").equals(MASTER_SERVICE) && hasClusterIP(svc)) {
                byName.put(MASTER_SERVICE, svc);
            }
        }
        if (links) {
            for (ObjectNode svc : sources.services(ns)) {
                String name = svc.path("metadata").path("name").asText("");
                if (!hasClusterIP(svc)) continue;
                if (ns.equals(MASTER_NAMESPACE) && name.equals(MASTER_SERVICE)) continue;
                byName.put(name, svc);
            }
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (ObjectNode svc : byName.values()) links(svc, env);
        return env;
    }

    private static boolean hasClusterIP(JsonNode svc) {
        String ip = svc.path("spec").path("clusterIP").asText("");
        return !ip.isEmpty() && !ip.equals("None");
    }

    /** pkg/kubelet/envvars FromServices: {@code X_SERVICE_HOST}, {@code X_SERVICE_PORT[_NAME]} and Docker links. */
    private static void links(ObjectNode svc, Map<String, String> env) {
        String prefix = envName(svc.path("metadata").path("name").asText(""));
        String ip = svc.path("spec").path("clusterIP").asText("");
        JsonNode ports = svc.path("spec").path("ports");
        env.put(prefix + "_SERVICE_HOST", ip);
        if (ports.isEmpty()) return;
        env.put(prefix + "_SERVICE_PORT", ports.get(0).path("port").asText());
        for (JsonNode p : ports) {
            String portName = p.path("name").asText("");
            if (!portName.isEmpty()) env.put(prefix + "_SERVICE_PORT_" + envName(portName), p.path("port").asText());
        }
        String hostPort = ip.contains(":") ? "[" + ip + "]" : ip;
        boolean first = true;
        for (JsonNode p : ports) {
            String protocol = p.path("protocol").asText("");
            if (protocol.isEmpty()) protocol = "TCP";
            String lower = protocol.toLowerCase(java.util.Locale.ROOT);
            String port = p.path("port").asText();
            String url = lower + "://" + hostPort + ":" + port;
            if (first) env.put(prefix + "_PORT", url);
            first = false;
            String portPrefix = prefix + "_PORT_" + port + "_" + protocol.toUpperCase(java.util.Locale.ROOT);
            env.put(portPrefix, url);
            env.put(portPrefix + "_PROTO", lower);
            env.put(portPrefix + "_PORT", port);
            env.put(portPrefix + "_ADDR", ip);
        }
    }

    private static String envName(String s) {
        return s.replace('-', '_').toUpperCase(java.util.Locale.ROOT);
    }
}
