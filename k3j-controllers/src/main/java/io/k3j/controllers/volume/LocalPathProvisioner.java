package io.k3j.controllers.volume;

import static io.k3j.controllers.volume.Volumes.annotation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Controller;
import io.k3j.controllers.runtime.EventRecorder;
import io.k3j.controllers.runtime.Keys;
import io.k3j.controllers.runtime.SharedInformer;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;

/**
 * The local-path provisioner k3s ships (rancher/local-path-provisioner): the default StorageClass
 * {@code local-path}, and a hostPath volume on the chosen node for every claim of that class.
 *
 * <p>The class binds {@code WaitForFirstConsumer}: the {@link PersistentVolumeController} leaves its claims
 * Pending until the scheduler has placed a pod that uses one and written the node into the claim's
 * {@code volume.kubernetes.io/selected-node} annotation, then hands the claim here (annotation
 * {@code volume.kubernetes.io/storage-provisioner: rancher.io/local-path}). This controller creates
 * {@code pvc-<claim uid>}: a hostPath {@code <localPathDir>/pvc-<uid>_<namespace>_<name>} of type
 * DirectoryOrCreate (the kubelet creates the directory), pinned to the node by required node affinity, pre-bound
 * to the claim, which the binder then completes.
 *
 * <p>When such a volume is Released with reclaim policy Delete, this controller deletes it. The directory lives
 * on the node: when {@code localPathDir} exists on this machine (the node is this server) it removes the
 * directory itself, refusing anything but a {@code pvc-*} directory directly under {@code localPathDir};
 * otherwise the node's agent has to clean up after the volume (not done yet).
 *
 * <p>{@code --disable local-storage} switches all of it off, as it drops the manifest in k3s.
 */
public final class LocalPathProvisioner implements ManagedController {
    private static final System.Logger LOG = System.getLogger(LocalPathProvisioner.class.getName());

    /** The provisioner name classes refer to. */
    public static final String PROVISIONER = "rancher.io/local-path";
    /** The default class k3s creates. */
    public static final String CLASS = "local-path";
    /** The {@code --disable} item that turns this off. */
    public static final String COMPONENT = "local-storage";
    static final String NODE_ANNOTATION = "local.path.provisioner/selected-node";

    private static final String CLAIM = "pvc:";
    private static final String VOLUME = "pv:";

    private final boolean disabled;
    private final Path baseDir;
    private final ApiClient api;
    private final ResourceType volumeType;
    private final ResourceType classType;
    private final SharedInformer volumes;
    private final SharedInformer claims;
    private final SharedInformer classes;
    private final EventRecorder events;
    private final Controller controller;

