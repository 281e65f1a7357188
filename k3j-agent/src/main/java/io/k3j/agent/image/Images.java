package io.k3j.agent.image;

import io.k3j.agent.cri.ImageService;
import io.k3j.agent.cri.v1.ImageSpec;
import io.k3j.agent.cri.v1.ImageStatusRequest;
import io.k3j.agent.host.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Loading images into a node's containerd without a registry: OCI archives imported with {@code ctr} into the
 * {@code k8s.io} namespace (the one the CRI plugin serves), where CRI sees them at once. Images are never pulled:
 * containerd would ask a registry even for an image that is present.
 */
public final class Images {

    /** containerd's namespace for CRI. */
    public static final String CRI_NAMESPACE = "k8s.io";

    private Images() {
    }

    /**
     * Imports {@code archive} (an OCI image layout or docker-save tar) into the containerd on {@code ctrSocket}.
     * The images keep the names their index gives them.
     *
     * @throws IllegalStateException when ctr fails (its output is included)
     */
    public static void importArchive(Path ctrSocket, Path archive) {
        if (!Files.isRegularFile(archive)) throw new IllegalArgumentException("archive : " + archive + " (expected: an existing file)");
        Processes.Result r = Processes.run(Duration.ofMinutes(5), List.of("ctr", "--address", ctrSocket.toString(),
                "--namespace", CRI_NAMESPACE, "images", "import", archive.toString()));
        if (!r.ok()) {
            throw new IllegalStateException("importing " + archive + " into containerd at " + ctrSocket + " failed (exit " + r.exitCode() + "): " + r.output().strip());
        }
    }

    /** True when CRI knows {@code reference} (ImageStatus answers with an image). */
    public static boolean present(ImageService cri, String reference) {
        return cri.imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(reference)).build()).hasImage();
    }

    /**
     * Imports {@code archive} unless CRI already knows {@code reference}, then checks that it does.
     *
     * @throws IllegalStateException when the image is still unknown to CRI after the import
     */
    public static void ensure(ImageService cri, Path ctrSocket, Path archive, String reference) {
        if (present(cri, reference)) return;
        importArchive(ctrSocket, archive);
        if (!present(cri, reference)) {
            throw new IllegalStateException("imported " + archive + " but CRI does not know " + reference
                    + " (is the archive's org.opencontainers.image.ref.name the full reference?)");
        }
    }

    /** As {@link #ensure(ImageService, Path, Path, String)}, for an archive written by {@link OciArchive}. */
    public static void ensure(ImageService cri, Path ctrSocket, OciArchive.Written archive) {
        ensure(cri, ctrSocket, archive.archive(), archive.reference());
    }

}
