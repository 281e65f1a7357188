package io.k3j.apiserver.defaults;

import static io.k3j.apiserver.defaults.Nodes.blank;
import static io.k3j.apiserver.defaults.Nodes.child;
import static io.k3j.apiserver.defaults.Nodes.ensure;
import static io.k3j.apiserver.defaults.Nodes.items;
import static io.k3j.apiserver.defaults.Nodes.unset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * The create-time mutations that kube-apiserver makes outside the type defaulters, kept apart so they can
 * be told from plain defaults: the ServiceAccount, Priority and DefaultTolerationSeconds admission plugins
 * for Pods, and the selector the Job strategy generates from the Job's uid. Run after
 * {@link Defaulters#apply}, on create only.
 *
 * <p>Not done here, because they need the store: ServiceAccount admission's check that the service
 * account exists (and its automountServiceAccountToken), PriorityClass lookups other than the two system
 * classes, LimitRanger and ResourceQuota.
 */
public final class Admission {
    private Admission() {}

    /** Where the ServiceAccount plugin mounts the token volume. */
    public static final String TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

    private static final String RAND_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
    private static final RandomGenerator RANDOM = new SecureRandom();

    /**
     * {@link #mutate(String, String, ObjectNode, String, RandomGenerator)} with a secure random source for the
     * token volume's name suffix.
     */
    public static void mutate(String group, String kind, ObjectNode obj, String uid) {
        mutate(group, kind, obj, uid, RANDOM);
    }

    /**
     * Applies, in place, the admission-time mutations of a create of {@code group/kind}.
     *
     * @param uid the uid the new object will be stored with (Jobs build their selector from it)
     * @param random source of the 5-character suffix of the {@code kube-api-access-} volume name
     * @throws NullPointerException if {@code kind}, {@code obj} or {@code random} is null, or {@code uid} is null
     *     for a Job
     */
    public static void mutate(String group, String kind, ObjectNode obj, String uid, RandomGenerator random) {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(obj, "obj");
        Objects.requireNonNull(random, "random");
        String g = group == null ? "" : group;
        switch (g + "/" + kind) {
            case "/Pod" -> {
                serviceAccount(obj, random);
                priority(obj);
                defaultTolerationSeconds(obj);
            }
            case "batch/Job" -> jobSelector(obj, Objects.requireNonNull(uid, "uid"));
            default -> { }
        }
    }

    /**
     * ServiceAccount plugin: "default" service account, and a projected token volume mounted into every
     * container unless the pod opts out or already mounts something at {@link #TOKEN_MOUNT_PATH}.
     */
    static void serviceAccount(ObjectNode pod, RandomGenerator random) {
        ObjectNode spec = ensure(pod, "spec");
        // Mirror pods (static pods) are left alone by the plugin.
        ObjectNode annotations = child(child(pod, "metadata"), "annotations");
        if (annotations != null && annotations.has("kubernetes.io/config.mirror")) return;
        if (blank(spec, "serviceAccountName")) {
            String legacy = spec.path("serviceAccount").asText("");
            spec.put("serviceAccountName", legacy.isEmpty() ? "default" : legacy);
        }
        // v1 mirrors the deprecated serviceAccount field from serviceAccountName.
        spec.put("serviceAccount", spec.get("serviceAccountName").asText());
        JsonNode automount = spec.get("automountServiceAccountToken");
        if (automount != null && automount.isBoolean() && !automount.asBoolean()) return;
        if (mountsTokenPath(spec)) return;
        String name = "kube-api-access-" + randomSuffix(random);
        ArrayNode volumes = spec.get("volumes") instanceof ArrayNode a ? a : spec.putArray("volumes");
        ObjectNode volume = volumes.addObject();
        volume.put("name", name);
        ObjectNode projected = volume.putObject("projected");
        projected.put("defaultMode", PodDefaults.DEFAULT_MODE);
        ArrayNode sources = projected.putArray("sources");
        ObjectNode token = sources.addObject().putObject("serviceAccountToken");
        // 3607: one hour plus the 7 seconds kube-apiserver adds to spot legacy-token consumers.
        token.put("expirationSeconds", 3607);
        token.put("path", "token");
        ObjectNode configMap = sources.addObject().putObject("configMap");
        ObjectNode caItem = configMap.putArray("items").addObject();
        caItem.put("key", "ca.crt");
        caItem.put("path", "ca.crt");
        configMap.put("name", "kube-root-ca.crt");
        ObjectNode downward = sources.addObject().putObject("downwardAPI");
        ObjectNode nsItem = downward.putArray("items").addObject();
        ObjectNode fieldRef = nsItem.putObject("fieldRef");
        fieldRef.put("apiVersion", "v1");
        fieldRef.put("fieldPath", "metadata.namespace");
        nsItem.put("path", "namespace");
        for (String list : new String[] {"initContainers", "containers"}) {
            for (ObjectNode c : items(spec, list)) {
                ArrayNode mounts = c.get("volumeMounts") instanceof ArrayNode a ? a : c.putArray("volumeMounts");
                ObjectNode mount = mounts.addObject();
                mount.put("mountPath", TOKEN_MOUNT_PATH);
                mount.put("name", name);
                mount.put("readOnly", true);
            }
        }
    }

    private static boolean mountsTokenPath(ObjectNode spec) {
        for (String list : new String[] {"initContainers", "containers"}) {
            for (ObjectNode c : items(spec, list)) {
                for (ObjectNode m : items(c, "volumeMounts")) {
                    if (m.path("mountPath").asText().equals(TOKEN_MOUNT_PATH)) return true;
                }
            }
        }
        return false;
    }

    private static String randomSuffix(RandomGenerator random) {
        StringBuilder sb = new StringBuilder(5);
        for (int i = 0; i < 5; i++) sb.append(RAND_ALPHABET.charAt(random.nextInt(RAND_ALPHABET.length())));
        return sb.toString();
    }

    /** Priority plugin: the two built-in system classes, 0 without a class, and the preemption policy. */
    static void priority(ObjectNode pod) {
        ObjectNode spec = ensure(pod, "spec");
        if (unset(spec, "priority")) {
            long value = switch (spec.path("priorityClassName").asText("")) {
                case "system-node-critical" -> 2000001000L;
                case "system-cluster-critical" -> 2000000000L;
                default -> 0L;
            };
            spec.put("priority", value);
        }
        Nodes.text(spec, "preemptionPolicy", "PreemptLowerPriority");
    }

    /** DefaultTolerationSeconds plugin: tolerate not-ready and unreachable nodes for 300 s. */
    static void defaultTolerationSeconds(ObjectNode pod) {
        ObjectNode spec = ensure(pod, "spec");
        boolean notReady = false;
        boolean unreachable = false;
        for (ObjectNode t : items(spec, "tolerations")) {
            String effect = t.path("effect").asText("");
            if (!effect.isEmpty() && !effect.equals("NoExecute")) continue;
            String key = t.path("key").asText("");
            // An empty key with Exists tolerates every taint.
            if (key.isEmpty() && t.path("operator").asText("").equals("Exists")) {
                notReady = true;
                unreachable = true;
            }
            if (key.equals("node.kubernetes.io/not-ready")) notReady = true;
            if (key.equals("node.kubernetes.io/unreachable")) unreachable = true;
        }
        if (notReady && unreachable) return;
        ArrayNode tolerations = spec.get("tolerations") instanceof ArrayNode a ? a : spec.putArray("tolerations");
        if (!notReady) toleration(tolerations, "node.kubernetes.io/not-ready");
        if (!unreachable) toleration(tolerations, "node.kubernetes.io/unreachable");
    }

    private static void toleration(ArrayNode tolerations, String key) {
        ObjectNode t = tolerations.addObject();
        t.put("effect", "NoExecute");
        t.put("key", key);
        t.put("operator", "Exists");
        t.put("tolerationSeconds", 300);
    }

    /**
     * Job strategy's generateSelector: unless spec.manualSelector is true, select on the Job's uid and label
     * the template with it and the Job's name. Where the Job's own labels were defaulted from the template
     * (Go shares one map), they get the same labels.
     */
    static void jobSelector(ObjectNode job, String uid) {
        ObjectNode spec = ensure(job, "spec");
        if (spec.path("manualSelector").asBoolean(false)) return;
        ObjectNode meta = ensure(job, "metadata");
        String name = meta.path("name").asText("");
        ObjectNode template = ensure(spec, "template");
        ObjectNode templateMeta = ensure(template, "metadata");
        ObjectNode templateLabels = child(templateMeta, "labels");
        ObjectNode jobLabels = child(meta, "labels");
        boolean shared = templateLabels != null && !templateLabels.isEmpty() && templateLabels.equals(jobLabels);
        ObjectNode labels = ensure(templateMeta, "labels");
        addJobLabels(labels, uid, name);
        if (shared) addJobLabels(jobLabels, uid, name);
        // A user-written selector is kept and completed; validation rejects it unless it is the generated one.
        ObjectNode selector = ensure(spec, "selector");
        ObjectNode matchLabels = ensure(selector, "matchLabels");
        if (!matchLabels.has("batch.kubernetes.io/controller-uid")) matchLabels.put("batch.kubernetes.io/controller-uid", uid);
    }

    /** Labels the user already set are kept (a wrong one then fails validation). */
    private static void addJobLabels(ObjectNode labels, String uid, String name) {
        if (!labels.has("batch.kubernetes.io/controller-uid")) labels.put("batch.kubernetes.io/controller-uid", uid);
        if (!labels.has("batch.kubernetes.io/job-name")) labels.put("batch.kubernetes.io/job-name", name);
        if (!labels.has("controller-uid")) labels.put("controller-uid", uid);
        if (!labels.has("job-name")) labels.put("job-name", name);
    }
}
