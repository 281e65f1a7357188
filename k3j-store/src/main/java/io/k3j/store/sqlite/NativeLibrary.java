package io.k3j.store.sqlite;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.sqlite.SQLiteJDBCLoader;
import org.sqlite.util.LibraryLoaderUtil;

/**
 * Points sqlite-jdbc at a copy of its native library kept beside the database. Left alone, sqlite-jdbc copies
 * the library out of its jar into the temp folder under a new name on every start, then reads both back to
 * compare them (~1 MB inflated, written and read twice): a good part of the server's "opening datastore" step.
 * The copy is named by sqlite-jdbc's version and platform; if anything fails, or the
 * library will not load from there, sqlite-jdbc falls back to its own extraction.
 */
final class NativeLibrary {
    private static final String PATH = "org.sqlite.lib.path";
    private static final String NAME = "org.sqlite.lib.name";

    private NativeLibrary() {
    }

    /** Before the first connection of this JVM: copy the library into {@code dir} if not there yet, and use it. */
    static synchronized void useCopyIn(Path dir) {
        if (System.getProperty(PATH) != null || System.getProperty(NAME) != null) return; // chosen by the user, or done
        try {
            String name = LibraryLoaderUtil.getNativeLibName();
            String folder = LibraryLoaderUtil.getNativeLibResourcePath();
            Path target = dir.resolve("sqlite-jdbc-" + SQLiteJDBCLoader.getVersion() + folder.replace("/org/sqlite/native", "").replace('/', '-'));
            Path lib = target.resolve(name);
            if (!Files.isRegularFile(lib)) {
                // written whole under another name, then renamed: a file of that name is complete
                try (InputStream in = SQLiteJDBCLoader.class.getResourceAsStream(folder + "/" + name)) {
                    if (in == null) return;
                    Files.createDirectories(target);
                    Path tmp = Files.createTempFile(target, name, ".tmp");
                    try {
                        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                        Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } finally {
                        Files.deleteIfExists(tmp);
                    }
                }
            }
            System.setProperty(PATH, target.toString());
            System.setProperty(NAME, name);
        } catch (IOException | RuntimeException e) {
            System.getLogger(NativeLibrary.class.getName()).log(System.Logger.Level.DEBUG,
                    "keeping a copy of SQLite's native library in " + dir + ": " + e + "; sqlite-jdbc extracts it itself");
        }
    }
}
