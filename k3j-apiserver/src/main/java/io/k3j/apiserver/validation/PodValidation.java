package io.k3j.apiserver.validation;

import static io.k3j.apiserver.validation.Meta.iter;
import static io.k3j.apiserver.validation.Meta.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Quantity;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** PodSpec validation from pkg/apis/core/validation (ValidatePodSpec and what it calls). */
final class PodValidation {
    private PodValidation() {}

    static final List<String> PROTOCOLS = List.of("SCTP", "TCP", "UDP");
    private static final List<String> VOLUME_SOURCES = List.of("hostPath", "emptyDir", "gcePersistentDisk",
            "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd",
            "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume",
            "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi",
            "ephemeral", "image");
    private static final Set<String> STANDARD_CONTAINER_RESOURCES = Set.of("cpu", "memory", "ephemeral-storage");

    static void podSpec(Errs e, JsonNode spec, String p) {
        if (spec == null || !spec.isObject()) {
            e.required(p + ".containers", "");
            return;
        }
        Set<String> volumes = volumes(e, spec.get("volumes"), p + ".volumes");
        JsonNode containers = spec.get("containers");
        if (containers == null || !containers.isArray() || containers.isEmpty()) {
            e.required(p + ".containers", "");
        } else {
            containers(e, containers, volumes, p + ".containers", false);
        }
        JsonNode init = spec.get("initContainers");
        if (init != null && init.isArray()) containers(e, init, volumes, p + ".initContainers", true);
        oneOf(e, spec, "restartPolicy", p + ".restartPolicy", List.of("Always", "OnFailure", "Never"));
        oneOf(e, spec, "dnsPolicy", p + ".dnsPolicy", List.of("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"));
        Meta.labels(e, spec.get("nodeSelector"), p + ".nodeSelector");
        String sa = text(spec, "serviceAccountName");
        if (!sa.isEmpty()) e.invalidEach(p + ".serviceAccountName", sa, Names.isDNS1123Subdomain(sa));
        String node = text(spec, "nodeName");
        if (!node.isEmpty()) e.invalidEach(p + ".nodeName", node, Names.isDNS1123Subdomain(node));
        JsonNode deadline = spec.get("activeDeadlineSeconds");
        if (deadline != null && deadline.isNumber() && (deadline.asLong() < 1 || deadline.asLong() > Integer.MAX_VALUE)) {
            e.invalid(p + ".activeDeadlineSeconds", deadline.asLong(), Names.inclusiveRange(1, Integer.MAX_VALUE));
        }
        for (String f : new String[] {"hostname", "subdomain"}) {
            String v = text(spec, f);
            if (!v.isEmpty()) e.invalidEach(p + "." + f, v, Names.isDNS1123Label(v));
        }
        tolerations(e, spec.get("tolerations"), p + ".tolerations");
        String pc = text(spec, "priorityClassName");
        if (!pc.isEmpty()) e.invalidEach(p + ".priorityClassName", pc, Names.isDNS1123Subdomain(pc));
        JsonNode preemption = spec.get("preemptionPolicy");
        if (preemption != null && preemption.isTextual()) {
            String v = preemption.asText();
            if (!v.equals("PreemptLowerPriority") && !v.equals("Never")) {
                e.notSupported(p + ".preemptionPolicy", v, List.of("Never", "PreemptLowerPriority"));
            }
        }
        JsonNode grace = spec.get("terminationGracePeriodSeconds");
        if (grace != null && grace.isNumber() && grace.asLong() < 0) {
            // Negative grace periods are tolerated on create (coerced to 1) since 1.27; nothing to report.
        }
    }

    /** Required (empty) or NotSupported, as most enum fields are checked. */
    static void oneOf(Errs e, JsonNode obj, String field, String path, List<String> supported) {
        String v = text(obj, field);
        if (v.isEmpty()) e.required(path, "");
        else if (!supported.contains(v)) e.notSupported(path, v, supported);
    }

    private static Set<String> volumes(Errs e, JsonNode volumes, String p) {
        Set<String> names = new HashSet<>();
        int i = 0;
        for (JsonNode v : iter(volumes)) {
            String ip = p + "[" + i++ + "]";
            Errs el = new Errs();
            volumeSource(el, v, ip);
            String name = text(v, "name");
            if (name.isEmpty()) el.required(ip + ".name", "");
            else el.invalidEach(ip + ".name", name, Names.isDNS1123Label(name));
            if (names.contains(name)) el.duplicate(ip + ".name", name);
            if (el.isEmpty()) names.add(name);
            else e.list.addAll(el.list);
        }
        return names;
    }

