package io.k3j.agent.host;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Debian packages the node runtime needs (containerd, runc, CNI plugins, ...), installed with apt-get when missing. */
public final class Packages {

    /** No debconf questions: there is nobody to answer them. */
    private static final Map<String, String> NONINTERACTIVE = Map.of("DEBIAN_FRONTEND", "noninteractive");

    private Packages() {
    }

    /**
     * Makes sure every package is installed: asks dpkg-query, and installs the missing ones with
     * {@code apt-get install -y} (after {@code apt-get update} when the first attempt finds no candidate).
     *
     * @throws IllegalStateException when packages are missing and the process is not root, or apt-get fails
     */
    public static void ensure(String... debianPackages) {
        List<String> missing = missing(debianPackages);
        if (missing.isEmpty()) return;
        if (!isRoot()) {
            throw new IllegalStateException("Debian packages " + missing + " are missing and installing them needs root: "
                    + "run `apt-get install -y " + String.join(" ", missing) + "` as root, or run the agent as root");
        }
        List<String> install = new ArrayList<>(List.of("apt-get", "install", "-y", "--no-install-recommends"));
        install.addAll(missing);
        Processes.Result r = Processes.run(Duration.ofMinutes(10), NONINTERACTIVE, install);
        if (!r.ok()) {
            Processes.Result update = Processes.run(Duration.ofMinutes(5), "apt-get", "update");
            if (!update.ok()) throw new IllegalStateException("apt-get update failed: " + tail(update.output()));
            r = Processes.run(Duration.ofMinutes(10), NONINTERACTIVE, install);
        }
        if (!r.ok()) throw new IllegalStateException("installing " + missing + " failed: " + tail(r.output()));
        List<String> still = missing(missing.toArray(String[]::new));
        if (!still.isEmpty()) throw new IllegalStateException("apt-get succeeded but " + still + " are still not installed");
    }

    /** The packages of the list that dpkg does not report as installed. */
    public static List<String> missing(String... debianPackages) {
        List<String> missing = new ArrayList<>();
        for (String p : debianPackages) {
            Processes.Result r = Processes.run(Duration.ofSeconds(30), "dpkg-query", "-W", "-f=${Status}", p);
            if (!r.ok() || !r.output().contains("install ok installed")) missing.add(p);
        }
        return missing;
    }

    /** True when the agent runs as root (uid 0). */
    public static boolean isRoot() {
        Processes.Result r = Processes.run(Duration.ofSeconds(10), "id", "-u");
        return r.ok() && r.output().trim().equals("0");
    }

    private static String tail(String output) {
        String t = output.strip();
        return t.length() > 2000 ? "..." + t.substring(t.length() - 2000) : t;
    }
}
