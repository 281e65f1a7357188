package io.k3j.cluster.spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * {@code -v/--volume SRC:DEST[:ro|rw][@NODEFILTER]}: the host folder SRC visible at DEST inside the selected nodes.
 *
 * @param source      absolute, existing host path
 * @param destination absolute path inside the nodes
 * @param filters     which nodes; empty = all servers and agents (k3d's default)
 */
public record VolumeMount(Path source, Path destination, boolean readOnly, List<NodeFilter> filters) {
    public VolumeMount {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
        filters = List.copyOf(filters);
    }

    /**
     * Parses a {@code --volume} value; a relative SRC is taken from the current directory.
     *
     * @throws IllegalArgumentException if the syntax is wrong, SRC does not exist or DEST is not absolute
     */
    public static VolumeMount parse(String flag) {
        return parse(flag, Path.of(""));
    }

    /** As {@link #parse(String)}, a relative SRC resolved against {@code base} (a config file's folder). */
    public static VolumeMount parse(String flag, Path base) {
        Objects.requireNonNull(flag, "flag");
        FilterSuffix.Split split = FilterSuffix.split(flag);
        return parse(flag, split.value(), split.filters(), base);
    }

    static VolumeMount parse(String flag, String spec, List<NodeFilter> filters, Path base) {
        FilterSuffix.requireNodeFilters(flag, filters, "volume");
        String[] parts = spec.split(":", -1);
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw bad(flag, "expected SRC:DEST[:ro|rw][@NODEFILTER], e.g. /home/me/code:/code@agent:*");
        }
        boolean readOnly = false;
        if (parts.length == 3) {
            switch (parts[2].toLowerCase(Locale.ROOT)) {
                case "ro" -> readOnly = true;
                case "rw" -> readOnly = false;
                default -> throw bad(flag, "mode '" + parts[2] + "' is not ro or rw");
            }
        }
        String src = parts[0];
        if (src.equals("~") || src.startsWith("~/")) src = System.getProperty("user.home") + src.substring(1);
        Path source = base.resolve(src).toAbsolutePath().normalize();
        if (!Files.exists(source)) {
            throw bad(flag, "source " + source + " does not exist (create it first; k3j mounts host paths, not named volumes)");
        }
        if (!parts[1].startsWith("/")) throw bad(flag, "destination '" + parts[1] + "' is not an absolute path");
        return new VolumeMount(source, Path.of(parts[1]).normalize(), readOnly, filters);
    }

    private static IllegalArgumentException bad(String flag, String why) {
        return new IllegalArgumentException("volume '" + flag + "' is not valid: " + why);
    }

    /** In {@code --volume} syntax without filters. */
    public String toFlag() {
        return source + ":" + destination + (readOnly ? ":ro" : "");
    }
}
