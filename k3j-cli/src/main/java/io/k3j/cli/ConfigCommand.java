package io.k3j.cli;

import io.k3j.cluster.spec.ConfigFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code k3j config}: k3d's {@code config init} and {@code config migrate}. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Work with cluster config files (k3d.io/v1alpha2..v1alpha5 and k3j.io/v1alpha1).",
        subcommands = {ConfigCommand.Init.class, ConfigCommand.Migrate.class})
final class ConfigCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "init", aliases = "create", mixinStandardHelpOptions = true,
            description = "Write a commented k3j.io/v1alpha1 config file with the defaults (use it with `k3j cluster create -c FILE`).")
    static final class Init implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "k3j-default.yaml",
                description = "Where to write it; - for standard output (default: ${DEFAULT-VALUE})")
        String output;

        @Option(names = {"-f", "--force"}, description = "Overwrite FILE if it exists")
        boolean force;

        @Override
        public Integer call() throws IOException {
            String text = ConfigFiles.initTemplate();
            if (output.equals("-")) {
                spec.commandLine().getOut().print(text);
                spec.commandLine().getOut().flush();
                return 0;
            }
            Path out = Path.of(output);
            if (Files.exists(out) && !force) {
                throw new ParameterException(spec.commandLine(), output + " exists: use --force to overwrite it");
            }
            Files.writeString(out, text);
            spec.commandLine().getErr().println("wrote " + out);
            return 0;
        }
    }

    @Command(name = "migrate", aliases = "update", mixinStandardHelpOptions = true,
            description = "Rewrite a k3d config file of an older version (k3d.io/v1alpha2..v1alpha4) as " + ConfigFiles.NEWEST_K3D + ".")
    static final class Migrate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "INPUT", description = "The config file to migrate")
        Path input;

        @Parameters(index = "1", paramLabel = "OUTPUT", arity = "0..1", defaultValue = "-",
                description = "Where to write the result; - for standard output (default)")
        String output;

        @Override
        public Integer call() throws IOException {
            if (!Files.isRegularFile(input)) throw new ParameterException(spec.commandLine(), "no such config file: " + input);
            String migrated = ConfigFiles.migrate(Files.readString(input), input.toString());
            if (output.equals("-")) {
                spec.commandLine().getOut().print(migrated);
                spec.commandLine().getOut().flush();
            } else {
                Files.writeString(Path.of(output), migrated);
            }
            return 0;
        }
    }
}
