package io.k3j.cli;

import io.k3j.cluster.spec.ConfigFile;
import io.k3j.cluster.spec.ConfigFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigCommandTest {
    private Path dir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("k3j-config-cli");
    }

    @AfterEach
    void tearDown() throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private int run(String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void initWritesALoadableFileAndKeepsAnExistingOne() throws IOException {
        Path file = dir.resolve("k3j.yaml");
        assertThat(run("config", "init", "-o", file.toString())).isZero();
        ConfigFile loaded = ConfigFiles.load(file, Map.of());
        assertThat(loaded.apiVersion()).isEqualTo("k3j.io/v1alpha1");
        assertThat(run("config", "init", "-o", file.toString())).isEqualTo(2);
        assertThat(err.toString()).contains(file + " exists: use --force to overwrite it");
        Files.writeString(file, "junk");
        assertThat(run("config", "create", "--output", file.toString(), "--force")).isZero();
        assertThat(Files.readString(file)).isEqualTo(ConfigFiles.initTemplate());
        assertThat(run("config", "init", "-o", "-")).isZero();
        assertThat(out.toString()).isEqualTo(ConfigFiles.initTemplate());
    }

    @Test
    void migrateToStdoutAndToAFile() throws IOException {
        Path in = dir.resolve("old.yaml");
        Files.writeString(in, """
                apiVersion: k3d.io/v1alpha2
                kind: Simple
                name: old
                agents: 1
                options:
                  k3s:
                    extraAgentArgs: [--node-label=a=b]
                """);
        assertThat(run("config", "migrate", in.toString())).isZero();
        assertThat(out.toString()).startsWith("apiVersion: k3d.io/v1alpha5\nkind: Simple\nmetadata:\n  name: old\n")
                .contains("- arg: --node-label=a=b", "- agent:*");
        Path target = dir.resolve("new.yaml");
        assertThat(run("config", "update", in.toString(), target.toString())).isZero();
        assertThat(ConfigFiles.load(target, Map.of()).apiVersion()).isEqualTo("k3d.io/v1alpha5");
        Files.writeString(in, "apiVersion: k3d.io/v1alpha2\nkind: Simple\nagnets: 1\n");
        assertThat(run("config", "migrate", in.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("unknown field 'agnets' at line 3 (did you mean 'agents'?)");
    }
}
