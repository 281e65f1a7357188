package io.k3j.apiserver.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.k3j.apiserver.ServerConfig;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which address a server puts in the kubernetes Endpoints and its etcd member URLs when it is not told one. */
class AdvertisedAddressTest {
    private static final ServerConfig DEFAULTS = ServerConfig.defaults(Path.of("/nonexistent"));

    private static ServerConfig with(String bind, String advertise, List<String> nodeIps) {
        return new ServerConfig(DEFAULTS.dataDir(), bind, 0, advertise, List.of(), null, "0600", null, "memory://",
                DEFAULTS.clusterCidr(), DEFAULTS.serviceCidr(), DEFAULTS.clusterDns(), DEFAULTS.clusterDomain(), "", nodeIps);
    }

    @Test
    @DisplayName("--advertise-address wins, then the first --node-ip, then a --bind-address naming one address")
    void explicitChoices() {
        assertThat(with("0.0.0.0", "10.0.0.9", List.of("10.0.0.5")).advertisedAddress()).isEqualTo("10.0.0.9");
        assertThat(with("0.0.0.0", "", List.of("10.0.0.5", "10.0.0.6")).advertisedAddress()).isEqualTo("10.0.0.5");
        assertThat(with("127.0.0.1", "", List.of()).advertisedAddress()).isEqualTo("127.0.0.1");
        assertThat(with("10.1.2.3", "", List.of()).advertisedAddress()).isEqualTo("10.1.2.3");
    }

    @Test
    @DisplayName("listening on every address with no node IP, the server advertises the address its default route leaves from, not 127.0.0.1")
    void primaryAddressOnWildcardBind() throws Exception {
        Process p = new ProcessBuilder("ip", "route", "show", "default").redirectErrorStream(true).start();
        String route = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor();
        assumeTrue(!route.isEmpty(), "this machine has no default route");
        String advertised = with("0.0.0.0", "", List.of()).advertisedAddress();
        InetAddress a = InetAddress.getByName(advertised);
        assertThat(a.isLoopbackAddress()).as(advertised).isFalse();
        assertThat(NetworkInterface.getByInetAddress(a)).as("%s is an address of this machine", advertised).isNotNull();
    }
}
