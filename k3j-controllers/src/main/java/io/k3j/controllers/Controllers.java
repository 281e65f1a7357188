package io.k3j.controllers;

import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.scheduler.SchedulerController;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * The controllers {@code k3j server} runs, grouped as Kubernetes groups them: kube-controller-manager's
 * controllers under one Lease, the scheduler under another. Each group is active on one server at a time.
 */
public final class Controllers implements AutoCloseable {
    private final ControllerManager controllerManager;
    private final ControllerManager scheduler;

    private Controllers(ControllerManager controllerManager, ControllerManager scheduler) {
        this.controllerManager = controllerManager;
        this.scheduler = scheduler;
    }

    /** kube-controller-manager's share. */
    public static List<ManagedController.Factory> controllerManagerControllers() {
        return List.of(
                io.k3j.controllers.endpoints.EndpointControllers.endpoints(),
                io.k3j.controllers.endpoints.EndpointControllers.endpointSlices(),
                io.k3j.controllers.node.NodeControllers.ipam(),
                io.k3j.controllers.node.NodeControllers.lifecycle(),
                io.k3j.controllers.node.NodeControllers.taintEviction(),
                io.k3j.controllers.node.NodeControllers.podGc(),
                io.k3j.controllers.volume.PersistentVolumeController::new,
                io.k3j.controllers.volume.LocalPathProvisioner::new,
                io.k3j.controllers.deploy.ManifestDeployer::new,
                io.k3j.controllers.batch.JobController::new,
                io.k3j.controllers.batch.CronJobController::new,
                io.k3j.controllers.batch.TtlAfterFinishedController::new,
                io.k3j.controllers.apps.DeploymentController::new,
                io.k3j.controllers.apps.ReplicaSetController::replicaSets,
                io.k3j.controllers.apps.ReplicaSetController::replicationControllers,
                io.k3j.controllers.apps.DaemonSetController::new,
                io.k3j.controllers.apps.StatefulSetController::new,
                io.k3j.controllers.servicelb.ServiceLb.loadBalancer(),
                io.k3j.controllers.servicelb.ServiceLb.ingressStatus(),
                io.k3j.controllers.servicelb.ServiceLb.disabledAddons());
    }

    /** kube-scheduler's share. */
    public static List<ManagedController.Factory> schedulerControllers() {
        return List.of(SchedulerController::new);
    }

    /** Starts both groups against the control plane's API; they campaign for their Leases. */
    public static Controllers start(ControlPlane cp) {
        return start(cp, java.util.Set.of());
    }

    /**
     * Starts both groups, with the packaged components named in {@code disabled} ({@code --disable}, which the
     * API server's config doesn't carry) switched off.
     */
    public static Controllers start(ControlPlane cp, java.util.Set<String> disabled) {
        ServerConfig sc = cp.config();
        ControllerConfig config = ControllerConfig.defaults(identity(sc)).withDisabled(disabled)
                .withCidrs(sc.clusterCidr(), sc.serviceCidr())
                .withManifestsDir(sc.serverDir().resolve("manifests"))
                .withLocalPathDir(sc.dataDir().resolve("storage"));
        // every server stages its packaged manifests, whichever of them leads (k3s: stageFiles before the controllers)
        io.k3j.controllers.servicelb.PackagedManifests.stage(config.manifestsDir(), sc.clusterDns(), config.disabled());
        ApiClient api = new ApiClient(cp.objects(), cp.registry(), "k3j");
        // the namespace and garbage collectors join the leader-elected group: one active server runs them
        cp.runSystemControllers(false);
        List<ManagedController.Factory> kcmControllers = new java.util.ArrayList<>(controllerManagerControllers());
        kcmControllers.add(ctx -> new ManagedController() {
            @Override
            public void start() {
                cp.runSystemControllers(true);
            }

            @Override
            public void close() {
                cp.runSystemControllers(false);
            }
        });
        ControllerManager kcm = new ControllerManager("kube-controller-manager", api, config, kcmControllers).start();
        ControllerManager sched = new ControllerManager("kube-scheduler", api, config, schedulerControllers()).start();
        return new Controllers(kcm, sched);
    }

    /**
     * This server's name in leader election: the host (or node) name and a digest of the data directory, so two
     * servers on one machine differ while a restarted server is recognised as the holder it was.
     */
    static String identity(ServerConfig sc) {
        String host = sc.nodeName() != null && !sc.nodeName().isEmpty() ? sc.nodeName() : hostname();
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(sc.dataDir().toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8));
            return host + "_" + HexFormat.of().formatHex(d, 0, 6);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName().toLowerCase(java.util.Locale.ROOT);
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }

    public ControllerManager controllerManager() {
        return controllerManager;
    }

    public ControllerManager scheduler() {
        return scheduler;
    }

    @Override
    public void close() {
        scheduler.close();
        controllerManager.close();
    }
}