    private static void volumeSource(Errs e, JsonNode v, String p) {
        int count = 0;
        for (String source : VOLUME_SOURCES) {
            JsonNode s = v.get(source);
            if (s == null || s.isNull()) continue;
            if (count++ > 0) {
                e.forbidden(p + "." + source, "may not specify more than 1 volume type");
                continue;
            }
            String sp = p + "." + source;
            switch (source) {
                case "configMap" -> {
                    if (text(s, "name").isEmpty()) e.required(sp + ".name", "");
                    keyToPaths(e, s.get("items"), sp + ".items");
                    mode(e, s.get("defaultMode"), sp + ".defaultMode");
                }
                case "secret" -> {
                    if (text(s, "secretName").isEmpty()) e.required(sp + ".secretName", "");
                    keyToPaths(e, s.get("items"), sp + ".items");
                    mode(e, s.get("defaultMode"), sp + ".defaultMode");
                }
                case "hostPath" -> {
                    if (text(s, "path").isEmpty()) e.required(sp + ".path", "");
                    String type = text(s, "type");
                    List<String> types = List.of("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
                            "FileOrCreate", "Socket");
                    if (!types.contains(type)) e.notSupported(sp + ".type", type, types);
                }
                case "persistentVolumeClaim" -> {
                    if (text(s, "claimName").isEmpty()) e.required(sp + ".claimName", "");
                }
                case "nfs" -> {
                    if (text(s, "server").isEmpty()) e.required(sp + ".server", "");
                    if (text(s, "path").isEmpty()) e.required(sp + ".path", "");
                    else if (!text(s, "path").startsWith("/")) e.invalid(sp + ".path", text(s, "path"), "must be an absolute path");
                }
                case "emptyDir" -> {
                    String medium = text(s, "medium");
                    JsonNode size = s.get("sizeLimit");
                    if (size != null && !size.isNull()) quantity(e, size, sp + ".sizeLimit", true);
                    if (!List.of("", "Memory", "HugePages").contains(medium) && !medium.startsWith("HugePages-")) {
                        e.notSupported(sp + ".medium", medium, List.of("", "Memory", "HugePages"));
                    }
                }
                default -> { }
            }
        }
        if (count == 0) e.required(p, "must specify a volume type");
    }

    private static void keyToPaths(Errs e, JsonNode items, String p) {
        int i = 0;
        for (JsonNode item : iter(items)) {
            String ip = p + "[" + i++ + "]";
            if (text(item, "key").isEmpty()) e.required(ip + ".key", "");
            String path = text(item, "path");
            if (path.isEmpty()) e.required(ip + ".path", "");
            else localDescendingPath(e, path, ip + ".path");
            mode(e, item.get("mode"), ip + ".mode");
        }
    }

    static void localDescendingPath(Errs e, String path, String p) {
        if (path.startsWith("/")) e.invalid(p, path, "must be a relative path");
        for (String part : path.split("[/\\\\]")) {
            if (part.equals("..")) {
                e.invalid(p, path, "must not contain '..'");
                break;
            }
        }
    }

    private static void mode(Errs e, JsonNode mode, String p) {
        if (mode == null || !mode.isNumber()) return;
        long m = mode.asLong();
        if (m > 0777 || m < 0) e.invalid(p, m, "must be a number between 0 and 0777 (octal), both inclusive");
    }

    private static void containers(Errs e, JsonNode containers, Set<String> volumes, String p, boolean init) {
        Set<String> names = new HashSet<>();
        int i = 0;
        for (JsonNode c : containers) {
            String cp = p + "[" + i++ + "]";
            container(e, c, volumes, cp);
            String name = text(c, "name");
            if (names.contains(name)) e.duplicate(cp + ".name", name);
            else names.add(name);
            JsonNode lifecycle = c.get("lifecycle");
            if (lifecycle != null && lifecycle.isObject()) {
                for (String hook : new String[] {"postStart", "preStop"}) {
                    JsonNode h = lifecycle.get(hook);
                    if (h != null && h.isObject()) handler(e, h, cp + ".lifecycle." + hook, true);
                }
            }
            // restartable init containers (sidecars) may have probes like app containers
            boolean plainInit = init && !"Always".equals(c.path("restartPolicy").asText());
            probe(e, c.get("livenessProbe"), cp + ".livenessProbe", true, plainInit);
            probe(e, c.get("readinessProbe"), cp + ".readinessProbe", false, plainInit);
            probe(e, c.get("startupProbe"), cp + ".startupProbe", true, plainInit);
        }
    }

