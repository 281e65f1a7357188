package io.k3j.controllers.servicelb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.ControllerContext;
import io.k3j.controllers.ManagedController;
import io.k3j.controllers.runtime.ApiClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Removes what a packaged manifest put in the cluster once its component is switched off with {@code --disable}, as
 * k3s deletes a disabled addon's objects: {@link PackagedManifests#stage} already took the file out of the folder,
 * and here the objects listed in its deploy record ({@code kube-system/k3j-addon-<file>}, written by
 * {@link io.k3j.controllers.deploy.ManifestDeployer}) go, then the record. Only objects the folder deployed are
 * touched, so a kube-dns Service a user brings with their own DNS after {@code --disable coredns} stays. Runs once
 * each time this server starts leading.
 */
final class DisabledAddons implements ManagedController {
    private static final System.Logger LOG = System.getLogger(DisabledAddons.class.getName());
    /** The deployer's record of a file {@code <base>.yaml} ({@code ManifestDeployer.recordName}). */
    static final String RECORD_PREFIX = "k3j-addon-";
    static final String RECORD_NAMESPACE = "kube-system";

    private final ApiClient api;
    private final Path dir;
    private final Set<String> disabled;
    private volatile Thread thread;

    DisabledAddons(ControllerContext ctx) {
        this.api = ctx.api("k3j-deploy");
        this.dir = ctx.config().manifestsDir();
        this.disabled = ctx.config().disabled();
    }

    @Override
    public void start() {
        thread = Thread.ofVirtual().name("disabled-addons").start(this::run);
    }

    @Override
    public void close() {
        Thread t = thread;
        if (t != null) t.interrupt();
    }

    private void run() {
        for (String component : PackagedManifests.files("").keySet()) {
            if (!PackagedManifests.disabled(disabled, component)) continue;
            // a file put back by hand (or a .skip lifted) is the user's wish: keep what it deployed
            if (dir != null && Files.exists(dir.resolve(component + ".yaml"))) continue;
            try {
                remove(component);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "removing objects of disabled component {0}: {1}", component, e.getMessage());
            }
        }
    }

    void remove(String component) {
        ResourceType configMaps = api.type("", "v1", "configmaps");
        ObjectNode record = api.find(configMaps, RECORD_NAMESPACE, RECORD_PREFIX + component).orElse(null);
        if (record == null) return;
        String objects = Json.text(record.get("data"), "objects");
        if (!objects.isEmpty()) {
            for (JsonNode r : Json.parse(objects.getBytes(StandardCharsets.UTF_8))) {
                ResourceType type = typeOf(Json.text(r, "apiVersion"), Json.text(r, "kind"));
                if (type == null) continue;
                api.deleteIfExists(type, type.namespaced() ? Json.text(r, "namespace") : "", Json.text(r, "name"), null, "Background");
                LOG.log(System.Logger.Level.INFO, "--disable {0}: deleted {1} {2}", component, Json.text(r, "kind"), Json.text(r, "name"));
            }
        }
        try {
            api.deleteIfExists(configMaps, RECORD_NAMESPACE, RECORD_PREFIX + component, null, null);
        } catch (ApiException e) {
            if (e.code() != 404) throw e;
        }
    }

    private ResourceType typeOf(String apiVersion, String kind) {
        String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        for (ResourceType t : api.registry().all()) {
            if (t.group().equals(group) && t.kind().equals(kind)) return t;
        }
        return null;
    }
}
