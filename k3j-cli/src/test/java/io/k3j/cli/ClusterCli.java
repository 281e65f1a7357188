package io.k3j.cli;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The k3j CLI and kubectl as a user's shell runs them for the cluster tool's end-to-end tests: every command a new
 * process with the test's own cluster folder ({@code K3J_CLUSTER_DIR}) and kubeconfig ({@code KUBECONFIG}); a
 * non-zero exit fails the test with the command's output.
 */
record ClusterCli(Path root, Path kubeconfig) {
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    String k3j(String... args) {
        List<String> cmd = new ArrayList<>(List.of(JAVA.toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classPath(), "io.k3j.cli.Main"));
        cmd.addAll(List.of(args));
        return run(cmd, null);
    }

    String kubectl(String... args) {
        return kubectlIn(null, args);
    }

    String kubectlIn(String stdin, String... args) {
        List<String> cmd = new ArrayList<>(List.of("kubectl"));
        cmd.addAll(List.of(args));
        return run(cmd, stdin);
    }

    private String run(List<String> cmd, String stdin) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("K3J_CLUSTER_DIR", root.toString());
            pb.environment().put("KUBECONFIG", kubeconfig.toString());
            Process p = pb.start();
            if (stdin != null) p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " timed out");
            }
            String text = new String(out, StandardCharsets.UTF_8).lines().filter(l -> !l.startsWith("WARNING: ")).reduce("", (a, b) -> a + b + "\n");
            if (cmd.getFirst().equals(JAVA.toString())) System.err.print(text);
            if (p.exitValue() != 0) throw new AssertionError(String.join(" ", cmd.subList(Math.min(cmd.size(), cmd.indexOf("io.k3j.cli.Main") + 1), cmd.size()))
                    + " exited " + p.exitValue() + ":\n" + text);
            return text;
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The real class path: surefire may hand the JVM a manifest-only jar whose Class-Path lists it. */
    static String classPath() {
        String cp = System.getProperty("java.class.path");
        if (cp.contains(java.io.File.pathSeparator) || !cp.endsWith(".jar")) return cp;
        try (JarFile jar = new JarFile(cp)) {
            String manifestCp = jar.getManifest().getMainAttributes().getValue("Class-Path");
            if (manifestCp == null) return cp;
            List<String> entries = new ArrayList<>();
            for (String e : manifestCp.trim().split("\\s+")) entries.add(Path.of(URI.create(e)).toString());
            return String.join(java.io.File.pathSeparator, entries);
        } catch (IOException | IllegalArgumentException e) {
            return cp;
        }
    }

    /** Four random hex digits: a cluster name's suffix that other test runs on the machine won't share. */
    static String newId() {
        byte[] b = new byte[2];
        new java.security.SecureRandom().nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }
}