    private static void container(Errs e, JsonNode c, Set<String> volumes, String p) {
        String name = text(c, "name");
        if (name.isEmpty()) e.required(p + ".name", "");
        else e.invalidEach(p + ".name", name, Names.isDNS1123Label(name));
        if (text(c, "image").isEmpty()) e.required(p + ".image", "");
        oneOf(e, c, "terminationMessagePolicy", p + ".terminationMessagePolicy", List.of("File", "FallbackToLogsOnError"));
        ports(e, c.get("ports"), p + ".ports");
        env(e, c.get("env"), p + ".env");
        volumeMounts(e, c.get("volumeMounts"), volumes, p + ".volumeMounts");
        oneOf(e, c, "imagePullPolicy", p + ".imagePullPolicy", List.of("Always", "IfNotPresent", "Never"));
        resources(e, c.get("resources"), p + ".resources");
    }

    private static void ports(Errs e, JsonNode ports, String p) {
        Set<String> names = new HashSet<>();
        int i = 0;
        for (JsonNode port : iter(ports)) {
            String ip = p + "[" + i++ + "]";
            String name = text(port, "name");
            if (!name.isEmpty()) {
                List<String> msgs = Names.isValidPortName(name);
                if (!msgs.isEmpty()) e.invalidEach(ip + ".name", name, msgs);
                else if (!names.add(name)) e.duplicate(ip + ".name", name);
            }
            long cport = port.path("containerPort").asLong(0);
            if (cport == 0) e.required(ip + ".containerPort", "");
            else e.invalidEach(ip + ".containerPort", cport, Names.isValidPortNum(cport));
            long hport = port.path("hostPort").asLong(0);
            if (hport != 0) e.invalidEach(ip + ".hostPort", hport, Names.isValidPortNum(hport));
            oneOf(e, port, "protocol", ip + ".protocol", PROTOCOLS);
        }
    }

    private static void env(Errs e, JsonNode env, String p) {
        int i = 0;
        for (JsonNode ev : iter(env)) {
            String ip = p + "[" + i++ + "]";
            String name = text(ev, "name");
            if (name.isEmpty()) e.required(ip + ".name", "");
            e.invalidEach(ip + ".name", name, Names.isRelaxedEnvVarName(name));
            JsonNode from = ev.get("valueFrom");
            if (from != null && from.isObject()) {
                int n = 0;
                for (String s : new String[] {"fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"}) {
                    if (from.hasNonNull(s)) n++;
                }
                if (!text(ev, "value").isEmpty() && n != 0) {
                    e.invalid(ip + ".valueFrom", new Errs.GoText(""), "may not be specified when `value` is not empty");
                }
                if (n == 0) e.invalid(ip + ".valueFrom", new Errs.GoText(""), "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`");
                else if (n > 1) e.invalid(ip + ".valueFrom", new Errs.GoText(""), "may not have more than one field specified at a time");
                for (String s : new String[] {"configMapKeyRef", "secretKeyRef"}) {
                    JsonNode ref = from.get(s);
                    if (ref == null || !ref.isObject()) continue;
                    String key = text(ref, "key");
                    if (key.isEmpty()) e.required(ip + ".valueFrom." + s + ".key", "");
                    else e.invalidEach(ip + ".valueFrom." + s + ".key", key, Names.isConfigMapKey(key));
                    String refName = text(ref, "name");
                    if (refName.isEmpty()) e.required(ip + ".valueFrom." + s + ".name", "");
                }
                JsonNode fieldRef = from.get("fieldRef");
                if (fieldRef != null && fieldRef.isObject()) {
                    if (text(fieldRef, "fieldPath").isEmpty()) e.required(ip + ".valueFrom.fieldRef.fieldPath", "");
                }
            }
        }
    }

