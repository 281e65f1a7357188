package io.k3j.agent.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** What a test node may leave on the host, found by reading /proc: the fixtures check it is gone. */
final class HostScan {
    private HostScan() {
    }

    /** Pids of processes whose command line contains one of {@code needles} or that sit in {@code cgroup} (e.g. /k3j/node). */
    static List<Long> processes(String cgroup, String... needles) {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String f = p.getFileName().toString();
                if (!f.chars().allMatch(Character::isDigit)) continue;
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    String cgroups = new String(Files.readAllBytes(p.resolve("cgroup")));
                    boolean mine = cgroups.contains(cgroup + "/") || cgroups.contains(cgroup + "\n");
                    for (String n : needles) mine |= cmdline.contains(n);
                    if (mine) pids.add(Long.parseLong(f));
                } catch (IOException gone) {
                    // the process exited while we looked
                }
            }
        } catch (IOException e) {
            throw new AssertionError("listing /proc: " + e, e);
        }
        return pids;
    }

    /** Mount points at or under {@code dir}. */
    static List<String> mountsUnder(Path dir) {
        try {
            List<String> out = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4 && (f[4].startsWith(dir + "/") || f[4].equals(dir.toString()))) out.add(f[4]);
            }
            return out;
        } catch (IOException e) {
            throw new AssertionError("reading mountinfo: " + e, e);
        }
    }
}
