package io.k3j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code k3j kubectl ...}: the system kubectl with k3j's admin kubeconfig, as {@code k3s kubectl}. */
@Command(name = "kubectl", description = "Run kubectl against this machine's k3j server.")
final class KubectlCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "ARGS", description = "Arguments passed to kubectl")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        String kubectl = Files.isExecutable(Path.of("/usr/bin/kubectl")) ? "/usr/bin/kubectl" : "kubectl";
        List<String> cmd = new ArrayList<>();
        cmd.add(kubectl);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        if (System.getenv("KUBECONFIG") == null) {
            boolean root = "root".equals(System.getProperty("user.name"));
            Path config = root ? Path.of("/etc/k3j/k3j.yaml") : Path.of(System.getProperty("user.home"), ".kube", "k3j.yaml");
            pb.environment().put("KUBECONFIG", config.toString());
        }
        try {
            return pb.start().waitFor();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot run kubectl (" + e.getMessage() + "): install kubectl or put it on PATH");
        }
    }
}