    private static void volumeMounts(Errs e, JsonNode mounts, Set<String> volumes, String p) {
        Set<String> paths = new HashSet<>();
        int i = 0;
        for (JsonNode m : iter(mounts)) {
            String ip = p + "[" + i++ + "]";
            String name = text(m, "name");
            if (name.isEmpty()) e.required(ip + ".name", "");
            if (!volumes.contains(name)) e.notFound(ip + ".name", name);
            String path = text(m, "mountPath");
            if (path.isEmpty()) e.required(ip + ".mountPath", "");
            if (!paths.add(path)) e.invalid(ip + ".mountPath", path, "must be unique");
            String sub = text(m, "subPath");
            if (!sub.isEmpty()) localDescendingPath(e, sub, p + ".subPath");
        }
    }

    private static void resources(Errs e, JsonNode resources, String p) {
        if (resources == null || !resources.isObject()) return;
        JsonNode limits = resources.get("limits");
        JsonNode requests = resources.get("requests");
        String limPath = p + ".limits";
        String reqPath = p + ".requests";
        if (limits != null && limits.isObject()) {
            for (Map.Entry<String, JsonNode> l : limits.properties()) {
                String fp = limPath + "[" + l.getKey() + "]";
                resourceName(e, l.getKey(), fp);
                quantity(e, l.getValue(), fp, true);
            }
        }
        if (requests != null && requests.isObject()) {
            for (Map.Entry<String, JsonNode> r : requests.properties()) {
                String fp = reqPath + "[" + r.getKey() + "]";
                resourceName(e, r.getKey(), fp);
                Quantity q = quantity(e, r.getValue(), fp, true);
                JsonNode lim = limits == null ? null : limits.get(r.getKey());
                Quantity lq = lim == null ? null : parse(lim);
                // IsOvercommitAllowed: native resources other than huge pages.
                boolean overcommit = !r.getKey().startsWith("hugepages-")
                        && (!r.getKey().contains("/") || r.getKey().contains("kubernetes.io/"));
                if (q != null && lq != null) {
                    if (q.compareTo(lq) != 0 && !overcommit) {
                        e.invalid(reqPath, q.toString(), "must be equal to " + r.getKey() + " limit of " + lq);
                    } else if (q.compareTo(lq) > 0) {
                        e.invalid(reqPath, q.toString(), "must be less than or equal to " + r.getKey() + " limit of " + lq);
                    }
                } else if (q != null && lim == null && !overcommit) {
                    e.required(limPath, "Limit must be set for non overcommitable resources");
                }
            }
        }
    }

    private static void resourceName(Errs e, String name, String p) {
        List<String> msgs = Names.isQualifiedName(name);
        if (!msgs.isEmpty()) {
            e.invalidEach(p, name, msgs);
            return;
        }
        if (STANDARD_CONTAINER_RESOURCES.contains(name) || name.startsWith("hugepages-")) return;
        // Extended resources need a domain outside kubernetes.io.
        if (!name.contains("/") || name.startsWith("kubernetes.io/") || name.startsWith("requests.")) {
            e.invalid(p, name, "must be a standard resource for containers");
        }
    }

    static Quantity parse(JsonNode n) {
        try {
            return n != null && (n.isTextual() || n.isNumber()) ? Quantity.parse(n.asText()) : null;
        } catch (IllegalArgumentException ex) {
            return null;
        }
    }

    /** A quantity that must parse and (when asked) not be negative. */
    static Quantity quantity(Errs e, JsonNode n, String p, boolean nonNegative) {
        Quantity q = parse(n);
        if (q == null) {
            // kube-apiserver fails such a body while decoding it (400); here it is a field error.
            e.invalid(p, n == null ? "" : n.asText(), Quantity.FORMAT_ERROR);
            return null;
        }
        if (nonNegative && q.signum() < 0) e.invalid(p, q.toString(), Meta.NEGATIVE);
        return q;
    }

