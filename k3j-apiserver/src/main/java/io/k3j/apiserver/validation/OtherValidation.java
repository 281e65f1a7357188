package io.k3j.apiserver.validation;

import static io.k3j.apiserver.validation.Meta.iter;
import static io.k3j.apiserver.validation.Meta.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** networking, rbac, storage, discovery, coordination, events.k8s.io and apiextensions kinds. */
final class OtherValidation {
    private OtherValidation() {}

    static final String RBAC_GROUP = "rbac.authorization.k8s.io";

    static void ingress(Errs e, JsonNode ing) {
        JsonNode spec = ing.path("spec");
        JsonNode rules = spec.get("rules");
        JsonNode def = spec.get("defaultBackend");
        if ((rules == null || rules.isEmpty()) && (def == null || def.isNull())) {
            e.invalid("spec.rules", new Errs.GoText("[]networking.IngressRule(nil)"), "either `defaultBackend` or `rules` must be specified");
        }
        if (def != null && def.isObject()) backend(e, def, "spec.defaultBackend");
        int i = 0;
        for (JsonNode rule : iter(rules)) {
            String rp = "spec.rules[" + i++ + "]";
            String host = text(rule, "host");
            if (!host.isEmpty()) {
                if (Net.isIP(host)) e.invalid(rp + ".host", host, "must be a DNS name, not an IP address");
                if (host.startsWith("*.")) {
                    List<String> msgs = Names.isDNS1123Subdomain(host.substring(2));
                    if (!msgs.isEmpty()) {
                        e.invalid(rp + ".host", host, Names.regexError("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
                                "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", "*.example.com"));
                    }
                } else {
                    e.invalidEach(rp + ".host", host, Names.isDNS1123Subdomain(host));
                }
            }
            JsonNode http = rule.get("http");
            if (http == null || http.isNull()) continue;
            JsonNode paths = http.get("paths");
            if (paths == null || paths.isEmpty()) e.required(rp + ".http.paths", "");
            int j = 0;
            for (JsonNode path : iter(paths)) {
                String pp = rp + ".http.paths[" + j++ + "]";
                String type = text(path, "pathType");
                String value = text(path, "path");
                if (type.isEmpty()) {
                    e.required(pp + ".pathType", "pathType must be specified");
                } else if (!List.of("Exact", "ImplementationSpecific", "Prefix").contains(type)) {
                    e.notSupported(pp + ".pathType", type, List.of("Exact", "ImplementationSpecific", "Prefix"));
                } else if (!type.equals("ImplementationSpecific")) {
                    if (!value.startsWith("/")) e.invalid(pp + ".path", value, "must be an absolute path");
                    for (String bad : new String[] {"//", "/./", "/../", "%2f", "%2F"}) {
                        if (value.contains(bad)) e.invalid(pp + ".path", value, "must not contain '" + bad + "'");
                    }
                } else if (!value.isEmpty() && !value.startsWith("/")) {
                    e.invalid(pp + ".path", value, "must be an absolute path");
                }
                backend(e, path.path("backend"), pp + ".backend");
            }
        }
        String cls = text(spec, "ingressClassName");
        if (!cls.isEmpty()) e.invalidEach("spec.ingressClassName", cls, Names.isDNS1123Subdomain(cls));
    }

    private static void backend(Errs e, JsonNode b, String p) {
        boolean hasService = b.hasNonNull("service");
        boolean hasResource = b.hasNonNull("resource");
        if (hasService && hasResource) {
            e.invalid(p, "", "cannot set both resource and service backends");
            return;
        }
        if (hasResource) {
            JsonNode r = b.get("resource");
            if (text(r, "kind").isEmpty()) e.required(p + ".resource.kind", "");
            if (text(r, "name").isEmpty()) e.required(p + ".resource.name", "");
            return;
        }
        if (!hasService) {
            e.invalid(p, "", "resource or service backend is required");
            return;
        }
        JsonNode svc = b.get("service");
        String name = text(svc, "name");
        if (name.isEmpty()) e.required(p + ".service.name", "");
        else e.invalidEach(p + ".service.name", name, Names.isDNS1035Label(name));
        JsonNode port = svc.path("port");
        boolean hasName = !text(port, "name").isEmpty();
        boolean hasNumber = port.path("number").asLong(0) != 0;
        if (hasName && hasNumber) e.invalid(p + ".service.port", "", "cannot set both port name & port number");
        else if (hasName) e.invalidEach(p + ".service.port.name", text(port, "name"), Names.isValidPortName(text(port, "name")));
        else if (hasNumber) e.invalidEach(p + ".service.port.number", port.path("number").asLong(), Names.isValidPortNum(port.path("number").asLong()));
        else e.invalid(p + ".service.port", "", "port name or number is required");
    }

