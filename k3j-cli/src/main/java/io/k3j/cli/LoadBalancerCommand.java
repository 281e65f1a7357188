package io.k3j.cli;

import io.k3j.cluster.lb.FileLoadBalancer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code k3j loadbalancer --config FILE}: the cluster's load balancer as its own long-lived process (k3d's serverlb),
 * started by {@code k3j cluster}. Hidden: users never run it themselves.
 */
@Command(name = "loadbalancer", hidden = true, mixinStandardHelpOptions = true,
        description = "Run a cluster's load balancer; reloads FILE when it changes or on SIGHUP, stops on SIGTERM.")
final class LoadBalancerCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", required = true, description = "The load balancer config (JSON)")
    Path config;

    @Option(names = "--status-file", paramLabel = "FILE",
            description = "Where to report the pid, the config applied and each listener's port or error (removed on exit)")
    Path statusFile;

    @Option(names = "--poll-interval", paramLabel = "MILLIS", defaultValue = "500", description = "How often to look at the config file")
    long pollMillis;

    @Override
    public Integer call() throws Exception {
        // the handler goes in before the status file says "ready": a SIGHUP sent on seeing it must not meet the
        // JVM's default action for SIGHUP, which ends the process
        java.util.concurrent.atomic.AtomicReference<FileLoadBalancer> running = new java.util.concurrent.atomic.AtomicReference<>();
        onSighup(() -> {
            FileLoadBalancer started = running.get();
            if (started != null) started.reloadNow(); // before start, the first read of the file comes anyway
        });
        FileLoadBalancer lb = FileLoadBalancer.start(config, statusFile, Duration.ofMillis(pollMillis));
        running.set(lb);
        Runtime.getRuntime().addShutdownHook(new Thread(lb::close, "lb-shutdown"));
        lb.awaitClosed();
        return 0;
    }

    /** SIGHUP re-reads the config at once; without sun.misc.Signal the poll still picks changes up. */
    private static void onSighup(Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> action.run());
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            java.util.logging.Logger.getLogger(LoadBalancerCommand.class.getName()).fine("no SIGHUP handler: " + e);
        }
    }
}