    public LocalPathProvisioner(ControllerContext ctx) {
        this.disabled = ctx.config().isDisabled(COMPONENT);
        this.baseDir = ctx.config().localPathDir().toAbsolutePath().normalize();
        this.api = ctx.api("local-path-provisioner");
        this.volumeType = api.type("", "v1", "persistentvolumes");
        this.classType = api.type("storage.k8s.io", "v1", "storageclasses");
        this.volumes = ctx.informer("", "v1", "persistentvolumes");
        this.claims = ctx.informer("", "v1", "persistentvolumeclaims");
        this.classes = ctx.informer("storage.k8s.io", "v1", "storageclasses");
        this.events = ctx.events(PROVISIONER);
        this.controller = new Controller("local-path-provisioner", ctx.clock(), 2, this::sync);
        if (disabled) return;
        claims.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                controller.enqueue(CLAIM + Keys.of(obj));
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                controller.enqueue(CLAIM + Keys.of(newObj));
            }
        });
        volumes.addHandler(new SharedInformer.Handler() {
            @Override
            public void onAdd(ObjectNode obj) {
                if (PROVISIONER.equals(annotation(obj, Volumes.PROVISIONED_BY))) controller.enqueue(VOLUME + Meta.name(obj));
            }

            @Override
            public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
                onAdd(newObj);
            }
        });
    }

    @Override
    public void start() {
        if (disabled) return;
        ensureDefaultClass();
        controller.start();
    }

    @Override
    public void close() {
        controller.close();
    }

    /** Creates {@code local-path} unless it exists (an administrator's edits to it are kept). */
    private void ensureDefaultClass() {
        if (classes.get("", CLASS) != null) return;
        ObjectNode sc = Json.object();
        sc.put("apiVersion", "storage.k8s.io/v1").put("kind", "StorageClass");
        ObjectNode meta = sc.putObject("metadata");
        meta.put("name", CLASS);
        meta.putObject("annotations").put(Volumes.DEFAULT_CLASS, "true");
        sc.put("provisioner", PROVISIONER).put("volumeBindingMode", Volumes.WAIT_FOR_FIRST_CONSUMER).put("reclaimPolicy", "Delete");
        try {
            api.create(classType, "", sc);
        } catch (ApiException e) {
            if (e.code() != 409) LOG.log(System.Logger.Level.WARNING, "creating StorageClass " + CLASS + ": " + e.getMessage());
        }
    }

    private Duration sync(String key) throws IOException {
        if (key.startsWith(CLAIM)) {
            String k = key.substring(CLAIM.length());
            provision(Keys.namespace(k), Keys.name(k));
        } else if (key.startsWith(VOLUME)) {
            delete(key.substring(VOLUME.length()));
        }
        return null;
    }

    private void provision(String namespace, String name) {
        ObjectNode claim = claims.get(namespace, name);
        if (claim == null || Meta.deleting(claim)) return;
        if (!Json.text(claim.get("spec"), "volumeName").isEmpty()) return;
        // the binder hands claims over by this annotation; before it, the claim may still bind to an existing volume
        if (!PROVISIONER.equals(annotation(claim, Volumes.STORAGE_PROVISIONER))
                && !PROVISIONER.equals(annotation(claim, Volumes.BETA_STORAGE_PROVISIONER))) return;
        ObjectNode sc = classes.get("", Volumes.storageClass(claim));
        if (sc == null || !PROVISIONER.equals(Json.text(sc, "provisioner"))) return;
        String uid = Meta.uid(claim);
        String pvName = "pvc-" + uid;
        if (volumes.get("", pvName) != null || api.find(volumeType, "", pvName).isPresent()) return;
        String node = annotation(claim, Volumes.SELECTED_NODE);
        if (node.isEmpty()) {
            event(claim, "Warning", "ProvisioningFailed", "failed to provision volume with StorageClass \"" + Meta.name(sc)
                    + "\": configuration error, no node was specified");
            return;
        }
        JsonNode request = claim.path("spec").path("resources").path("requests").path("storage");
        if (!request.isTextual()) {
            event(claim, "Warning", "ProvisioningFailed", "failed to provision volume with StorageClass \"" + Meta.name(sc)
                    + "\": claim.Spec.Resources.Requests.storage is not set");
            return;
        }
        event(claim, "Normal", "Provisioning", "External provisioner is provisioning volume for claim \"" + namespace + "/" + name + "\"");
        String path = baseDir.resolve(pvName + "_" + namespace + "_" + name).toString();
        String policy = Json.text(sc, "reclaimPolicy");
        ObjectNode pv = Json.object();
        pv.put("apiVersion", "v1").put("kind", "PersistentVolume");
        ObjectNode meta = pv.putObject("metadata");
        meta.put("name", pvName);
        meta.putObject("annotations").put(Volumes.PROVISIONED_BY, PROVISIONER).put(NODE_ANNOTATION, node);
        ObjectNode spec = pv.putObject("spec");
        spec.putObject("capacity").put("storage", request.asText());
        spec.set("accessModes", claim.path("spec").path("accessModes").deepCopy());
        spec.put("persistentVolumeReclaimPolicy", policy.isEmpty() ? "Delete" : policy);
        spec.put("storageClassName", Meta.name(sc));
        spec.put("volumeMode", Volumes.volumeMode(claim));
        spec.putObject("hostPath").put("path", path).put("type", "DirectoryOrCreate");
        spec.putObject("nodeAffinity").putObject("required").putArray("nodeSelectorTerms").addObject().putArray("matchExpressions")
                .addObject().put("key", "kubernetes.io/hostname").put("operator", "In").putArray("values").add(node);
        spec.putObject("claimRef").put("kind", "PersistentVolumeClaim").put("namespace", namespace).put("name", name).put("uid", uid)
                .put("apiVersion", "v1").put("resourceVersion", Meta.resourceVersion(claim));
        try {
            api.create(volumeType, "", pv);
        } catch (ApiException e) {
            if (e.code() == 409) return;
            event(claim, "Warning", "ProvisioningFailed", "failed to provision volume with StorageClass \"" + Meta.name(sc) + "\": "
                    + e.getMessage());
            throw e;
        }
        event(claim, "Normal", "ProvisioningSucceeded", "Successfully provisioned volume " + pvName);
    }

    private void delete(String name) throws IOException {
        ObjectNode pv = volumes.get("", name);
        if (pv == null || Meta.deleting(pv)) return;
        if (!PROVISIONER.equals(annotation(pv, Volumes.PROVISIONED_BY))) return;
        if (!"Released".equals(Volumes.phase(pv))) return;
        if (!"Delete".equals(Json.text(pv.get("spec"), "persistentVolumeReclaimPolicy"))) return;
        removeDirectory(Json.text(pv.path("spec").get("hostPath"), "path"));
        api.deleteIfExists(volumeType, "", name, Meta.uid(pv), null);
    }

    /**
     * Removes a volume's directory when it is on this machine. Only a {@code pvc-*} directory directly under the
     * base directory qualifies, so a volume edited to point elsewhere (or at a symlink) can't make us delete
     * anything else; links inside it are removed, never followed.
     */
    private void removeDirectory(String pathText) throws IOException {
        if (pathText.isEmpty() || !Files.isDirectory(baseDir, LinkOption.NOFOLLOW_LINKS)) return;
        Path dir = Path.of(pathText).toAbsolutePath().normalize();
        if (!baseDir.equals(dir.getParent()) || !dir.getFileName().toString().startsWith("pvc-")) {
            LOG.log(System.Logger.Level.WARNING, "not removing {0}: not a volume directory under {1}", dir, baseDir);
            return;
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) throw exc;
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private void event(ObjectNode claim, String type, String reason, String message) {
        events.event(claim, "v1", "PersistentVolumeClaim", type, reason, message);
    }
}
