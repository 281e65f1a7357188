package io.k3j.cluster.lb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.cluster.lb.LoadBalancerConfig.Protocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * What a {@code k3j loadbalancer} process reports in its status file ({@code --status-file}), rewritten atomically
 * after it starts and after every reload:
 *
 * <pre>{@code
 * {"pid": 4242, "configDigest": "9f2c…", "error": null,
 *  "listeners": [{"name": "api", "protocol": "tcp", "bind": "127.0.0.1", "port": 6445, "error": null}]}
 * }</pre>
 *
 * @param pid          the load balancer's process id
 * @param configDigest {@link LoadBalancerConfig#digest()} of the config last read from the file (applied, unless
 *                     {@code error} says it could not be parsed)
 * @param error        why the last config file could not be read or parsed (the previous config stays in force), or null
 * @param listeners    each listener with its bound port or the bind error naming the fix
 */
public record LoadBalancerStatus(long pid, String configDigest, String error, List<ListenerStatus> listeners) {
    public LoadBalancerStatus {
        listeners = List.copyOf(listeners);
    }

    /** True when the config with this digest was read and every listener is bound. */
    public boolean ready(String digest) {
        return digest.equals(configDigest) && error == null && listeners.stream().allMatch(ListenerStatus::up);
    }

    /** The listeners that failed to bind, with why. */
    public List<ListenerStatus> failed() {
        return listeners.stream().filter(l -> !l.up()).toList();
    }

    /**
     * Waits until the process behind {@code statusFile} has taken in the config with {@code digest} (bound or not),
     * e.g. after {@link LoadBalancerConfig#write(Path)} on a running load balancer, or after starting one.
     *
     * @throws TimeoutException when it hasn't within {@code timeout} (is the process running?)
     */
    public static LoadBalancerStatus await(Path statusFile, String digest, Duration timeout) throws IOException, TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        LoadBalancerStatus last = null;
        while (true) {
            try {
                last = read(statusFile);
                if (digest.equals(last.configDigest())) return last;
            } catch (NoSuchFileException e) {
                // not written yet
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("the load balancer did not take in its new config within " + timeout
                        + (last == null ? " (no status in " + statusFile + ")" : last.error() != null ? ": " + last.error() : ""));
            }
            Thread.sleep(20);
        }
    }

    /** Reads a status file. */
    public static LoadBalancerStatus read(Path file) throws IOException {
        JsonNode root = Json.MAPPER.readTree(Files.readString(file));
        List<ListenerStatus> listeners = new ArrayList<>();
        for (JsonNode l : root.path("listeners")) {
            listeners.add(new ListenerStatus(l.path("name").asText(), Protocol.valueOf(l.path("protocol").asText("tcp").toUpperCase(Locale.ROOT)),
                    l.path("bind").asText(), l.path("port").asInt(), l.path("error").isTextual() ? l.path("error").asText() : null));
        }
        return new LoadBalancerStatus(root.path("pid").asLong(), root.path("configDigest").asText(null),
                root.path("error").isTextual() ? root.path("error").asText() : null, listeners);
    }

    /** Writes it atomically, so a reader never sees half a file. */
    public void write(Path file) throws IOException {
        ObjectNode root = Json.object();
        root.put("pid", pid).put("configDigest", configDigest).put("error", error);
        var ls = root.putArray("listeners");
        for (ListenerStatus l : listeners) {
            ls.addObject().put("name", l.name()).put("protocol", l.protocol().id()).put("bind", l.bind()).put("port", l.port()).put("error", l.error());
        }
        Path abs = file.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
        Files.writeString(tmp, Json.MAPPER.writeValueAsString(root) + "\n");
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
