package io.k3j.agent.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Removing a node's cgroups once nothing runs in them (runc leaves the pods' parent cgroups behind). */
public final class Cgroups {
    private static final System.Logger LOG = System.getLogger(Cgroups.class.getName());
    private static final Path ROOT = Path.of("/sys/fs/cgroup");

    private Cgroups() {
    }

    /** Removes a cgroup subtree, deepest first, in the unified hierarchy or every v1 hierarchy; best effort. */
    public static void removeTree(String cgroup) {
        try (var hierarchies = Files.list(ROOT)) {
            for (Path h : (Iterable<Path>) hierarchies::iterator) {
                Path dir = h.resolve(cgroup.substring(1));
                if (!Files.isDirectory(dir) || Files.isSymbolicLink(h)) continue;
                try (var tree = Files.walk(dir)) {
                    // cgroup directories are removed with rmdir, their files vanish with them
                    tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).forEach(d -> d.toFile().delete());
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "removing cgroup {0}: {1}", cgroup, e.toString());
        }
    }

    /** Removes a cgroup in every hierarchy if it has no children (the last node of a host takes its parent along). */
    public static void removeIfEmpty(String cgroup) {
        try (var hierarchies = Files.list(ROOT)) {
            for (Path h : (Iterable<Path>) hierarchies::iterator) {
                // rmdir fails on a cgroup that still has children: exactly the "only if empty" wanted here
                h.resolve(cgroup.substring(1)).toFile().delete();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "removing cgroup {0}: {1}", cgroup, e.toString());
        }
    }
}
