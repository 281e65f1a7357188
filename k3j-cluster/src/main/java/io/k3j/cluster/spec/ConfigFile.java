package io.k3j.cluster.spec;

import java.util.List;

/**
 * A loaded config file.
 *
 * @param source     the file name (for messages)
 * @param apiVersion as written ({@code k3d.io/v1alpha2} .. {@code k3d.io/v1alpha5}, {@code k3j.io/v1alpha1})
 * @param options    what the file sets
 * @param warnings   settings k3j accepts but ignores (Docker-only ones such as {@code image}), one line each
 */
public record ConfigFile(String source, String apiVersion, ClusterOptions options, List<String> warnings) {
    public ConfigFile {
        warnings = List.copyOf(warnings);
    }
}