    static void ingressClass(Errs e, JsonNode ic) {
        String controller = text(ic.path("spec"), "controller");
        if (controller.isEmpty()) e.required("spec.controller", "");
        else if (controller.length() > 250) e.tooLong("spec.controller", 250);
        else if (!controller.contains("/") || controller.startsWith("/") || controller.endsWith("/")) {
            e.invalid("spec.controller", controller, "must be a domain-prefixed path (such as \"acme.io/foo\")");
        }
        JsonNode params = ic.path("spec").get("parameters");
        if (params != null && params.isObject()) {
            if (text(params, "kind").isEmpty()) e.required("spec.parameters.kind", "");
            if (text(params, "name").isEmpty()) e.required("spec.parameters.name", "");
            String scope = text(params, "scope");
            if (!scope.equals("Cluster") && !scope.equals("Namespace")) e.notSupported("spec.parameters.scope", scope, List.of("Cluster", "Namespace"));
            if (scope.equals("Namespace") && text(params, "namespace").isEmpty()) {
                e.required("spec.parameters.namespace", "`parameters.scope` is set to 'Namespace'");
            }
        }
    }

    static void networkPolicy(Errs e, JsonNode np) {
        JsonNode spec = np.path("spec");
        Meta.labelSelector(e, spec.get("podSelector"), "spec.podSelector");
        for (String dir : new String[] {"ingress", "egress"}) {
            int i = 0;
            for (JsonNode rule : iter(spec.get(dir))) {
                String rp = "spec." + dir + "[" + i++ + "]";
                int j = 0;
                for (JsonNode port : iter(rule.get("ports"))) {
                    String pp = rp + ".ports[" + j++ + "]";
                    String protocol = text(port, "protocol");
                    if (!protocol.isEmpty() && !PodValidation.PROTOCOLS.contains(protocol)) {
                        e.notSupported(pp + ".protocol", protocol, PodValidation.PROTOCOLS);
                    }
                    JsonNode pn = port.get("port");
                    if (pn != null && pn.isNumber()) e.invalidEach(pp + ".port", pn.asLong(), Names.isValidPortNum(pn.asLong()));
                    else if (pn != null && pn.isTextual()) e.invalidEach(pp + ".port", pn.asText(), Names.isValidPortName(pn.asText()));
                    JsonNode end = port.get("endPort");
                    if (end != null && end.isNumber()) {
                        if (pn == null || !pn.isNumber()) e.required(pp + ".port", "must be specified when endPort is specified");
                        else if (end.asLong() < pn.asLong()) e.invalid(pp + ".endPort", end.asLong(), "must be greater than or equal to `port`");
                    }
                }
                int k = 0;
                for (JsonNode peer : iter(rule.get(dir.equals("ingress") ? "from" : "to"))) {
                    String pp = rp + (dir.equals("ingress") ? ".from[" : ".to[") + k++ + "]";
                    int n = 0;
                    if (peer.hasNonNull("podSelector")) {
                        n++;
                        Meta.labelSelector(e, peer.get("podSelector"), pp + ".podSelector");
                    }
                    if (peer.hasNonNull("namespaceSelector")) {
                        n++;
                        Meta.labelSelector(e, peer.get("namespaceSelector"), pp + ".namespaceSelector");
                    }
                    if (peer.hasNonNull("ipBlock")) {
                        if (n > 0) e.forbidden(pp, "may not specify both ipBlock and another peer");
                        n++;
                        String cidr = text(peer.get("ipBlock"), "cidr");
                        if (cidr.isEmpty()) e.required(pp + ".ipBlock.cidr", "");
                        else if (!isCIDR(cidr)) e.invalid(pp + ".ipBlock.cidr", cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
                    }
                    if (n == 0) e.required(pp, "must specify a peer");
                }
            }
        }
        JsonNode types = spec.get("policyTypes");
        if (types != null && types.isArray()) {
            int i = 0;
            for (JsonNode t : types) {
                if (!t.asText().equals("Ingress") && !t.asText().equals("Egress")) {
                    e.notSupported("spec.policyTypes[" + i + "]", t.asText(), List.of("Ingress", "Egress"));
                }
                i++;
            }
            if (types.size() > 2) e.invalid("spec.policyTypes", types, "may not specify more than two policyTypes");
        }
    }

    static boolean isCIDR(String s) {
        int slash = s.indexOf('/');
        if (slash < 0) return false;
        String ip = s.substring(0, slash);
        String bits = s.substring(slash + 1);
        if (!bits.matches("[0-9]{1,3}")) return false;
        int n = Integer.parseInt(bits);
        if (Net.isIPv4(ip)) return n <= 32;
        return Net.isIPv6(ip) && n <= 128;
    }

    static void role(Errs e, JsonNode role, boolean namespaced) {
        int i = 0;
        for (JsonNode rule : iter(role.get("rules"))) {
            String rp = "rules[" + i++ + "]";
            if (rule.path("verbs").size() == 0) e.required(rp + ".verbs", "verbs must contain at least one value");
            JsonNode urls = rule.get("nonResourceURLs");
            if (urls != null && urls.size() > 0) {
                if (namespaced) e.invalid(rp + ".nonResourceURLs", urls, "namespaced rules cannot apply to non-resource URLs");
                if (rule.path("apiGroups").size() > 0 || rule.path("resources").size() > 0 || rule.path("resourceNames").size() > 0) {
                    e.invalid(rp + ".nonResourceURLs", urls, "rules cannot apply to both regular resources and non-resource URLs");
                }
                continue;
            }
            if (rule.path("apiGroups").size() == 0) e.required(rp + ".apiGroups", "resource rules must supply at least one api group");
            if (rule.path("resources").size() == 0) e.required(rp + ".resources", "resource rules must supply at least one resource");
        }
        JsonNode agg = role.get("aggregationRule");
        if (agg != null && agg.isObject()) {
            if (agg.path("clusterRoleSelectors").size() == 0) {
                e.required("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if aggregationRule is non-nil");
            }
            int j = 0;
            for (JsonNode s : iter(agg.get("clusterRoleSelectors"))) Meta.labelSelector(e, s, "aggregationRule.clusterRoleSelectors[" + j++ + "]");
        }
    }

    static void roleBinding(Errs e, JsonNode rb, boolean namespaced) {
        JsonNode ref = rb.path("roleRef");
        String group = text(ref, "apiGroup");
        if (!group.equals(RBAC_GROUP)) e.notSupported("roleRef.apiGroup", group, List.of(RBAC_GROUP));
        String kind = text(ref, "kind");
        if (namespaced) {
            if (!kind.equals("Role") && !kind.equals("ClusterRole")) e.notSupported("roleRef.kind", kind, List.of("Role", "ClusterRole"));
        } else if (!kind.equals("ClusterRole")) {
            e.notSupported("roleRef.kind", kind, List.of("ClusterRole"));
        }
        String name = text(ref, "name");
        if (name.isEmpty()) e.required("roleRef.name", "");
        else e.invalidEach("roleRef.name", name, Names.isPathSegmentName(name));
        int i = 0;
        for (JsonNode s : iter(rb.get("subjects"))) {
            String sp = "subjects[" + i++ + "]";
            String sname = text(s, "name");
            if (sname.isEmpty()) e.required(sp + ".name", "");
            String sgroup = text(s, "apiGroup");
            switch (text(s, "kind")) {
                case "ServiceAccount" -> {
                    if (!sname.isEmpty()) e.invalidEach(sp + ".name", sname, Names.isDNS1123Subdomain(sname));
                    if (!sgroup.isEmpty()) e.notSupported(sp + ".apiGroup", sgroup, List.of(""));
                    if (!namespaced && text(s, "namespace").isEmpty()) e.required(sp + ".namespace", "");
                }
                case "User", "Group" -> {
                    if (!sgroup.equals(RBAC_GROUP)) e.notSupported(sp + ".apiGroup", sgroup, List.of(RBAC_GROUP));
                }
                default -> e.notSupported(sp + ".kind", text(s, "kind"), List.of("ServiceAccount", "User", "Group"));
            }
        }
    }

    static void storageClass(Errs e, JsonNode sc) {
        String provisioner = text(sc, "provisioner");
        if (provisioner.isEmpty()) e.required("provisioner", "");
        else {
            if (provisioner.length() > 63) e.tooLong("provisioner", 63);
            e.invalidEach("provisioner", provisioner, Names.isQualifiedName(provisioner.toLowerCase(java.util.Locale.ROOT)));
        }
        String reclaim = text(sc, "reclaimPolicy");
        if (!reclaim.isEmpty() && !reclaim.equals("Delete") && !reclaim.equals("Retain")) {
            e.notSupported("reclaimPolicy", reclaim, List.of("Delete", "Retain"));
        }
        String binding = text(sc, "volumeBindingMode");
        if (binding.isEmpty()) e.required("volumeBindingMode", "");
        else if (!binding.equals("Immediate") && !binding.equals("WaitForFirstConsumer")) {
            e.notSupported("volumeBindingMode", binding, List.of("Immediate", "WaitForFirstConsumer"));
        }
    }

    static void lease(Errs e, JsonNode lease) {
        JsonNode spec = lease.path("spec");
        JsonNode duration = spec.get("leaseDurationSeconds");
        if (duration != null && duration.isNumber() && duration.asLong() <= 0) {
            e.invalid("spec.leaseDurationSeconds", duration.asLong(), "must be greater than 0");
        }
        JsonNode transitions = spec.get("leaseTransitions");
        if (transitions != null && transitions.isNumber() && transitions.asLong() < 0) {
            e.invalid("spec.leaseTransitions", transitions.asLong(), Meta.NEGATIVE);
        }
    }

    static void endpointSlice(Errs e, JsonNode es) {
        String type = text(es, "addressType");
        List<String> types = List.of("IPv4", "IPv6", "FQDN");
        if (type.isEmpty()) e.required("addressType", "");
        else if (!types.contains(type)) e.notSupported("addressType", type, types);
        JsonNode endpoints = es.get("endpoints");
        if (endpoints != null && endpoints.size() > 1000) e.tooMany("endpoints", endpoints.size(), 1000);
        int i = 0;
        for (JsonNode ep : iter(endpoints)) {
            String ep0 = "endpoints[" + i++ + "]";
            JsonNode addresses = ep.get("addresses");
            if (addresses == null || addresses.isEmpty()) e.required(ep0 + ".addresses", "must contain at least 1 address");
            else if (addresses.size() > 100) e.tooMany(ep0 + ".addresses", addresses.size(), 100);
            int j = 0;
            for (JsonNode a : iter(addresses)) {
                String ap = ep0 + ".addresses[" + j++ + "]";
                String addr = a.asText();
                switch (type) {
                    case "IPv4" -> {
                        if (!Net.isIPv4(addr)) e.invalid(ap, addr, "must be a valid IPv4 address");
                    }
                    case "IPv6" -> {
                        if (!Net.isIPv6(addr)) e.invalid(ap, addr, "must be a valid IPv6 address");
                    }
                    case "FQDN" -> e.invalidEach(ap, addr, Names.isDNS1123Subdomain(addr));
                    default -> { }
                }
            }
            String hostname = text(ep, "hostname");
            if (!hostname.isEmpty()) e.invalidEach(ep0 + ".hostname", hostname, Names.isDNS1123Label(hostname));
        }
        JsonNode ports = es.get("ports");
        if (ports != null && ports.size() > 20000) e.tooMany("ports", ports.size(), 20000);
        Set<String> names = new HashSet<>();
        i = 0;
        for (JsonNode port : iter(ports)) {
            String pp = "ports[" + i++ + "]";
            String name = text(port, "name");
            if (!name.isEmpty()) e.invalidEach(pp + ".name", name, Names.isDNS1123Label(name));
            if (!names.add(name)) e.duplicate(pp + ".name", name);
            String protocol = text(port, "protocol");
            if (!PodValidation.PROTOCOLS.contains(protocol)) e.notSupported(pp + ".protocol", protocol, PodValidation.PROTOCOLS);
        }
    }

    static void eventsEvent(Errs e, JsonNode ev) {
        if (!ev.hasNonNull("eventTime")) e.required("eventTime", "");
        String type = text(ev, "type");
        if (!type.equals("Normal") && !type.equals("Warning")) e.invalid("type", "", "has invalid value: " + type);
        String controller = text(ev, "reportingController");
        e.invalidEach("reportingController", controller, Names.isQualifiedName(controller));
        if (text(ev, "reportingInstance").isEmpty()) e.required("reportingInstance", "");
        if (text(ev, "action").isEmpty()) e.required("action", "");
        if (text(ev, "reason").isEmpty()) e.required("reason", "");
        if (text(ev, "note").length() > 1024) e.tooLong("note", 1024);
    }

    static void crd(Errs e, JsonNode crd) {
        JsonNode spec = crd.path("spec");
        String group = text(spec, "group");
        JsonNode names = spec.path("names");
        String plural = text(names, "plural");
        String name = text(crd.path("metadata"), "name");
        if (!name.equals(plural + "." + group)) e.invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group");
        if (group.isEmpty()) {
            e.required("spec.group", "");
        } else {
            e.invalidEach("spec.group", group, Names.isDNS1123Subdomain(group));
            if (!group.contains(".")) e.invalid("spec.group", group, "should be a domain with at least one dot");
        }
        String scope = text(spec, "scope");
        if (scope.isEmpty()) e.required("spec.scope", "");
        else if (!scope.equals("Cluster") && !scope.equals("Namespaced")) e.notSupported("spec.scope", scope, List.of("Cluster", "Namespaced"));
        JsonNode versions = spec.get("versions");
        int storage = 0;
        boolean served = false;
        Set<String> seen = new HashSet<>();
        int i = 0;
        for (JsonNode v : iter(versions)) {
            String vp = "spec.versions[" + i++ + "]";
            String vname = text(v, "name");
            if (vname.isEmpty()) e.required(vp + ".name", "");
            else {
                e.invalidEach(vp + ".name", vname, Names.isDNS1035Label(vname));
                if (!seen.add(vname)) e.duplicate(vp + ".name", vname);
            }
            if (v.path("storage").asBoolean(false)) storage++;
            served |= v.path("served").asBoolean(false);
        }
        if (versions == null || versions.isEmpty()) {
            e.required("spec.versions", "");
        } else {
            if (storage != 1) e.invalid("spec.versions", new Errs.GoText(versions.toString()), "must have exactly one version marked as storage version");
            if (!served) e.invalid("spec.versions", new Errs.GoText(versions.toString()), "must serve at least one version");
        }
        if (plural.isEmpty()) e.required("spec.names.plural", "");
        else {
            List<String> msgs = Names.isDNS1035Label(plural);
            if (!msgs.isEmpty()) e.invalid("spec.names.plural", plural, String.join(",", msgs));
        }
        String singular = text(names, "singular");
        if (!singular.isEmpty()) {
            List<String> msgs = Names.isDNS1035Label(singular);
            if (!msgs.isEmpty()) e.invalid("spec.names.singular", singular, String.join(",", msgs));
        }
        String kind = text(names, "kind");
        if (kind.isEmpty()) e.required("spec.names.kind", "");
        else {
            List<String> msgs = Names.isDNS1035Label(kind.toLowerCase(java.util.Locale.ROOT));
            if (!msgs.isEmpty()) e.invalid("spec.names.kind", kind, "may have mixed case, but should otherwise match: " + String.join(",", msgs));
        }
        String listKind = text(names, "listKind");
        if (listKind.isEmpty()) e.required("spec.names.listKind", "");
        else {
            List<String> msgs = Names.isDNS1035Label(listKind.toLowerCase(java.util.Locale.ROOT));
            if (!msgs.isEmpty()) e.invalid("spec.names.listKind", listKind, "may have mixed case, but should otherwise match: " + String.join(",", msgs));
            if (listKind.equals(kind)) e.invalid("spec.names.listKind", listKind, "kind and listKind may not be the same");
        }
        int j = 0;
        for (JsonNode sn : iter(names.get("shortNames"))) {
            List<String> msgs = Names.isDNS1035Label(sn.asText());
            if (!msgs.isEmpty()) e.invalid("spec.names.shortNames[" + j + "]", sn.asText(), String.join(",", msgs));
            j++;
        }
        String strategy = text(spec.path("conversion"), "strategy");
        if (!strategy.isEmpty() && !strategy.equals("None") && !strategy.equals("Webhook")) {
            e.notSupported("spec.conversion.strategy", strategy, List.of("None", "Webhook"));
        }
    }
}
