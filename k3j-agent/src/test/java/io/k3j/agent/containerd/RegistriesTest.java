package io.k3j.agent.containerd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistriesTest {
    @TempDir
    Path dir;

    @Test
    void k3sRegistriesYamlBecomesContainerdMirrorsAndConfigs() throws Exception {
        Path file = dir.resolve("registries.yaml");
        Files.writeString(file, """
                mirrors:
                  docker.io:
                    endpoint:
                      - "https://mirror.local:5000"
                      - "https://backup.local"
                configs:
                  "mirror.local:5000":
                    auth:
                      username: me
                      password: "p\\"w"
                    tls:
                      ca_file: /etc/ssl/mirror-ca.pem
                      insecure_skip_verify: true
                """);
        Registries r = Registries.read(file);
        assertThat(r.mirrors()).containsEntry("docker.io", java.util.List.of("https://mirror.local:5000", "https://backup.local"));

        String toml = ConfigToml.render(ContainerdConfig.under(dir).withRegistries(r));
        assertThat(toml).contains("""
                    [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
                      endpoint = ["https://mirror.local:5000", "https://backup.local"]
                """);
        assertThat(toml).contains("""
                    [plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.local:5000".auth]
                      username = "me"
                      password = "p\\"w"
                """);
        assertThat(toml).contains("""
                    [plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.local:5000".tls]
                      ca_file = "/etc/ssl/mirror-ca.pem"
                      insecure_skip_verify = true
                """);
    }

    @Test
    void noFileMeansNoRegistrySections() {
        assertThat(Registries.read(dir.resolve("absent.yaml"))).isEqualTo(Registries.NONE);
        assertThat(ConfigToml.render(ContainerdConfig.under(dir))).doesNotContain("registry");
    }

    @Test
    void aMirrorWithoutEndpointsIsNamed() throws Exception {
        Path file = dir.resolve("registries.yaml");
        Files.writeString(file, "mirrors:\n  docker.io: {}\n");
        assertThatThrownBy(() -> Registries.read(file)).hasMessageContaining("mirror docker.io has no endpoint list");
    }
}
