package io.k3j.cluster.spec;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code -v/--volume SRC:DEST[:ro|rw][@NODEFILTER]}: the host folder SRC visible at DEST inside the selected nodes.
 *
 * @param filters which nodes; empty = all servers and agents (k3d's default)
 */
public record VolumeMount(Path source, Path destination, boolean readOnly, List<NodeFilter> filters) {
}
