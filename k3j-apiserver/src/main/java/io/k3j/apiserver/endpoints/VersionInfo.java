package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;

/**
 * What {@code /version} answers: the Kubernetes version k3j implements, with k3j's own version in the build
 * metadata as k3s does ({@code v1.32.0+k3j1}).
 */
public record VersionInfo(String kubernetesVersion, String k3jVersion, String gitCommit, String buildDate) {
    public static final String KUBERNETES_VERSION = "v1.32.0";

    public ObjectNode toJson() {
        String v = kubernetesVersion.startsWith("v") ? kubernetesVersion.substring(1) : kubernetesVersion;
        String[] parts = v.split("\\.");
        ObjectNode n = Json.object();
        n.put("major", parts[0]);
        n.put("minor", parts.length > 1 ? parts[1] : "0");
        n.put("emulationMajor", parts[0]);
        n.put("emulationMinor", parts.length > 1 ? parts[1] : "0");
        n.put("gitVersion", kubernetesVersion + "+k3j" + k3jVersion);
        n.put("gitCommit", gitCommit);
        n.put("gitTreeState", "clean");
        n.put("buildDate", buildDate);
        n.put("goVersion", "java" + Runtime.version().feature());
        n.put("compiler", "javac");
        n.put("platform", "linux/" + (System.getProperty("os.arch").equals("aarch64") ? "arm64" : "amd64"));
        return n;
    }
}
