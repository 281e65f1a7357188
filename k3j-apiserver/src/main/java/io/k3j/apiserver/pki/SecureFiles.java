package io.k3j.apiserver.pki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Writes credentials so that no other user can ever read them, not even for the moment between creating a file
 * and restricting it: the content goes to a temporary file in the same folder whose mode is set before the
 * secret is written, which then replaces the target atomically (a crash leaves the old file or the new one).
 */
final class SecureFiles {

    static final int KEY_MODE = 0600;
    static final int CERT_MODE = 0644;
    static final int DIR_MODE = 0700;

    private SecureFiles() {
    }

    static void write(Path file, String content, int mode) throws IOException {
        write(file, content.getBytes(StandardCharsets.UTF_8), mode);
    }

    static void write(Path file, byte[] content, int mode) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            // createTempFile gives 0600 on POSIX; set the final mode only once the bytes are complete,
            // so a wider mode (a 0644 kubeconfig) never exposes a half-written file.
            chmod(tmp, KEY_MODE);
            Files.write(tmp, content);
            chmod(tmp, mode);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static void createPrivateDirectory(Path dir) throws IOException {
        try {
            Files.createDirectories(dir.toAbsolutePath().getParent());
            Files.createDirectory(dir);
            chmod(dir, DIR_MODE);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw new IOException(dir + " exists and is not a directory", e);
            }
        }
    }

    /** Applies the permission bits of {@code mode} (0..0777); a file system without POSIX modes is left as is. */
    static void chmod(Path path, int mode) throws IOException {
        if (mode < 0 || mode > 0777) {
            throw new IllegalArgumentException("mode : 0" + Integer.toOctalString(mode) + " (expected: 0 to 0777)");
        }
        try {
            Files.setPosixFilePermissions(path, permissions(mode));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system (e.g. Windows): its own ACLs apply.
        }
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
        };
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                perms.add(bits[i]);
            }
        }
        return perms;
    }
}
