package io.k3j.apiserver.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import io.k3j.apiserver.registry.WriteOptions;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.store.testing.DebianPackages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code k3j etcd-snapshot save|ls|delete|prune} and {@code --cluster-reset --cluster-reset-restore-path}. */
class EtcdSnapshotsTest {
    @TempDir Path dir;

    @BeforeAll
    static void etcdInstalled() {
        DebianPackages.ensure(EmbeddedEtcd.ETCD_PACKAGE, EtcdSnapshots.ETCDCTL_PACKAGE);
    }

    @Test
    @DisplayName("a snapshot restored into a fresh server brings back the objects it holds, and only those")
    void saveAndRestoreIntoAFreshServer() throws Exception {
        ServerConfig a = EtcdTesting.config(dir.resolve("a"), "server-a", EtcdTesting.freePorts(3));
        a = a.withEtcd(a.etcd().withClusterInit(true));
        EtcdSnapshots.Snapshot snap;
        try (ControlPlane cp = ControlPlane.start(a)) {
            create(cp, "before");
            EtcdSnapshots snapshots = EtcdSnapshots.of(a, Clock.systemUTC());
            snap = snapshots.save(EtcdSnapshots.ON_DEMAND);
            assertThat(snap.name()).matches("on-demand-server-a-\\d+");
            assertThat(snap.file()).isRegularFile().hasParent(a.serverDir().resolve("db/snapshots"));
            assertThat(snap.size()).isPositive();
            assertThat(snapshots.list()).containsExactly(snap);
            create(cp, "after");
        }

        ServerConfig b = EtcdTesting.config(dir.resolve("b"), "server-b", EtcdTesting.freePorts(3));
        b = b.withEtcd(b.etcd().withClusterReset(true, snap.file()));
        assertThat(EmbeddedEtcd.wanted(b)).isTrue();
        try (ControlPlane cp = ControlPlane.start(b)) {
            ResourceType cms = cp.registry().find("", "v1", "configmaps").orElseThrow();
            assertThat(cp.objects().find(cms, "default", "before")).isPresent();
            assertThat(cp.objects().find(cms, "default", "after")).isEmpty();
            // one member, this server's, and writable
            try (ClusterMembers members = cp.etcd().orElseThrow().members()) {
                assertThat(members.list()).singleElement().satisfies(m -> assertThat(m.name()).isEqualTo(cp.etcd().orElseThrow().memberName()));
            }
            create(cp, "restored-and-writing");
        }
        // restarting the restored server later keeps its data (the reset is not repeated on the moved-aside data)
        try (ControlPlane cp = ControlPlane.start(b.withEtcd(b.etcd().withClusterReset(false, null)))) {
            ResourceType cms = cp.registry().find("", "v1", "configmaps").orElseThrow();
            assertThat(cp.objects().find(cms, "default", "restored-and-writing")).isPresent();
        }
    }

    @Test
    @DisplayName("prune keeps the newest N of this node's snapshots with the prefix; delete removes one by name")
    void pruneAndDelete() throws Exception {
        ServerConfig a = EtcdTesting.config(dir.resolve("a"), "server-a", EtcdTesting.freePorts(3));
        a = a.withEtcd(a.etcd().withClusterInit(true));
        try (EmbeddedEtcd etcd = EmbeddedEtcd.start(a, Clock.systemUTC())) {
            Clock base = Clock.systemUTC();
            for (int i = 0; i < 3; i++) {
                EtcdSnapshots.of(a, Clock.offset(base, Duration.ofSeconds(i))).save(EtcdSnapshots.SCHEDULED);
            }
            EtcdSnapshots.Snapshot onDemand = EtcdSnapshots.of(a, base).save(EtcdSnapshots.ON_DEMAND);
            EtcdSnapshots snapshots = EtcdSnapshots.of(a, base);
            List<EtcdSnapshots.Snapshot> all = snapshots.list();
            assertThat(all).hasSize(4);
            List<EtcdSnapshots.Snapshot> scheduled = all.stream().filter(s -> s.name().startsWith("etcd-snapshot-")).toList();

            assertThat(snapshots.prune(EtcdSnapshots.SCHEDULED, 2)).containsExactly(scheduled.getFirst());
            assertThat(snapshots.list()).containsExactlyInAnyOrder(scheduled.get(1), scheduled.get(2), onDemand);

            snapshots.delete(onDemand.name());
            assertThat(snapshots.list()).containsExactlyInAnyOrder(scheduled.get(1), scheduled.get(2));
            assertThatThrownBy(() -> snapshots.delete(onDemand.name())).hasMessageContaining("no etcd snapshot");
            assertThatThrownBy(() -> snapshots.delete("../token")).isInstanceOf(IllegalArgumentException.class);

            // a scheduled run saves one more and keeps the newest two
            new SnapshotScheduler(EtcdSnapshots.of(a, Clock.offset(base, Duration.ofSeconds(10))), CronSchedule.parse("0 */12 * * *"), 2, base).fire();
            List<EtcdSnapshots.Snapshot> left = snapshots.list();
            assertThat(left).hasSize(2).contains(scheduled.get(2));
            assertThat(left.getLast().name()).startsWith("etcd-snapshot-server-a-").isNotIn(scheduled.stream().map(EtcdSnapshots.Snapshot::name).toList());
            assertThat(left.getLast().created()).isAfter(scheduled.get(2).created());
        }
    }

    private static void create(ControlPlane cp, String name) {
        ResourceType cms = cp.registry().find("", "v1", "configmaps").orElseThrow();
        cp.objects().create(cms, "default", Json.parseObject(("""
                {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"},"data":{"k":"v"}}""".formatted(name)).getBytes()),
                WriteOptions.system("test"));
    }
}
