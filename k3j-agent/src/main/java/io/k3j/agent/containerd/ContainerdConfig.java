package io.k3j.agent.containerd;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where one node's containerd keeps its things. Several containerds on one host (one per node of a local cluster)
 * must differ in root, state, socket, CNI conf dir and opt dir; keep the socket path under ~100 characters (a unix
 * socket's limit is 108 bytes and containerd appends {@code .ttrpc} for its second socket).
 *
 * @param root         containerd's persistent root (images, snapshots, containers)
 * @param state        containerd's runtime state (tmpfs in production); the pid file lives here
 * @param socket       the gRPC socket the CRI client talks to
 * @param cniConfDir   CNI network configs (*.conflist) the CRI plugin reads
 * @param cniBinDir    CNI plugin executables; Debian's containernetworking-plugins puts them in /usr/lib/cni
 * @param sandboxImage the pause image, which must be imported before the first sandbox: containerd pulls it otherwise
 * @param optDir       the opt plugin's directory (containerd's default /opt/containerd is shared by every instance)
 * @param configFile   where the generated config.toml is written
 * @param logFile      containerd's stdout and stderr
 * @param registries   mirrors and credentials for pulls ({@link Registries#NONE} when there is no registries.yaml)
 */
public record ContainerdConfig(Path root, Path state, Path socket, Path cniConfDir, Path cniBinDir, String sandboxImage,
                               Path optDir, Path configFile, Path logFile, Registries registries) {

    public static final Path DEBIAN_CNI_BIN = Path.of("/usr/lib/cni");
    public static final String PAUSE_IMAGE = "docker.io/k3j/pause:3.10";

    public ContainerdConfig {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(cniConfDir, "cniConfDir");
        if (cniBinDir == null) cniBinDir = DEBIAN_CNI_BIN;
        if (sandboxImage == null || sandboxImage.isBlank()) sandboxImage = PAUSE_IMAGE;
        if (optDir == null) optDir = root.resolve("opt");
        if (configFile == null) configFile = state.resolve("config.toml");
        if (logFile == null) logFile = state.resolve("containerd.log");
        if (registries == null) registries = Registries.NONE;
        if (socket.toString().length() > 100) {
            throw new IllegalArgumentException("socket : " + socket + " (expected: a path of at most 100 characters)");
        }
    }

    /**
     * The agent's layout: data dir D holds D/containerd (root), D/etc/containerd/config.toml, D/etc/cni/net.d and
     * D/containerd.log; run dir R (e.g. /run/k3j/&lt;node&gt;) holds R/containerd (state) and R/containerd/containerd.sock.
     */
    public static ContainerdConfig forNode(Path dataDir, Path runDir) {
        Path state = runDir.resolve("containerd");
        return new ContainerdConfig(dataDir.resolve("containerd"), state, state.resolve("containerd.sock"),
                dataDir.resolve("etc/cni/net.d"), DEBIAN_CNI_BIN, PAUSE_IMAGE, dataDir.resolve("containerd/opt"),
                dataDir.resolve("etc/containerd/config.toml"), dataDir.resolve("containerd.log"), null);
    }

    /** Everything under one directory (tests): root, state, socket, CNI conf dir, config and log. */
    public static ContainerdConfig under(Path dir) {
        return new ContainerdConfig(dir.resolve("root"), dir.resolve("state"), dir.resolve("state/containerd.sock"),
                dir.resolve("cni/net.d"), DEBIAN_CNI_BIN, PAUSE_IMAGE, null, null, null, null);
    }

    public ContainerdConfig withCniBinDir(Path dir) {
        return new ContainerdConfig(root, state, socket, cniConfDir, dir, sandboxImage, optDir, configFile, logFile, registries);
    }

    public ContainerdConfig withSandboxImage(String image) {
        return new ContainerdConfig(root, state, socket, cniConfDir, cniBinDir, image, optDir, configFile, logFile, registries);
    }

    /** The same containerd with registry mirrors and credentials (k3s's registries.yaml). */
    public ContainerdConfig withRegistries(Registries r) {
        return new ContainerdConfig(root, state, socket, cniConfDir, cniBinDir, sandboxImage, optDir, configFile, logFile, r);
    }

    public ContainerdConfig withLogFile(Path file) {
        return new ContainerdConfig(root, state, socket, cniConfDir, cniBinDir, sandboxImage, optDir, configFile, file, registries);
    }

    /** The file containerd's PID is recorded in, so that the next agent run can adopt a containerd that outlived it. */
    public Path pidFile() {
        return state.resolve("k3j-containerd.pid");
    }
}
