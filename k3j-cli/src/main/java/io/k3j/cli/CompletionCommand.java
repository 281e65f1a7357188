package io.k3j.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code k3j completion bash|zsh}: a completion script to source. */
@Command(name = "completion", description = "Print a shell completion script (bash, zsh). Use: source <(k3j completion bash)")
final class CompletionCommand implements Callable<Integer> {
    @Parameters(paramLabel = "SHELL", description = "bash or zsh")
    String shell;

    @Override
    public Integer call() {
        switch (shell) {
            case "bash" -> System.out.print(AutoComplete.bash("k3j", Main.commandLine()));
            case "zsh" -> {
                System.out.println("autoload -U +X bashcompinit && bashcompinit");
                System.out.print(AutoComplete.bash("k3j", Main.commandLine()));
            }
            default -> {
                System.err.println("Error: unsupported shell \"" + shell + "\": expected bash or zsh");
                return 2;
            }
        }
        return 0;
    }
}
