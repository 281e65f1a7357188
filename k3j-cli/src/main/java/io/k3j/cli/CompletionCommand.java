package io.k3j.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code k3j completion bash|zsh|fish}: a completion script to source. */
@Command(name = "completion", description = "Print a shell completion script (bash, zsh, fish). Use: source <(k3j completion bash), or k3j completion fish | source")
final class CompletionCommand implements Callable<Integer> {
    @Parameters(paramLabel = "SHELL", description = "bash, zsh or fish")
    String shell;

    @Override
    public Integer call() {
        switch (shell) {
            case "bash" -> System.out.print(AutoComplete.bash("k3j", Main.commandLine()));
            case "zsh" -> {
                System.out.println("autoload -U +X bashcompinit && bashcompinit");
                System.out.print(AutoComplete.bash("k3j", Main.commandLine()));
            }
            case "fish" -> System.out.print(FishCompletion.script("k3j", Main.commandLine()));
            default -> {
                System.err.println("Error: unsupported shell \"" + shell + "\": expected bash, zsh or fish");
                return 2;
            }
        }
        return 0;
    }
}
