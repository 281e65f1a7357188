package io.k3j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.k3j.agent.host.Packages;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code k3j completion fish}: the script, sourced into a real fish, completes commands and each command's own options. */
class CompletionCommandTest {

    @Test
    @DisplayName("fish: subcommands at each level, and options of the command typed (cluster create vs node create)")
    void fish() throws Exception {
        assumeTrue(Packages.isRoot() || Packages.missing("fish").isEmpty(), "fish is missing and this is not root");
        Packages.ensure("fish");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = Main.commandLine().execute("completion", "fish");
        } finally {
            System.setOut(stdout);
        }
        assertThat(code).isZero();
        Path script = Files.createTempFile("k3j", ".fish");
        try {
            Files.writeString(script, out.toString(StandardCharsets.UTF_8));
            String got = fish("source " + script + "; complete -C 'k3j clu'; echo ==; complete -C 'k3j cluster cr'; echo ==;"
                    + " complete -C 'k3j cluster create demo --ser'; echo ==; complete -C 'k3j node create x --ro'; echo ==;"
                    + " complete -C 'k3j server --disable-a'");
            String[] parts = got.split("==\n", -1);
            assertThat(parts).hasSize(5);
            assertThat(parts[0]).startsWith("cluster\t");
            assertThat(parts[1]).startsWith("create\t");
            assertThat(parts[2]).contains("--servers\t").doesNotContain("--role");
            assertThat(parts[3]).contains("--role\t").doesNotContain("--servers");
            assertThat(parts[4]).contains("--disable-agent");
        } finally {
            Files.deleteIfExists(script);
        }
    }

    private static String fish(String command) throws Exception {
        Process p = new ProcessBuilder("fish", "--no-config", "-c", command).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(text).isZero();
        return text;
    }
}
