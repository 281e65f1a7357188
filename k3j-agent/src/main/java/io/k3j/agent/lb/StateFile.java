package io.k3j.agent.lb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The servers the load balancer last knew, kept on disk so that an agent restarting while its {@code --server} is
 * down still reaches another one. The layout is k3s's {@code k3s-agent-load-balancer.json}:
 * <pre>{"ServerURL": "https://10.0.0.1:6443", "ServerAddresses": ["10.0.0.1:6443", "10.0.0.2:6443"]}</pre>
 * A saved list belongs to the server URL it was learnt from: with another {@code --server} it is ignored (the agent
 * may have moved to another cluster).
 */
final class StateFile {
    private static final System.Logger LOG = System.getLogger(StateFile.class.getName());

    private StateFile() {
    }

    /** The saved addresses for {@code serverUrl}; empty when there are none, they belong to another URL or are unreadable. */
    static List<ServerAddress> load(Path file, URI serverUrl) {
        if (file == null || !Files.isRegularFile(file)) return List.of();
        try {
            JsonNode state = Json.parse(Files.readAllBytes(file));
            if (!serverUrl.toString().equals(state.path("ServerURL").asText())) {
                LOG.log(System.Logger.Level.INFO, "ignoring {0}: it was saved for {1}, not {2}", file, state.path("ServerURL").asText(), serverUrl);
                return List.of();
            }
            List<ServerAddress> out = new ArrayList<>();
            for (JsonNode a : state.path("ServerAddresses")) out.add(ServerAddress.parse(a.asText()));
            return out;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "ignoring unreadable load balancer state {0}: {1}", file, e.toString());
            return List.of();
        }
    }

    /** Writes the list atomically (a crash leaves the old list or the new one, never half of one). */
    static void save(Path file, URI serverUrl, List<ServerAddress> servers) throws IOException {
        ObjectNode state = Json.object();
        state.put("ServerURL", serverUrl.toString());
        ArrayNode list = state.putArray("ServerAddresses");
        servers.forEach(s -> list.add(s.toString()));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
        try {
            Files.write(tmp, Json.bytes(state));
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
