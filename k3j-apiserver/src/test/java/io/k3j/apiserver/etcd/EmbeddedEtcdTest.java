package io.k3j.apiserver.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import io.k3j.apiserver.ServerConfig;
import io.k3j.store.testing.DebianPackages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The member process alone: {@code --cluster-init}, supervision, stop by PID, restart reusing the member. */
class EmbeddedEtcdTest {
    @TempDir Path dir;

    @BeforeAll
    static void etcdInstalled() {
        DebianPackages.ensure(EmbeddedEtcd.ETCD_PACKAGE);
    }

    @Test
    @DisplayName("--cluster-init starts a TLS member with k3s's layout; a killed member is restarted; close stops it; a restart reuses it")
    void clusterInitSuperviseStopAndReuse() throws Exception {
        ServerConfig config = EtcdTesting.config(dir, "server-a", EtcdTesting.freePorts(3));
        ServerConfig init = config.withEtcd(config.etcd().withClusterInit(true));
        assertThat(EmbeddedEtcd.wanted(config)).isFalse();
        assertThat(EmbeddedEtcd.wanted(init)).isTrue();

        String name;
        long firstPid;
        try (EmbeddedEtcd etcd = EmbeddedEtcd.start(init, Clock.systemUTC())) {
            name = etcd.memberName();
            assertThat(name).matches("server-a-[0-9a-f]{8}");
            assertThat(EmbeddedEtcd.nodeNameOf(name)).isEqualTo("server-a");
            Path tls = dir.resolve("server/tls/etcd");
            for (String f : List.of("server-ca", "peer-ca", "server-client", "peer-server-client", "client")) {
                assertThat(tls.resolve(f + ".crt")).isRegularFile();
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tls.resolve(f + ".key")))).isEqualTo("rw-------");
            }
            Path data = dir.resolve("server/db/etcd");
            assertThat(data.resolve("member")).isDirectory();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
            assertThat(etcd.healthy()).isTrue();

            // the member API answers over client TLS with the API server's client certificate
            List<Members.Member> members = etcd.members().list();
            assertThat(members).singleElement().satisfies(m -> {
                assertThat(m.name()).isEqualTo(name);
                assertThat(m.clientUrls()).containsExactly(etcd.clientUrl());
            });
            assertThat(etcd.clusterClientUrls()).containsExactly(etcd.clientUrl());

            // kill -9: the supervisor starts it again and it is healthy within seconds
            firstPid = etcd.pid();
            assertThat(firstPid).isPositive();
            ProcessHandle.of(firstPid).orElseThrow().destroyForcibly();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while ((etcd.starts() < 2 || !etcd.healthy()) && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(etcd.starts()).isEqualTo(2);
            assertThat(etcd.pid()).isPositive().isNotEqualTo(firstPid);
            assertThat(etcd.healthy()).isTrue();
            firstPid = etcd.pid();
        }
        assertThat(ProcessHandle.of(firstPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(dir.resolve("server/db/etcd.pid")).doesNotExist();

        // a restart without --cluster-init keeps running the member it has
        assertThat(EmbeddedEtcd.wanted(config)).isTrue();
        try (EmbeddedEtcd again = EmbeddedEtcd.start(config, Clock.systemUTC())) {
            assertThat(again.memberName()).isEqualTo(name);
            assertThat(again.members().list()).singleElement().satisfies(m -> assertThat(m.name()).isEqualTo(name));
            firstPid = again.pid();
        }
        assertThat(ProcessHandle.of(firstPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }

    @Test
    @DisplayName("a member orphaned by a crashed k3j is ended by PID at the next start")
    void orphanIsEnded() throws Exception {
        ServerConfig config = EtcdTesting.config(dir, "server-o", EtcdTesting.freePorts(3));
        config = config.withEtcd(config.etcd().withClusterInit(true));
        List<String> command;
        try (EmbeddedEtcd first = EmbeddedEtcd.start(config, Clock.systemUTC())) {
            command = List.of(Files.readString(Path.of("/proc/" + first.pid() + "/cmdline")).split("\0"));
        }
        // what a k3j killed without its death signal reaching etcd leaves: its member still running, and the pid file
        Process stray = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("stray.log").toFile()).start();
        long orphan = stray.pid();
        Files.writeString(dir.resolve("server/db/etcd.pid"), orphan + "\n");
        try (EmbeddedEtcd second = EmbeddedEtcd.start(config, Clock.systemUTC())) {
            assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(second.healthy()).isTrue();
        } finally {
            stray.destroyForcibly().waitFor();
        }
    }

    @Test
    @DisplayName("kill -9 of the k3j process takes its etcd member along (as k3s, which runs etcd in-process); the next start reuses it")
    void killedServerTakesItsMemberAlong() throws Exception {
        int[] ports = EtcdTesting.freePorts(3);
        Path ready = dir.resolve("ready");
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), EtcdProcessMain.class.getName(), dir.toString(),
                "" + ports[0], "" + ports[1], "" + ports[2], ready.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("jvm.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(ready) && jvm.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(ready).as("member started by the child JVM; its log: " + dir.resolve("jvm.log")).exists();
            String[] started = Files.readString(ready).split(" ");
            ProcessHandle etcd = ProcessHandle.of(Long.parseLong(started[0])).orElseThrow();

            jvm.destroyForcibly().waitFor();
            assertThat(etcd.onExit().get(5, TimeUnit.SECONDS).isAlive()).isFalse();

            ServerConfig config = EtcdTesting.config(dir, "killed", ports);
            try (EmbeddedEtcd again = EmbeddedEtcd.start(config, Clock.systemUTC())) {
                assertThat(again.memberName()).isEqualTo(started[1]);
                assertThat(again.healthy()).isTrue();
            }
        } finally {
            jvm.destroyForcibly().waitFor();
        }
    }

    @Test
    void clusterInitWithAnExternalDatastoreIsRefused() {
        ServerConfig c = EtcdTesting.config(dir, "server-x", new int[] {2379, 2380, 2381}).withDatastore("postgres://db/k3j");
        assertThat(EmbeddedEtcd.wanted(c.withEtcd(c.etcd().withServer("https://10.0.0.1:6443")))).isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> EmbeddedEtcd.wanted(c.withEtcd(c.etcd().withClusterInit(true))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--datastore-endpoint postgres://db/k3j");
    }

    @Test
    void memberNamesTellTheirNode() {
        assertThat(EmbeddedEtcd.nodeNameOf("k3j-c-server-0-0a1b2c3d")).isEqualTo("k3j-c-server-0");
        assertThat(EmbeddedEtcd.nodeNameOf("server-0")).isEmpty();
        assertThat(EmbeddedEtcd.nodeNameOf("server-zzzzzzzz")).isEmpty();
    }
}
