package io.k3j.agent.lb;

import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The servers the load balancer knows and what it last saw of each: the list learnt from the {@code kubernetes}
 * Endpoints (or the saved one), the {@code --server} address as the last resort, whether each answered its last
 * dial or probe, the current server (new connections prefer it, so that one agent's traffic stays on one server
 * while it is healthy) and the open connections to each, to cut them when their server fails.
 */
final class Backends {
    private final ServerAddress defaultServer;
    private final Map<ServerAddress, Set<Channel>> connections = new ConcurrentHashMap<>();
    /** Servers whose last dial or probe failed; the others count as healthy (an unknown server is tried). */
    private final Set<ServerAddress> failed = ConcurrentHashMap.newKeySet();
    private List<ServerAddress> servers = List.of();
    private ServerAddress current;

    Backends(ServerAddress defaultServer) {
        this.defaultServer = defaultServer;
    }

    synchronized List<ServerAddress> servers() {
        return servers;
    }

    synchronized ServerAddress current() {
        return current;
    }

    /**
     * Replaces the list (order kept, duplicates dropped).
     *
     * @return the servers that left it, whose connections the caller closes; null when the list did not change
     */
    synchronized Set<ServerAddress> setServers(List<ServerAddress> next) {
        List<ServerAddress> list = List.copyOf(new LinkedHashSet<>(next));
        if (list.equals(servers)) return null;
        Set<ServerAddress> removed = new HashSet<>(servers);
        removed.removeAll(list);
        removed.remove(defaultServer);
        servers = list;
        // the --server address is a last resort once the list is known: new connections go to listed servers
        if (current != null && !list.contains(current)) current = null;
        failed.retainAll(everything());
        return removed;
    }

    /** Every server to probe: the list and the {@code --server} address. */
    synchronized List<ServerAddress> everything() {
        List<ServerAddress> all = new ArrayList<>(servers);
        if (!all.contains(defaultServer)) all.add(defaultServer);
        return all;
    }

    /**
     * The order to dial a new connection in: the current server if healthy, the other healthy servers in list order,
     * the {@code --server} address (k3s keeps its default server for when every listed one is gone), then those that
     * failed last, since one may be back.
     */
    synchronized List<ServerAddress> dialOrder() {
        LinkedHashSet<ServerAddress> order = new LinkedHashSet<>();
        if (current != null && !failed.contains(current)) order.add(current);
        for (ServerAddress s : servers) if (!failed.contains(s)) order.add(s);
        if (!failed.contains(defaultServer)) order.add(defaultServer);
        order.addAll(servers);
        order.add(defaultServer);
        return List.copyOf(order);
    }

    /** A dial succeeded: the server is healthy and becomes the current one. */
    synchronized void connected(ServerAddress s, Channel inbound) {
        failed.remove(s);
        current = s;
        connections.computeIfAbsent(s, k -> ConcurrentHashMap.newKeySet()).add(inbound);
        inbound.closeFuture().addListener(f -> {
            Set<Channel> open = connections.get(s);
            if (open != null) open.remove(inbound);
        });
    }

    /** A probe succeeded. */
    void healthy(ServerAddress s) {
        failed.remove(s);
    }

    /**
     * A dial or probe failed.
     *
     * @return true if the server was healthy until now
     */
    synchronized boolean failed(ServerAddress s) {
        if (s.equals(current)) current = null;
        return failed.add(s);
    }

    boolean isHealthy(ServerAddress s) {
        return !failed.contains(s);
    }

    /** True when some server other than {@code s} is healthy (then cutting {@code s}'s connections helps). */
    synchronized boolean othersHealthy(ServerAddress s) {
        for (ServerAddress o : everything()) if (!o.equals(s) && !failed.contains(o)) return true;
        return false;
    }

    /** Closes the client connections relayed to {@code s}: their clients reconnect and land on a healthy server. */
    int closeConnections(ServerAddress s) {
        Set<Channel> open = connections.remove(s);
        if (open == null) return 0;
        open.forEach(Channel::close);
        return open.size();
    }

    int openConnections(ServerAddress s) {
        Set<Channel> open = connections.get(s);
        return open == null ? 0 : open.size();
    }

    void closeAll() {
        for (ServerAddress s : List.copyOf(connections.keySet())) closeConnections(s);
    }
}
