package io.k3j.agent.network;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The pod network's CNI configuration for one node: a Linux bridge with host-local addresses from the node's
 * podCIDR (what flannel's conflist amounts to on a single node), portmap for hostPorts. containerd's CRI plugin reads
 * the first conflist in its conf dir and reloads it when the file changes, so writing it is all a node has to do
 * once the server has given it a podCIDR.
 *
 * @param bridge   the bridge's name ({@code cni0} on a real node; tests use unique names)
 * @param podCidr  the node's spec.podCIDR, e.g. {@code 10.42.0.0/24}
 * @param ipamDir  host-local's lease folder (containerd's fixed default {@code /var/lib/cni/networks} is shared by every node on a host)
 * @param mtu      the pods' interface MTU, 0 for the plugin's default (the vxlan backend needs 50 bytes less than the link)
 */
public record CniConfig(String bridge, String podCidr, Path ipamDir, int mtu) {
    public static final String FILE_NAME = "10-k3j.conflist";

    /** With the plugin's default MTU. */
    public CniConfig(String bridge, String podCidr, Path ipamDir) {
        this(bridge, podCidr, ipamDir, 0);
    }

    public ObjectNode conflist() {
        ObjectNode list = Json.object();
        list.put("cniVersion", "0.4.0");
        list.put("name", "k3j-pod-network");
        ArrayNode plugins = list.putArray("plugins");
        ObjectNode bridgePlugin = plugins.addObject();
        bridgePlugin.put("type", "bridge");
        bridgePlugin.put("bridge", bridge);
        bridgePlugin.put("isGateway", true);
        bridgePlugin.put("ipMasq", false);
        bridgePlugin.put("hairpinMode", true);
        if (mtu > 0) bridgePlugin.put("mtu", mtu);
        ObjectNode ipam = bridgePlugin.putObject("ipam");
        ipam.put("type", "host-local");
        ipam.putArray("ranges").addArray().addObject().put("subnet", podCidr);
        ipam.putArray("routes").addObject().put("dst", "0.0.0.0/0");
        ipam.put("dataDir", ipamDir.toString());
        ObjectNode portmap = plugins.addObject();
        portmap.put("type", "portmap");
        portmap.putObject("capabilities").put("portMappings", true);
        return list;
    }

    /** Writes the conflist into {@code confDir} atomically (containerd must never read half a file). */
    public void write(Path confDir) {
        try {
            Files.createDirectories(confDir);
            Path tmp = confDir.resolve("." + FILE_NAME + ".tmp");
            Files.writeString(tmp, Json.string(conflist()));
            Files.move(tmp, confDir.resolve(FILE_NAME), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the CNI configuration in " + confDir, e);
        }
    }
}
