package io.k3j.agent.containerd;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Registry mirrors and credentials in k3s's {@code registries.yaml} format, for the nodes that do pull (the
 * default path is {@code /etc/k3j/registries.yaml}, as k3s reads {@code /etc/rancher/k3s/registries.yaml}):
 * <pre>
 * mirrors:
 *   docker.io:
 *     endpoint: ["https://mirror.local:5000"]
 * configs:
 *   "mirror.local:5000":
 *     auth: {username: u, password: p}          # or auth: base64(u:p), or identitytoken
 *     tls: {ca_file: /ca.pem, cert_file: ..., key_file: ..., insecure_skip_verify: false}
 * </pre>
 * They become containerd 1.6's {@code registry.mirrors} and {@code registry.configs} sections.
 */
public record Registries(Map<String, List<String>> mirrors, Map<String, Map<String, Map<String, String>>> configs) {
    public static final Registries NONE = new Registries(Map.of(), Map.of());

    public Registries {
        mirrors = Map.copyOf(mirrors);
        configs = Map.copyOf(configs);
    }

    /** Reads {@code file}; {@link #NONE} when it does not exist. */
    public static Registries read(Path file) {
        if (!Files.exists(file)) return NONE;
        JsonNode root;
        try {
            root = Json.parseYamlOrJson(Files.readAllBytes(file));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + " is not valid YAML: " + e.getMessage(), e);
        }
        Map<String, List<String>> mirrors = new LinkedHashMap<>();
        root.path("mirrors").properties().forEach(m -> {
            List<String> endpoints = new ArrayList<>();
            m.getValue().path("endpoint").forEach(e -> endpoints.add(e.asText()));
            if (endpoints.isEmpty()) throw new IllegalArgumentException(file + ": mirror " + m.getKey() + " has no endpoint list");
            mirrors.put(m.getKey(), endpoints);
        });
        Map<String, Map<String, Map<String, String>>> configs = new LinkedHashMap<>();
        root.path("configs").properties().forEach(c -> {
            Map<String, Map<String, String>> sections = new LinkedHashMap<>();
            for (String section : List.of("auth", "tls")) {
                Map<String, String> values = new LinkedHashMap<>();
                c.getValue().path(section).properties().forEach(v -> values.put(v.getKey(), v.getValue().asText()));
                if (!values.isEmpty()) sections.put(section, values);
            }
            configs.put(c.getKey(), sections);
        });
        return new Registries(mirrors, configs);
    }

    /** The TOML sections under {@code [plugins."io.containerd.grpc.v1.cri".registry]}. */
    String toml() {
        StringBuilder b = new StringBuilder();
        String prefix = "    [plugins.\"io.containerd.grpc.v1.cri\".registry";
        mirrors.forEach((host, endpoints) -> {
            b.append(prefix).append(".mirrors.").append(ConfigToml.q(host)).append("]\n");
            b.append("      endpoint = [");
            for (int i = 0; i < endpoints.size(); i++) b.append(i == 0 ? "" : ", ").append(ConfigToml.q(endpoints.get(i)));
            b.append("]\n");
        });
        configs.forEach((host, sections) -> sections.forEach((section, values) -> {
            b.append(prefix).append(".configs.").append(ConfigToml.q(host)).append('.').append(section).append("]\n");
            values.forEach((k, v) -> {
                boolean bool = "insecure_skip_verify".equals(k);
                b.append("      ").append(k).append(" = ").append(bool ? Boolean.toString(Boolean.parseBoolean(v)) : ConfigToml.q(v)).append('\n');
            });
        }));
        return b.toString();
    }
}
