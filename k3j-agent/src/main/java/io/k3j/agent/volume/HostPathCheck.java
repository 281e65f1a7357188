package io.k3j.agent.volume;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** The hostPath type checks of pkg/volume/hostpath, with their messages. */
final class HostPathCheck {

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFCHR = 0020000;

    private HostPathCheck() { }

    /**
     * Checks (and for the *OrCreate types creates) {@code path} as {@code type} demands.
     *
     * @throws IllegalArgumentException {@code hostPath type check failed: /x is not a directory} and the like
     */
    static Path check(String pathText, String type) throws IOException {
        if (pathText.isEmpty()) throw new IllegalArgumentException("hostPath path must not be empty");
        Path p = Path.of(pathText);
        switch (type) {
            case "" -> { }
            case "DirectoryOrCreate" -> {
                if (!Files.exists(p)) {
                    Files.createDirectories(p);
                    AtomicWriter.setMode(p, 0755);
                } else if (!Files.isDirectory(p)) {
                    fail(p, "a directory");
                }
            }
            case "Directory" -> { if (!Files.isDirectory(p)) fail(p, "a directory"); }
            case "FileOrCreate" -> {
                if (!Files.exists(p)) {
                    Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
                } else if (!Files.isRegularFile(p)) {
                    fail(p, "a file");
                }
            }
            case "File" -> { if (!Files.isRegularFile(p)) fail(p, "a file"); }
            case "Socket" -> { if (fileType(p) != S_IFSOCK) fail(p, "a socket file"); }
            case "CharDevice" -> { if (fileType(p) != S_IFCHR) fail(p, "a character device"); }
            case "BlockDevice" -> { if (fileType(p) != S_IFBLK) fail(p, "a block device"); }
            default -> throw new IllegalArgumentException("invalid HostPathType " + type);
        }
        return p;
    }

    private static int fileType(Path p) throws IOException {
        if (!Files.exists(p)) return -1;
        return (Integer) Files.getAttribute(p, "unix:mode") & S_IFMT;
    }

    private static void fail(Path p, String what) {
        throw new IllegalArgumentException("hostPath type check failed: " + p + " is not " + what);
    }

}
