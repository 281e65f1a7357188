/**
 * Images without a registry: {@link io.k3j.agent.image.OciArchive} writes OCI image-layout archives,
 * {@link io.k3j.agent.image.Images} imports them into containerd, {@link io.k3j.agent.image.TestImages} builds the
 * busybox and pause images from Debian's static busybox.
 */
package io.k3j.agent.image;
