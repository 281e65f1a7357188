package io.k3j.cluster.lb;

import io.k3j.cluster.lb.LoadBalancerConfig.Protocol;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which process holds a local port, read from {@code /proc} as {@code ss -p} does: the socket's inode from
 * {@code /proc/net/tcp[6]} (state LISTEN) or {@code /proc/net/udp[6]}, then the process with a
 * {@code socket:[inode]} file descriptor. Processes of other users can't be looked into without root; then the owner
 * stays unknown.
 */
final class PortOwner {
    private static final Path PROC = Path.of("/proc");
    private static final String TCP_LISTEN = "0A";

    private PortOwner() {}

    /** "pid 1234 (java)", or null when it can't be found. */
    static String describe(Protocol protocol, int port) {
        try {
            Set<String> inodes = inodes(protocol, port);
            if (inodes.isEmpty()) return null;
            try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC, p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
                for (Path proc : procs) {
                    if (holds(proc, inodes)) {
                        String comm = read(proc.resolve("comm"));
                        return "pid " + proc.getFileName() + (comm == null ? "" : " (" + comm.strip() + ")");
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: the bind error is reported without the owner
        }
        return null;
    }

    private static Set<String> inodes(Protocol protocol, int port) throws IOException {
        Set<String> inodes = new HashSet<>();
        String hexPort = String.format(":%04X", port);
        for (String table : protocol == Protocol.TCP ? List.of("tcp", "tcp6") : List.of("udp", "udp6")) {
            Path f = PROC.resolve("net").resolve(table);
            if (!Files.isReadable(f)) continue;
            List<String> lines = Files.readAllLines(f);
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                String[] cols = line.trim().split("\\s+");
                if (cols.length < 10 || !cols[1].endsWith(hexPort)) continue;
                if (protocol == Protocol.TCP && !cols[3].equals(TCP_LISTEN)) continue;
                if (!cols[9].equals("0")) inodes.add(cols[9]);
            }
        }
        return inodes;
    }

    private static boolean holds(Path proc, Set<String> inodes) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) return true;
                } catch (IOException | UnsupportedOperationException e) {
                    // the fd closed meanwhile
                }
            }
        } catch (IOException | SecurityException e) {
            // another user's process, or it exited
        }
        return false;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return null;
        }
    }
}
