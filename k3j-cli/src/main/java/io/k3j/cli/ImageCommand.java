package io.k3j.cli;

import io.k3j.agent.image.Images;
import io.k3j.agent.image.OciArchive;
import io.k3j.agent.image.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code k3j image}: images without a registry — build OCI archives and import them into a node's containerd. */
@Command(name = "image", aliases = "images", mixinStandardHelpOptions = true,
        description = "Build image archives and import them into a node's containerd (no registry needed).",
        subcommands = {ImageCommand.Import.class, ImageCommand.Build.class})
final class ImageCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "import", aliases = "load", mixinStandardHelpOptions = true,
            description = {"Import OCI or docker archives into this machine's node (the containerd of `k3j server` or `k3j agent`).",
                "Archives in <data-dir>/agent/images/ are imported whenever the node starts (the air-gap folder)."})
    static final class Import implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ARCHIVE", arity = "1..*", description = "Image archives (.tar, .tar.gz)")
        List<Path> archives = new ArrayList<>();

        @Option(names = "--node-name", paramLabel = "NAME", defaultValue = "${env:K3J_NODE_NAME}", description = "The node whose containerd receives the images (default: the host name)")
        String nodeName;

        @Option(names = {"-c", "--cluster"}, paramLabel = "NAME", description = "Import into every node of this local cluster (k3j cluster)")
        String cluster;

        @Override
        public Integer call() {
            for (Path a : archives) {
                if (!Files.isRegularFile(a)) throw new ParameterException(spec.commandLine(), "no such archive: " + a);
            }
            if (cluster != null) {
                ClusterCommand.manager().importImages(cluster, archives.stream().map(Path::toAbsolutePath).toList());
                return 0;
            }
            String node = AgentCommand.Nodes.nodeName(nodeName);
            Path socket = AgentCommand.Nodes.runDir(node).resolve("containerd/containerd.sock");
            if (!Files.exists(socket)) {
                throw new ParameterException(spec.commandLine(), "node " + node + " has no running containerd (" + socket + "): start `k3j server` or `k3j agent`"
                        + " first, or use --node-name; archives put in <data-dir>/agent/images/ are imported when the node starts");
            }
            for (Path a : archives) {
                long t0 = System.nanoTime();
                Images.importArchive(socket, a);
                System.out.printf("imported %s into node %s (%d ms)%n", a, node, (System.nanoTime() - t0) / 1_000_000);
            }
            return 0;
        }
    }

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = {"Pack a folder as a single-layer OCI image archive with a full reference name, ready for `k3j image import`",
                "or the air-gap folder. --busybox builds docker.io/library/busybox:1.35 from Debian's busybox-static."})
    static final class Build implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "DIR", arity = "0..1", description = "The image's root file system")
        Path dir;

        @Option(names = {"-t", "--tag"}, paramLabel = "REF", description = "Full reference, e.g. docker.io/me/app:1.0")
        String tag;

        @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true, description = "The archive to write")
        Path output;

        @Option(names = "--entrypoint", paramLabel = "ARG", split = ",", description = "Entrypoint, comma-separated")
        List<String> entrypoint = new ArrayList<>();

        @Option(names = "--cmd", paramLabel = "ARG", split = ",", description = "Default command, comma-separated")
        List<String> cmd = new ArrayList<>();

        @Option(names = {"-e", "--env"}, paramLabel = "KEY=VALUE", description = "Environment of the image")
        List<String> env = new ArrayList<>();

        @Option(names = {"-w", "--workdir"}, paramLabel = "DIR", description = "Working directory")
        String workdir;

        @Option(names = "--busybox", description = "Build the busybox test image from Debian's busybox-static instead of DIR")
        boolean busybox;

        @Override
        public Integer call() throws Exception {
            OciArchive.Written written;
            if (busybox) {
                if (dir != null || tag != null) throw new ParameterException(spec.commandLine(), "--busybox takes neither DIR nor --tag");
                Path work = Files.createTempDirectory("k3j-image");
                try {
                    written = TestImages.busybox(work);
                    Files.createDirectories(output.toAbsolutePath().getParent());
                    Files.move(written.archive(), output, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    try (var s = Files.walk(work)) {
                        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
                System.out.printf("wrote %s (%s)%n", output, written.reference());
                return 0;
            }
            if (dir == null || !Files.isDirectory(dir)) throw new ParameterException(spec.commandLine(), "DIR must be an existing folder (or use --busybox)");
            if (tag == null || !tag.contains("/") || !tag.contains(":")) {
                throw new ParameterException(spec.commandLine(), "--tag must be a full reference such as docker.io/me/app:1.0 (registry/name:tag)");
            }
            OciArchive image = OciArchive.image(tag).layer(OciArchive.Layer.fromDirectory(dir));
            if (!entrypoint.isEmpty()) image.entrypoint(entrypoint.toArray(String[]::new));
            if (!cmd.isEmpty()) image.cmd(cmd.toArray(String[]::new));
            if (!env.isEmpty()) image.env(env.toArray(String[]::new));
            if (workdir != null) image.workingDir(workdir);
            written = image.writeTo(output);
            System.out.printf("wrote %s (%s, %s)%n", output, written.reference(), written.manifestDigest());
            return 0;
        }
    }
}
