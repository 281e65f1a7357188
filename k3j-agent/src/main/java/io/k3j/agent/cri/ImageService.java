package io.k3j.agent.cri;

import io.k3j.agent.cri.v1.*;

/**
 * The CRI v1 image service ({@code runtime.v1.ImageService}). Images reach a k3j node by import (see
 * io.k3j.agent.image), so {@link #pullImage} exists for completeness only: it makes the runtime contact a registry.
 * Every method throws {@link CriException}. A missing image is not an error of {@link #imageStatus}: the response then
 * has no image.
 */
public interface ImageService {

    ListImagesResponse listImages(ListImagesRequest request);

    ImageStatusResponse imageStatus(ImageStatusRequest request);

    /** Contacts a registry (network!): never called by tests. */
    PullImageResponse pullImage(PullImageRequest request);

    RemoveImageResponse removeImage(RemoveImageRequest request);

    ImageFsInfoResponse imageFsInfo(ImageFsInfoRequest request);
}
