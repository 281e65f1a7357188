package io.k3j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The entry point of the agent-only jar ({@code k3j-cli/target/k3j-agent.jar}), which the launcher runs for
 * {@code k3j agent}: the same {@code k3j agent} command and flags as {@link Main}, without the other commands.
 *
 * <p>Why a second entry point: the agent is a long-lived process on small nodes and its memory is mostly classes
 * and the jar it runs from. Run from the fat {@code k3j.jar}, picocli built the model of every command (server,
 * cluster, kubectl, ...) and the JVM kept that jar's whole central directory (~18,000 entries) in the heap; the
 * agent-only jar holds only the agent's modules and libraries.
 */
@Command(name = "k3j", mixinStandardHelpOptions = true,
        description = {"k3j: a lightweight Kubernetes in Java (this build runs only the node agent).", ""},
        subcommands = {AgentCommand.class, CommandLine.HelpCommand.class})
public final class AgentMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        Logging.configure(System.getenv("K3J_DEBUG") != null);
        System.exit(Main.configure(new CommandLine(new AgentMain())).execute(args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
