package io.k3j.agent.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import io.k3j.agent.host.Processes;

/**
 * The two images a k3j node can build by itself from Debian's static busybox (package busybox-static): the test
 * image {@code docker.io/library/busybox:1.35} and the pause image {@code docker.io/k3j/pause:3.10}. No registry, no
 * download: the pause image in particular must be imported before the first RunPodSandbox, or containerd pulls it.
 */
public final class TestImages {

    public static final String BUSYBOX = "docker.io/library/busybox:1.35";
    public static final String PAUSE = "docker.io/k3j/pause:3.10";
    public static final Path BUSYBOX_BINARY = Path.of("/bin/busybox");

    /**
     * The pause process: busybox's sh as the sandbox's PID 1. It waits on a sleeping child so that signals interrupt
     * the wait (a PID 1 without handlers ignores SIGTERM), exits 0 on SIGTERM/SIGINT, and its {@code wait} reaps the
     * orphans the kernel hands to PID 1. busybox picks the applet from the name it is called by, hence the symlinks.
     */
    static final List<String> PAUSE_ENTRYPOINT = List.of("/bin/sh", "-c",
            "trap 'exit 0' TERM INT; while :; do sleep 2147483647 & wait; done");

    private TestImages() {
    }

    /**
     * Writes (or reuses) {@code workDir/busybox-1.35.oci.tar}: /bin/busybox plus a symlink per applet in /bin,
     * /etc/passwd and /etc/group (root, nobody 65534), /tmp (1777), /root, /home; Cmd {@code ["sh"]}.
     */
    public static OciArchive.Written busybox(Path workDir) {
        List<OciArchive.Entry> e = new ArrayList<>();
        e.add(OciArchive.Entry.directory("bin", 0755));
        e.add(OciArchive.Entry.file("bin/busybox", 0755, binary()));
        for (String applet : applets()) {
            if (!applet.equals("busybox")) e.add(OciArchive.Entry.symlink("bin/" + applet, "busybox"));
        }
        e.add(OciArchive.Entry.directory("etc", 0755));
        e.add(OciArchive.Entry.file("etc/passwd", 0644, ("root:x:0:0:root:/root:/bin/sh\n"
                + "nobody:x:65534:65534:nobody:/home:/bin/false\n").getBytes(StandardCharsets.UTF_8)));
        e.add(OciArchive.Entry.file("etc/group", 0644, "root:x:0:\nnobody:x:65534:\n".getBytes(StandardCharsets.UTF_8)));
        e.add(OciArchive.Entry.directory("home", 0755));
        e.add(OciArchive.Entry.directory("root", 0700));
        e.add(OciArchive.Entry.directory("tmp", 01777));
        e.add(OciArchive.Entry.directory("var", 0755));
        return OciArchive.image(BUSYBOX)
                .layer(OciArchive.Layer.of(e))
                .cmd("sh")
                .writeTo(workDir.resolve("busybox-1.35.oci.tar"));
    }

    /**
     * Writes {@code workDir/pause-3.10.oci.tar}: /bin/busybox with just the sh and sleep applets, sleeping until
     * signalled (see {@link #PAUSE_ENTRYPOINT}).
     */
    public static OciArchive.Written pause(Path workDir) {
        List<OciArchive.Entry> e = List.of(
                OciArchive.Entry.directory("bin", 0755),
                OciArchive.Entry.file("bin/busybox", 0755, binary()),
                OciArchive.Entry.symlink("bin/sh", "busybox"),
                OciArchive.Entry.symlink("bin/sleep", "busybox"),
                OciArchive.Entry.directory("tmp", 01777));
        return OciArchive.image(PAUSE)
                .layer(OciArchive.Layer.of(e))
                .env("PATH=/bin")
                .entrypoint(PAUSE_ENTRYPOINT.toArray(String[]::new))
                .writeTo(workDir.resolve("pause-3.10.oci.tar"));
    }

    private static Path binary() {
        if (!Files.isExecutable(BUSYBOX_BINARY)) {
            throw new IllegalStateException(BUSYBOX_BINARY + " is missing: install Debian's busybox-static (io.k3j.agent.host.Packages.ensure(\"busybox-static\"))");
        }
        return BUSYBOX_BINARY;
    }

    /** busybox's applet names, in its order. */
    static Set<String> applets() {
        Processes.Result r = Processes.run(Duration.ofSeconds(10), binary().toString(), "--list");
        if (!r.ok()) throw new UncheckedIOException(new IOException("busybox --list failed: " + r.output()));
        Set<String> names = new LinkedHashSet<>();
        for (String line : r.output().split("\n")) {
            String n = line.strip();
            if (!n.isEmpty() && !n.contains("/")) names.add(n);
        }
        return names;
    }
}