    private static void probe(Errs e, JsonNode probe, String p, boolean successMustBeOne, boolean init) {
        if (probe == null || !probe.isObject()) return;
        if (init) {
            e.forbidden(p, "may not be set for init containers without restartPolicy=Always");
            return;
        }
        handler(e, probe, p, false);
        for (String f : new String[] {"initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"}) {
            JsonNode v = probe.get(f);
            if (v != null && v.isNumber() && v.asLong() < 0) e.invalid(p + "." + f, v.asLong(), Meta.NEGATIVE);
        }
        JsonNode success = probe.get("successThreshold");
        if (successMustBeOne && success != null && success.isNumber() && success.asLong() != 1) {
            e.invalid(p + ".successThreshold", success.asLong(), "must be 1");
        }
        JsonNode grace = probe.get("terminationGracePeriodSeconds");
        if (grace != null && grace.isNumber() && grace.asLong() <= 0) {
            e.invalid(p + ".terminationGracePeriodSeconds", grace.asLong(), "must be greater than 0");
        }
    }

    private static void handler(Errs e, JsonNode h, String p, boolean lifecycle) {
        String[] kinds = lifecycle ? new String[] {"exec", "httpGet", "tcpSocket", "sleep"}
                : new String[] {"exec", "httpGet", "tcpSocket", "grpc"};
        int n = 0;
        for (String k : kinds) {
            JsonNode v = h.get(k);
            if (v == null || v.isNull()) continue;
            if (n++ > 0) {
                e.forbidden(p + "." + k, "may not specify more than 1 handler type");
                continue;
            }
            switch (k) {
                case "exec" -> {
                    if (v.path("command").size() == 0) e.required(p + ".exec.command", "");
                }
                case "httpGet" -> {
                    if (text(v, "path").isEmpty()) e.required(p + ".httpGet.path", "");
                    portNumOrName(e, v.get("port"), p + ".httpGet.port");
                    String scheme = text(v, "scheme");
                    if (!scheme.equals("HTTP") && !scheme.equals("HTTPS")) e.notSupported(p + ".httpGet.scheme", scheme, List.of("HTTP", "HTTPS"));
                }
                case "tcpSocket" -> portNumOrName(e, v.get("port"), p + ".tcpSocket.port");
                case "grpc" -> {
                    long port = v.path("port").asLong(0);
                    e.invalidEach(p + ".grpc.port", port, Names.isValidPortNum(port));
                }
                default -> { }
            }
        }
        if (n == 0) e.required(p, "must specify a handler type");
    }

    /** ValidatePortNumOrName: an int in 1..65535 or an IANA_SVC_NAME. */
    static void portNumOrName(Errs e, JsonNode port, String p) {
        if (port != null && port.isNumber()) {
            e.invalidEach(p, port.asLong(), Names.isValidPortNum(port.asLong()));
        } else if (port != null && port.isTextual()) {
            e.invalidEach(p, port.asText(), Names.isValidPortName(port.asText()));
        } else {
            e.invalid(p, 0L, Names.inclusiveRange(1, 65535));
        }
    }

    private static void tolerations(Errs e, JsonNode tolerations, String p) {
        int i = 0;
        for (JsonNode t : iter(tolerations)) {
            String ip = p + "[" + i++ + "]";
            String key = text(t, "key");
            if (!key.isEmpty()) e.invalidEach(ip + ".key", key, Names.isQualifiedName(key));
            String op = text(t, "operator");
            if (key.isEmpty() && !op.equals("Exists")) {
                e.invalid(ip + ".operator", op, "operator must be Exists when `key` is empty, which means \"match all values and all keys\"");
            }
            if (t.hasNonNull("tolerationSeconds") && !text(t, "effect").equals("NoExecute")) {
                e.invalid(ip + ".effect", text(t, "effect"), "effect must be 'NoExecute' when `tolerationSeconds` is set");
            }
            switch (op) {
                case "", "Equal" -> {
                    String value = text(t, "value");
                    e.invalidEach(ip + ".value", value, Names.isValidLabelValue(value));
                }
                case "Exists" -> {
                    if (!text(t, "value").isEmpty()) e.invalid(ip + ".operator", new Errs.GoText(t.toString()), "value must be empty when `operator` is 'Exists'");
                }
                default -> e.notSupported(ip + ".operator", op, List.of("Equal", "Exists"));
            }
            String effect = text(t, "effect");
            if (!effect.isEmpty() && !List.of("NoSchedule", "PreferNoSchedule", "NoExecute").contains(effect)) {
                e.notSupported(ip + ".effect", effect, List.of("NoExecute", "NoSchedule", "PreferNoSchedule"));
            }
        }
    }
}
