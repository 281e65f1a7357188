package io.k3j.agent.host;

import static java.util.Objects.requireNonNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A named network namespace ({@code ip netns add NAME}, bound at {@code /run/netns/NAME}) and its uplink: a veth
 * pair whose host end is a port of a bridge in the host namespace and whose other end is {@code eth0} inside, with an
 * address and a default route via the bridge. This is how a {@code k3j cluster} node, or a node of a multi-node test,
 * gets a machine's network of its own on one host.
 *
 * <p>Processes are put inside with {@link #command}, which prefixes {@code nsenter --net=/run/netns/NAME}: only the
 * network namespace changes. {@code ip netns exec} is not used because it also unshares the mount namespace and
 * remounts {@code /sys}, which hides {@code /sys/fs/cgroup} from containerd and runc. The price is that
 * {@code /sys/class/net} inside still shows the host's interfaces, so code running there must ask netlink
 * ({@code ip}) about links, never sysfs; {@code /proc/sys/net} does follow the namespace.
 */
public final class NetworkNamespace {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Path RUN_NETNS = Path.of("/run/netns");

    private final String name;

    private NetworkNamespace(String name) {
        this.name = name;
    }

    /**
     * Creates the namespace, with its loopback up.
     *
     * @throws IllegalStateException when one of that name exists or {@code ip} refuses
     */
    public static NetworkNamespace create(String name) {
        checkName(name, 100);
        if (exists(name)) throw new IllegalStateException("network namespace " + name + " exists already");
        ip("netns", "add", name);
        NetworkNamespace ns = new NetworkNamespace(name);
        ns.ipInside("link", "set", "lo", "up");
        return ns;
    }

    /** An existing namespace (e.g. one a stopped cluster node left for its restart). */
    public static NetworkNamespace of(String name) {
        checkName(name, 100);
        if (!exists(name)) throw new IllegalStateException("no network namespace " + name);
        return new NetworkNamespace(name);
    }

    public static boolean exists(String name) {
        return Files.exists(RUN_NETNS.resolve(name));
    }

    public String name() {
        return name;
    }

    /** The namespace's bind mount, what {@code nsenter --net=} takes. */
    public Path path() {
        return RUN_NETNS.resolve(name);
    }

    /** {@code argv} prefixed so that it runs inside this namespace (and only its network namespace changes). */
    public List<String> command(String... argv) {
        return command(List.of(argv));
    }

    /** As {@link #command(String...)}. */
    public List<String> command(List<String> argv) {
        if (argv.isEmpty()) throw new IllegalArgumentException("argv : [] (expected a command)");
        List<String> cmd = new ArrayList<>(argv.size() + 2);
        cmd.add("nsenter");
        cmd.add("--net=" + path());
        cmd.addAll(argv);
        return cmd;
    }

    /** Runs a command inside to completion (stdout and stderr merged). */
    public Processes.Result run(Duration timeout, String... argv) {
        return Processes.run(timeout, command(argv));
    }

    /**
     * Connects the namespace to the host: creates {@code bridge} in the host namespace with {@code bridgeCidr} (e.g.
     * {@code 10.201.7.1/24}) unless it exists, a veth pair {@code hostVeth} (a port of the bridge) / {@code eth0}
     * (inside, with {@code cidr}, e.g. {@code 10.201.7.2/24}), and a default route inside via the bridge's address.
     *
     * @throws IllegalStateException when a step fails (what was done so far stays; {@link #delete} removes it)
     */
    public void attach(String bridge, String bridgeCidr, String hostVeth, String cidr) {
        checkName(bridge, 15);
        checkName(hostVeth, 15);
        String gateway = address(bridgeCidr);
        bridge(bridge, bridgeCidr);
        ip("link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", name);
        ip("link", "set", hostVeth, "master", bridge);
        ip("link", "set", hostVeth, "up");
        ipInside("addr", "add", cidr, "dev", "eth0");
        ipInside("link", "set", "eth0", "up");
        ipInside("route", "add", "default", "via", gateway, "dev", "eth0");
    }

    /**
     * Deletes the namespace (and with it every interface, route and nftables table in it once its last process
     * is gone) and the host end of its uplink; a missing one is not an error.
     */
    public void delete(String hostVeth) {
        if (hostVeth != null && linkExists(hostVeth)) Processes.run(TIMEOUT, "ip", "link", "delete", hostVeth);
        if (exists(name)) ip("netns", "delete", name);
    }

    /**
     * Creates a bridge in the host namespace with {@code cidr} (its address and prefix, e.g. {@code 10.201.7.1/24})
     * and sets it up, unless a link of that name exists.
     */
    public static void bridge(String bridge, String cidr) {
        checkName(bridge, 15);
        if (linkExists(bridge)) return;
        ip("link", "add", "name", bridge, "type", "bridge");
        ip("addr", "add", cidr, "dev", bridge);
        ip("link", "set", bridge, "up");
    }

    /** Whether a link of that name exists in the host namespace (asked through netlink, not sysfs). */
    public static boolean linkExists(String link) {
        return Processes.run(TIMEOUT, "ip", "link", "show", "dev", link).ok();
    }

    /** Deletes a link of the host namespace (a bridge) if it exists. */
    public static void deleteLink(String link) {
        if (linkExists(link)) ip("link", "delete", link);
    }

    @Override
    public String toString() {
        return "netns " + name;
    }

    private void ipInside(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "-n", name));
        cmd.addAll(List.of(args));
        check(Processes.run(TIMEOUT, cmd), cmd);
    }

    private static void ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        check(Processes.run(TIMEOUT, cmd), cmd);
    }

    private static void check(Processes.Result r, List<String> cmd) {
        if (!r.ok()) throw new IllegalStateException(String.join(" ", cmd) + " failed (exit " + r.exitCode() + "): " + r.output().strip());
    }

    private static void checkName(String name, int max) {
        requireNonNull(name, "name");
        if (name.isEmpty() || name.length() > max || !name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
            throw new IllegalArgumentException("name : " + name + " (expected 1-" + max + " letters, digits, '.', '_' or '-')");
        }
    }

    private static String address(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("cidr : " + cidr + " (expected: address/prefix)");
        return cidr.substring(0, slash);
    }
}
