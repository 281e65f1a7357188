package io.k3j.apiserver.validation;

import static io.k3j.apiserver.validation.Meta.iter;
import static io.k3j.apiserver.validation.Meta.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The core group's kinds other than the PodSpec itself (pkg/apis/core/validation). */
final class CoreValidation {
    private CoreValidation() {}

    static final int MAX_CONFIG_SIZE = 1024 * 1024;

    /** A PodTemplateSpec: labels, annotations and the PodSpec, under {@code p}. */
    static void podTemplate(Errs e, JsonNode template, String p) {
        JsonNode meta = template == null ? null : template.get("metadata");
        Meta.labels(e, meta == null ? null : meta.get("labels"), p + ".labels");
        Meta.annotations(e, meta == null ? null : meta.get("annotations"), p + ".annotations");
        PodValidation.podSpec(e, template == null ? null : template.get("spec"), p + ".spec");
    }

    static void service(Errs e, JsonNode svc) {
        JsonNode spec = svc.path("spec");
        String type = text(spec, "type");
        JsonNode ports = spec.get("ports");
        boolean headless = "None".equals(text(spec, "clusterIP"));
        if ((ports == null || ports.isEmpty()) && !headless && !type.equals("ExternalName")) e.required("spec.ports", "");
        if (type.equals("ExternalName")) {
            String name = text(spec, "externalName");
            if (name.isEmpty()) {
                e.required("spec.externalName", "");
            } else {
                String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
                List<String> msgs = Names.isDNS1123Subdomain(n);
                if (!msgs.isEmpty()) e.invalid("spec.externalName", n, String.join(",", msgs));
                else if (!n.contains(".")) e.invalid("spec.externalName", n, "should be a domain with at least two segments separated by dots");
            }
        }
        Set<String> names = new HashSet<>();
        int size = ports == null ? 0 : ports.size();
        int i = 0;
        for (JsonNode port : iter(ports)) {
            String pp = "spec.ports[" + i++ + "]";
            String name = text(port, "name");
            if (size > 1 && name.isEmpty()) {
                e.required(pp + ".name", "");
            } else if (!name.isEmpty()) {
                e.invalidEach(pp + ".name", name, Names.isDNS1123Label(name));
                if (!names.add(name)) e.duplicate(pp + ".name", name);
            }
            long number = port.path("port").asLong(0);
            e.invalidEach(pp + ".port", number, Names.isValidPortNum(number));
            PodValidation.oneOf(e, port, "protocol", pp + ".protocol", PodValidation.PROTOCOLS);
            JsonNode target = port.get("targetPort");
            if (target != null && !target.isNull()) PodValidation.portNumOrName(e, target, pp + ".targetPort");
        }
        JsonNode selector = spec.get("selector");
        if (selector != null) Meta.labels(e, selector, "spec.selector");
        PodValidation.oneOf(e, spec, "sessionAffinity", "spec.sessionAffinity", List.of("ClientIP", "None"));
        PodValidation.oneOf(e, spec, "type", "spec.type", List.of("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"));
        i = 0;
        Set<String> nodePorts = new HashSet<>();
        Set<String> portKeys = new HashSet<>();
        for (JsonNode port : iter(ports)) {
            String pp = "spec.ports[" + i++ + "]";
            long nodePort = port.path("nodePort").asLong(0);
            if (type.equals("ClusterIP") && nodePort != 0) e.forbidden(pp + ".nodePort", "may not be used when `type` is 'ClusterIP'");
            if (nodePort != 0 && !nodePorts.add(text(port, "protocol") + "/" + nodePort)) e.duplicate(pp + ".nodePort", nodePort);
            if (nodePort != 0 && (nodePort < 30000 || nodePort > 32767)) {
                // Reported by the node-port allocator in kube-apiserver, with this text.
                e.invalid(pp + ".nodePort", nodePort, "provided port is not in the valid range. The range of valid ports is 30000-32767");
            }
            String key = text(port, "protocol") + "/" + port.path("port").asLong(0);
            if (!portKeys.add(key)) {
                e.duplicate(pp, new Errs.GoText("core.ServicePort{Name:\"\", Protocol:\"" + text(port, "protocol")
                        + "\", AppProtocol:(*string)(nil), Port:" + port.path("port").asLong(0)
                        + ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"));
            }
        }
        String etp = text(spec, "externalTrafficPolicy");
        if (!etp.isEmpty()) {
            if (!type.equals("NodePort") && !type.equals("LoadBalancer")) {
                e.invalid("spec.externalTrafficPolicy", etp, "may only be set when `type` is 'NodePort' or 'LoadBalancer'");
            } else if (!etp.equals("Cluster") && !etp.equals("Local")) {
                e.notSupported("spec.externalTrafficPolicy", etp, List.of("Cluster", "Local"));
            }
        }
        String itp = text(spec, "internalTrafficPolicy");
        if (!itp.isEmpty() && !itp.equals("Cluster") && !itp.equals("Local")) {
            e.notSupported("spec.internalTrafficPolicy", itp, List.of("Cluster", "Local"));
        }
    }

    /** ConfigMap data and binaryData: key syntax, no key in both, 1 MiB in total. */
    static void configMap(Errs e, JsonNode cm) {
        long total = 0;
        JsonNode data = cm.get("data");
        JsonNode binary = cm.get("binaryData");
        if (data != null && data.isObject()) {
            for (Map.Entry<String, JsonNode> d : data.properties()) {
                e.invalidEach("data[" + d.getKey() + "]", d.getKey(), Names.isConfigMapKey(d.getKey()));
                total += Meta.utf8Length(d.getValue().asText(""));
            }
        }
        if (binary != null && binary.isObject()) {
            for (Map.Entry<String, JsonNode> d : binary.properties()) {
                e.invalidEach("binaryData[" + d.getKey() + "]", d.getKey(), Names.isConfigMapKey(d.getKey()));
                if (data != null && data.has(d.getKey())) {
                    e.invalid("data[" + d.getKey() + "]", d.getKey(), "duplicate of key present in binaryData");
                }
                total += decodedLength(d.getValue().asText(""));
            }
        }
        if (total > MAX_CONFIG_SIZE) e.tooLong("", MAX_CONFIG_SIZE);
    }

    static void secret(Errs e, JsonNode secret) {
        long total = 0;
        JsonNode data = secret.get("data");
        if (data != null && data.isObject()) {
            for (Map.Entry<String, JsonNode> d : data.properties()) {
                e.invalidEach("data[" + d.getKey() + "]", d.getKey(), Names.isConfigMapKey(d.getKey()));
                total += decodedLength(d.getValue().asText(""));
            }
        }
        if (total > MAX_CONFIG_SIZE) e.tooLong("data", MAX_CONFIG_SIZE);
        String type = text(secret, "type");
        switch (type) {
            case "kubernetes.io/service-account-token" -> {
                JsonNode ann = secret.path("metadata").path("annotations");
                if (text(ann, "kubernetes.io/service-account.name").isEmpty()) {
                    e.required("metadata.annotations[kubernetes.io/service-account.name]", "");
                }
            }
            case "kubernetes.io/dockercfg" -> requireKey(e, data, ".dockercfg");
            case "kubernetes.io/dockerconfigjson" -> requireKey(e, data, ".dockerconfigjson");
            case "kubernetes.io/basic-auth" -> {
                if (data == null || (!data.has("username") && !data.has("password"))) {
                    e.required("data[username]", "");
                    e.required("data[password]", "");
                }
            }
            case "kubernetes.io/ssh-auth" -> requireKey(e, data, "ssh-privatekey");
            case "kubernetes.io/tls" -> {
                requireKey(e, data, "tls.crt");
                requireKey(e, data, "tls.key");
            }
            default -> { }
        }
    }

    private static void requireKey(Errs e, JsonNode data, String key) {
        if (data == null || !data.has(key)) e.required("data[" + key + "]", "");
    }

    private static long decodedLength(String b64) {
        try {
            return Base64.getDecoder().decode(b64).length;
        } catch (IllegalArgumentException ex) {
            return b64.length();
        }
    }

    /** Secret and ConfigMap with immutable: true may change nothing but metadata. */
    static void immutableData(Errs e, JsonNode obj, JsonNode old, String... fields) {
        boolean wasImmutable = old.path("immutable").asBoolean(false);
        if (wasImmutable && !obj.path("immutable").asBoolean(false)) {
            e.forbidden("immutable", "field is immutable when `immutable` is set");
        }
        if (!wasImmutable) return;
        for (String f : fields) {
            if (!Meta.sameOrUnset(emptyToNull(obj.get(f)), emptyToNull(old.get(f)))) {
                e.forbidden(f, "field is immutable when `immutable` is set");
            }
        }
    }

    private static JsonNode emptyToNull(JsonNode n) {
        return n != null && n.isContainerNode() && n.isEmpty() ? null : n;
    }

    static void namespace(Errs e, JsonNode ns) {
        int i = 0;
        for (JsonNode f : iter(ns.path("spec").get("finalizers"))) {
            String fin = f.asText();
            String fp = "spec.finalizers[" + i++ + "]";
            // A finalizer is a qualified name, and without a prefix it must be a standard one.
            List<String> msgs = Names.isQualifiedName(fin);
            if (!msgs.isEmpty()) e.invalidEach(fp, fin, msgs);
            else if (!fin.contains("/") && !fin.equals("kubernetes")) {
                e.invalid(fp, fin, "name is neither a standard finalizer name nor is it fully qualified");
            }
        }
    }

    static void node(Errs e, JsonNode node) {
        JsonNode spec = node.path("spec");
        int i = 0;
        for (JsonNode taint : iter(spec.get("taints"))) {
            String tp = "spec.taints[" + i++ + "]";
            String key = text(taint, "key");
            if (key.isEmpty()) e.required(tp + ".key", "");
            else e.invalidEach(tp + ".key", key, Names.isQualifiedName(key));
            String value = text(taint, "value");
            e.invalidEach(tp + ".value", value, Names.isValidLabelValue(value));
            String effect = text(taint, "effect");
            if (effect.isEmpty()) e.required(tp + ".effect", "");
            else if (!List.of("NoSchedule", "PreferNoSchedule", "NoExecute").contains(effect)) {
                e.notSupported(tp + ".effect", effect, List.of("NoExecute", "NoSchedule", "PreferNoSchedule"));
            }
        }
        String podCIDR = text(spec, "podCIDR");
        if (!podCIDR.isEmpty() && !podCIDR.contains("/")) e.invalid("spec.podCIDR", podCIDR, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
    }

    static void persistentVolumeClaimSpec(Errs e, JsonNode spec, String p) {
        JsonNode modes = spec == null ? null : spec.get("accessModes");
        if (modes == null || modes.isEmpty()) {
            e.required(p + ".accessModes", "at least 1 access mode is required");
        } else {
            List<String> supported = List.of("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod");
            for (JsonNode m : modes) if (!supported.contains(m.asText())) e.notSupported(p + ".accessModes", m.asText(), supported);
        }
        JsonNode storage = spec == null ? null : spec.path("resources").path("requests").get("storage");
        if (storage == null || storage.isNull()) {
            e.required(p + ".resources[storage]", "");
        } else {
            var q = PodValidation.quantity(e, storage, p + ".resources[storage]", true);
            if (q != null && q.signum() == 0) e.invalid(p + ".resources[storage]", q.toString(), "must be greater than zero");
        }
        String mode = text(spec, "volumeMode");
        if (!mode.isEmpty() && !mode.equals("Filesystem") && !mode.equals("Block")) {
            e.notSupported(p + ".volumeMode", mode, List.of("Block", "Filesystem"));
        }
    }

    static void persistentVolume(Errs e, JsonNode pv) {
        JsonNode spec = pv.path("spec");
        JsonNode modes = spec.get("accessModes");
        if (modes == null || modes.isEmpty()) e.required("spec.accessModes", "");
        JsonNode capacity = spec.get("capacity");
        if (capacity == null || capacity.isEmpty()) {
            e.required("spec.capacity", "");
        } else {
            for (Map.Entry<String, JsonNode> c : capacity.properties()) {
                if (!c.getKey().equals("storage")) e.notSupported("spec.capacity", c.getKey(), List.of("storage"));
                PodValidation.quantity(e, c.getValue(), "spec.capacity[" + c.getKey() + "]", true);
            }
        }
        String policy = text(spec, "persistentVolumeReclaimPolicy");
        if (!policy.isEmpty() && !List.of("Delete", "Recycle", "Retain").contains(policy)) {
            e.notSupported("spec.persistentVolumeReclaimPolicy", policy, List.of("Delete", "Recycle", "Retain"));
        }
        int sources = 0;
        for (String s : new String[] {"hostPath", "local", "nfs", "csi", "iscsi", "fc", "rbd", "cephfs", "glusterfs", "azureFile",
                "azureDisk", "gcePersistentDisk", "awsElasticBlockStore", "cinder", "flexVolume", "vsphereVolume", "portworxVolume",
                "scaleIO", "storageos", "quobyte", "photonPersistentDisk", "flocker"}) {
            if (spec.hasNonNull(s)) sources++;
        }
        if (sources == 0) e.required("spec", "must specify a volume type");
    }

    static void resourceList(Errs e, JsonNode list, String p) {
        if (list == null || !list.isObject()) return;
        for (Map.Entry<String, JsonNode> r : list.properties()) {
            String fp = p + "[" + r.getKey() + "]";
            e.invalidEach(fp, r.getKey(), Names.isQualifiedName(r.getKey()));
            PodValidation.quantity(e, r.getValue(), fp, true);
        }
    }

    static void limitRange(Errs e, JsonNode lr) {
        int i = 0;
        for (JsonNode item : iter(lr.path("spec").get("limits"))) {
            String ip = "spec.limits[" + i++ + "]";
            String type = text(item, "type");
            for (String f : new String[] {"max", "min", "default", "defaultRequest", "maxLimitRequestRatio"}) {
                resourceList(e, item.get(f), ip + "." + f);
            }
            if (type.equals("Pod") && item.hasNonNull("default")) e.forbidden(ip + ".default", "may not be specified when `type` is 'Pod'");
            if (type.equals("Pod") && item.hasNonNull("defaultRequest")) e.forbidden(ip + ".defaultRequest", "may not be specified when `type` is 'Pod'");
            JsonNode min = item.get("min");
            JsonNode max = item.get("max");
            if (min != null && max != null) {
                for (Map.Entry<String, JsonNode> m : min.properties()) {
                    var mq = PodValidation.parse(m.getValue());
                    var xq = PodValidation.parse(max.get(m.getKey()));
                    if (mq != null && xq != null && mq.compareTo(xq) > 0) {
                        e.invalid(ip + ".min[" + m.getKey() + "]", mq.toString(), "min value " + mq + " is greater than max value " + xq);
                    }
                }
            }
        }
    }

    static void resourceQuota(Errs e, JsonNode rq) {
        resourceList(e, rq.path("spec").get("hard"), "spec.hard");
        int i = 0;
        for (JsonNode scope : iter(rq.path("spec").get("scopes"))) {
            List<String> supported = List.of("BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating",
                    "PriorityClass", "Terminating");
            if (!supported.contains(scope.asText())) e.notSupported("spec.scopes[" + i + "]", scope.asText(), supported);
            i++;
        }
    }

    static void replicationController(Errs e, JsonNode rc) {
        JsonNode spec = rc.path("spec");
        JsonNode replicas = spec.get("replicas");
        if (replicas != null && replicas.isNumber() && replicas.asLong() < 0) e.invalid("spec.replicas", replicas.asLong(), Meta.NEGATIVE);
        JsonNode selector = spec.get("selector");
        if (selector == null || selector.isEmpty()) e.required("spec.selector", "");
        else Meta.labels(e, selector, "spec.selector");
        JsonNode template = spec.get("template");
        if (template == null || template.isNull()) {
            e.required("spec.template", "");
            return;
        }
        JsonNode labels = template.path("metadata").get("labels");
        if (selector != null && !selector.isEmpty() && !Meta.mapSelectorMatches(selector, labels)) {
            e.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`");
        }
        podTemplate(e, template, "spec.template");
        if (!text(template.path("spec"), "restartPolicy").equals("Always")) {
            e.notSupported("spec.template.spec.restartPolicy", text(template.path("spec"), "restartPolicy"), List.of("Always"));
        }
    }

    static void event(Errs e, JsonNode ev) {
        String ns = text(ev.path("metadata"), "namespace");
        String involvedNs = text(ev.path("involvedObject"), "namespace");
        if (!involvedNs.isEmpty() && !ns.isEmpty() && !involvedNs.equals(ns)) {
            e.invalid("involvedObject.namespace", involvedNs, "does not match event.namespace");
        }
        String type = text(ev, "type");
        if (!type.isEmpty() && !type.equals("Normal") && !type.equals("Warning")) {
            e.notSupported("type", type, List.of("Normal", "Warning"));
        }
    }

    static void endpoints(Errs e, JsonNode ep) {
        int i = 0;
        for (JsonNode subset : iter(ep.get("subsets"))) {
            String sp = "subsets[" + i++ + "]";
            int j = 0;
            for (JsonNode port : iter(subset.get("ports"))) {
                String pp = sp + ".ports[" + j++ + "]";
                long number = port.path("port").asLong(0);
                e.invalidEach(pp + ".port", number, Names.isValidPortNum(number));
                PodValidation.oneOf(e, port, "protocol", pp + ".protocol", PodValidation.PROTOCOLS);
            }
            int k = 0;
            for (JsonNode addr : iter(subset.get("addresses"))) {
                String ip = text(addr, "ip");
                if (!Net.isIP(ip)) e.invalid(sp + ".addresses[" + k + "].ip", ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
                k++;
            }
        }
    }
}
