package io.k3j.apiserver.defaults;

import static io.k3j.apiserver.defaults.Nodes.blank;
import static io.k3j.apiserver.defaults.Nodes.bool;
import static io.k3j.apiserver.defaults.Nodes.child;
import static io.k3j.apiserver.defaults.Nodes.ensure;
import static io.k3j.apiserver.defaults.Nodes.items;
import static io.k3j.apiserver.defaults.Nodes.number;
import static io.k3j.apiserver.defaults.Nodes.text;
import static io.k3j.apiserver.defaults.Nodes.unset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * Pod, pod template and pod spec defaults from pkg/apis/core/v1/defaults.go (SetDefaults_Pod, _PodSpec,
 * _Container, _Probe, _HTTPGetAction, _Volume and the volume sources). Templates get the PodSpec defaults
 * only; SetDefaults_Pod (enableServiceLinks, requests from limits) applies to Pods alone.
 */
final class PodDefaults {
    private PodDefaults() {}

    static final int DEFAULT_MODE = 0644;

    /** SetDefaults_Pod plus everything under spec. */
    static void pod(ObjectNode pod) {
        ObjectNode spec = ensure(pod, "spec");
        // Requests default to limits where only limits were given (containers and init containers).
        for (String list : new String[] {"containers", "initContainers"}) {
            for (ObjectNode c : items(spec, list)) requestsFromLimits(c);
        }
        ObjectNode podResources = child(spec, "resources");
        if (podResources != null) requestsFromLimitsOf(podResources);
        bool(spec, "enableServiceLinks", true);
        podSpec(spec);
        if (spec.path("hostNetwork").asBoolean(false)) hostNetworkPorts(spec);
    }

    /** A PodTemplateSpec: template metadata as Go serializes it, and the PodSpec defaults. */
    static void template(ObjectNode owner, String field) {
        ObjectNode template = ensure(owner, field);
        templateMeta(template);
        ObjectNode spec = ensure(template, "spec");
        podSpec(spec);
        if (spec.path("hostNetwork").asBoolean(false)) hostNetworkPorts(spec);
    }

    /** Go writes an unset creationTimestamp in an embedded ObjectMeta as null; kubectl shows it. */
    static void templateMeta(ObjectNode template) {
        ObjectNode meta = ensure(template, "metadata");
        if (!meta.has("creationTimestamp")) meta.putNull("creationTimestamp");
    }

    private static void requestsFromLimits(ObjectNode container) {
        ObjectNode resources = child(container, "resources");
        if (resources != null) requestsFromLimitsOf(resources);
    }

    private static void requestsFromLimitsOf(ObjectNode resources) {
        ObjectNode limits = child(resources, "limits");
        if (limits == null || limits.isEmpty()) return;
        ObjectNode requests = ensure(resources, "requests");
        for (Map.Entry<String, JsonNode> e : limits.properties()) {
            if (!requests.has(e.getKey())) requests.set(e.getKey(), e.getValue().deepCopy());
        }
    }

    /** SetDefaults_PodSpec and the defaulters of everything a PodSpec contains. */
    static void podSpec(ObjectNode spec) {
        text(spec, "dnsPolicy", "ClusterFirst");
        text(spec, "restartPolicy", "Always");
        if (unset(spec, "securityContext")) spec.putObject("securityContext");
        number(spec, "terminationGracePeriodSeconds", 30);
        text(spec, "schedulerName", "default-scheduler");
        for (ObjectNode c : items(spec, "containers")) container(c);
        for (ObjectNode c : items(spec, "initContainers")) container(c);
        for (ObjectNode c : items(spec, "ephemeralContainers")) container(c);
        for (ObjectNode v : items(spec, "volumes")) volume(v);
        ObjectNode podResources = child(spec, "resources");
        if (podResources != null) {
            Nodes.resourceList(child(podResources, "limits"));
            Nodes.resourceList(child(podResources, "requests"));
        }
    }

    /** With hostNetwork, a port's hostPort defaults to its containerPort (defaultHostNetworkPorts). */
    private static void hostNetworkPorts(ObjectNode spec) {
        for (String list : new String[] {"containers", "initContainers"}) {
            for (ObjectNode c : items(spec, list)) {
                for (ObjectNode p : items(c, "ports")) {
                    if (unset(p, "hostPort") || p.path("hostPort").asInt() == 0) {
                        JsonNode cp = p.get("containerPort");
                        if (cp != null && cp.isIntegralNumber()) p.put("hostPort", cp.asInt());
                    }
                }
            }
        }
    }

