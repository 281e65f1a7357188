package io.k3j.apiserver.etcd;

import static java.util.Objects.requireNonNull;

import io.k3j.apiserver.ServerConfig;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;

/**
 * Scheduled etcd snapshots, as k3s takes them on every server with a member: at each {@code
 * --etcd-snapshot-schedule-cron} time (local time zone) a {@value EtcdSnapshots#SCHEDULED} snapshot is saved, then
 * this node's scheduled snapshots beyond {@code --etcd-snapshot-retention} are pruned. Off with
 * {@code --etcd-disable-snapshots}.
 */
public final class SnapshotScheduler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SnapshotScheduler.class.getName());

    private final EtcdSnapshots snapshots;
    private final CronSchedule schedule;
    private final int retention;
    private final Clock clock;
    private Thread thread;

    SnapshotScheduler(EtcdSnapshots snapshots, CronSchedule schedule, int retention, Clock clock) {
        this.snapshots = snapshots;
        this.schedule = schedule;
        this.retention = retention;
        this.clock = clock;
    }

    /**
     * Starts the schedule of {@code config}.
     *
     * @throws IllegalArgumentException if the cron spec is malformed
     */
    public static SnapshotScheduler start(ServerConfig config, Clock clock) {
        requireNonNull(config, "config");
        SnapshotScheduler s = new SnapshotScheduler(EtcdSnapshots.of(config, clock), CronSchedule.parse(config.etcd().snapshotScheduleCron()),
                config.etcd().snapshotRetention(), clock);
        s.thread = Thread.ofVirtual().name("etcd-snapshots").start(s::run);
        LOG.log(System.Logger.Level.INFO, "etcd snapshots scheduled at \"" + schedule(config) + "\", keeping " + s.retention
                + ", in " + s.snapshots.dir());
        return s;
    }

    private static String schedule(ServerConfig config) {
        return config.etcd().snapshotScheduleCron();
    }

    private void run() {
        while (!Thread.currentThread().isInterrupted()) {
            ZonedDateTime now = ZonedDateTime.ofInstant(clock.instant(), ZoneId.systemDefault());
            ZonedDateTime next = schedule.next(now);
            try {
                Thread.sleep(Math.max(0, Duration.between(now, next).toMillis()));
            } catch (InterruptedException e) {
                return;
            }
            fire();
        }
    }

    /** Takes one scheduled snapshot and prunes; failures are logged, the schedule goes on. */
    void fire() {
        try {
            snapshots.save(EtcdSnapshots.SCHEDULED);
            List<EtcdSnapshots.Snapshot> pruned = snapshots.prune(EtcdSnapshots.SCHEDULED, retention);
            for (EtcdSnapshots.Snapshot p : pruned) LOG.log(System.Logger.Level.INFO, "pruned etcd snapshot " + p.name());
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "scheduled etcd snapshot: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        if (thread != null) thread.interrupt();
    }
}
