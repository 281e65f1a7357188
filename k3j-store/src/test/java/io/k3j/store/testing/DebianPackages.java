package io.k3j.store.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Installs the Debian packages a datastore test needs (postgresql, mariadb-server, etcd-server) when they are missing,
 * the way CI must: as root, with apt-get, and without starting the packages' services (tests run private instances).
 */
public final class DebianPackages {

    private DebianPackages() {
    }

    /**
     * Makes sure every package is installed.
     *
     * @throws IllegalStateException when packages are missing and this is not root, or apt-get fails
     */
    public static synchronized void ensure(String... packages) {
        List<String> missing = missing(packages);
        if (missing.isEmpty()) return;
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("Debian packages " + missing + " are missing: run `apt-get install -y "
                    + String.join(" ", missing) + "` as root");
        }
        List<String> install = new ArrayList<>(List.of("apt-get", "install", "-y", "--no-install-recommends"));
        install.addAll(missing);
        if (run(install) != 0) {
            run(List.of("apt-get", "update"));
            if (run(install) != 0) throw new IllegalStateException("apt-get install " + missing + " failed");
        }
        List<String> still = missing(packages);
        if (!still.isEmpty()) throw new IllegalStateException("apt-get succeeded but " + still + " are still not installed");
    }

    /** The packages dpkg does not report as installed. */
    public static List<String> missing(String... packages) {
        List<String> missing = new ArrayList<>();
        for (String p : packages) {
            try {
                Process q = new ProcessBuilder("dpkg-query", "-W", "-f=${Status}", p).redirectErrorStream(true).start();
                String out = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (q.waitFor() != 0 || !out.contains("install ok installed")) missing.add(p);
            } catch (IOException e) {
                throw new IllegalStateException("dpkg-query failed", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return missing;
    }

    private static int run(List<String> command) {
        try {
            // apt's output is read here and printed through System.out: a child writing to the inherited stdout
            // descriptor would write into the channel surefire's forked JVM reports on ("Corrupted channel")
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            // no debconf questions, and (as policy-rc.d does) no service started by the package's scripts
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            pb.environment().put("RUNLEVEL", "1");
            Process p = pb.start();
            Thread.ofVirtual().start(() -> {
                try (var lines = p.inputReader(StandardCharsets.UTF_8)) {
                    lines.lines().forEach(l -> System.out.println("[apt] " + l));
                } catch (IOException | java.io.UncheckedIOException ended) {
                    // the process is gone
                }
            });
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            throw new IllegalStateException(String.join(" ", command) + " failed to start", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