    /** SetDefaults_Container: pull policy from the tag, termination message, port protocols, probes. */
    static void container(ObjectNode c) {
        if (blank(c, "imagePullPolicy")) {
            String image = c.path("image").asText("");
            c.put("imagePullPolicy", pullPolicy(image));
        }
        text(c, "terminationMessagePath", "/dev/termination-log");
        text(c, "terminationMessagePolicy", "File");
        if (unset(c, "resources")) c.putObject("resources");
        ObjectNode resources = child(c, "resources");
        if (resources != null) {
            Nodes.resourceList(child(resources, "limits"));
            Nodes.resourceList(child(resources, "requests"));
        }
        for (ObjectNode p : items(c, "ports")) text(p, "protocol", "TCP");
        for (String probe : new String[] {"livenessProbe", "readinessProbe", "startupProbe"}) {
            ObjectNode p = child(c, probe);
            if (p != null) probe(p);
        }
        ObjectNode lifecycle = child(c, "lifecycle");
        if (lifecycle != null) {
            for (String hook : new String[] {"postStart", "preStop"}) handler(child(lifecycle, hook));
        }
        for (ObjectNode env : items(c, "env")) {
            ObjectNode from = child(env, "valueFrom");
            if (from != null) objectFieldSelector(child(from, "fieldRef"));
        }
    }

    /** Always for ":latest" or an untagged image, IfNotPresent otherwise; digests count as tags. */
    static String pullPolicy(String image) {
        if (image.contains("@")) return "IfNotPresent";
        int slash = image.lastIndexOf('/');
        int colon = image.lastIndexOf(':');
        if (colon <= slash) return "Always";
        String tag = image.substring(colon + 1);
        return tag.equals("latest") ? "Always" : "IfNotPresent";
    }

    static void probe(ObjectNode p) {
        number(p, "timeoutSeconds", 1);
        number(p, "periodSeconds", 10);
        number(p, "successThreshold", 1);
        number(p, "failureThreshold", 3);
        handler(p);
    }

    private static void handler(ObjectNode h) {
        if (h == null) return;
        ObjectNode http = child(h, "httpGet");
        if (http != null) {
            text(http, "path", "/");
            text(http, "scheme", "HTTP");
        }
    }

    private static void objectFieldSelector(ObjectNode fieldRef) {
        if (fieldRef != null) text(fieldRef, "apiVersion", "v1");
    }

    /** SetDefaults_Volume (no source means emptyDir) and the per-source defaulters. */
    static void volume(ObjectNode v) {
        boolean hasSource = false;
        for (var e : v.properties()) {
            if (!e.getKey().equals("name") && !e.getValue().isNull()) hasSource = true;
        }
        if (!hasSource) v.putObject("emptyDir");
        ObjectNode s;
        if ((s = child(v, "secret")) != null) number(s, "defaultMode", DEFAULT_MODE);
        if ((s = child(v, "configMap")) != null) number(s, "defaultMode", DEFAULT_MODE);
        if ((s = child(v, "downwardAPI")) != null) {
            number(s, "defaultMode", DEFAULT_MODE);
            for (ObjectNode item : items(s, "items")) objectFieldSelector(child(item, "fieldRef"));
        }
        if ((s = child(v, "projected")) != null) {
            number(s, "defaultMode", DEFAULT_MODE);
            for (ObjectNode src : items(s, "sources")) {
                ObjectNode dapi = child(src, "downwardAPI");
                if (dapi != null) for (ObjectNode item : items(dapi, "items")) objectFieldSelector(child(item, "fieldRef"));
                ObjectNode sat = child(src, "serviceAccountToken");
                if (sat != null) number(sat, "expirationSeconds", 3600);
            }
        }
        if ((s = child(v, "emptyDir")) != null) {
            JsonNode limit = s.get("sizeLimit");
            if (limit != null && limit.isTextual()) {
                ObjectNode tmp = io.k3j.api.Json.object();
                tmp.set("sizeLimit", limit);
                Nodes.resourceList(tmp);
                s.set("sizeLimit", tmp.get("sizeLimit"));
            }
        }
        if ((s = child(v, "hostPath")) != null) text(s, "type", "");
        if ((s = child(v, "iscsi")) != null) text(s, "iscsiInterface", "default");
        if ((s = child(v, "rbd")) != null) rbd(s);
        if ((s = child(v, "azureDisk")) != null) azureDisk(s);
        if ((s = child(v, "scaleIO")) != null) {
            text(s, "storageMode", "ThinProvisioned");
            text(s, "fsType", "xfs");
        }
        if ((s = child(v, "ephemeral")) != null) {
            ObjectNode vct = child(s, "volumeClaimTemplate");
            if (vct != null) {
                ObjectNode spec = child(vct, "spec");
                if (spec != null) text(spec, "volumeMode", "Filesystem");
            }
        }
    }

    static void rbd(ObjectNode s) {
        text(s, "pool", "rbd");
        text(s, "user", "admin");
        text(s, "keyring", "/etc/ceph/keyring");
    }

    static void azureDisk(ObjectNode s) {
        text(s, "cachingMode", "ReadWrite");
        text(s, "kind", "Shared");
        text(s, "fsType", "ext4");
        bool(s, "readOnly", false);
    }
}
