package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The discovery documents kubectl and client libraries read to learn what the server serves: legacy
 * ({@code /api}, {@code /apis}, {@code /api/v1}, {@code /apis/<g>}, {@code /apis/<g>/<v>}) and aggregated
 * ({@code apidiscovery.k8s.io/v2} and {@code v2beta1}, one request for everything). Rebuilt when the
 * registry changes (CRDs), served from bytes with an ETag.
 */
final class Discovery {
    /** One rendered document. */
    record Doc(byte[] body, String etag) {}

    private record Built(Doc apiVersions, Doc groupList, Map<String, Doc> groups, Map<String, Doc> resourceLists,
                         Doc aggregatedCore, Doc aggregatedApis, Doc aggregatedCoreBeta, Doc aggregatedApisBeta) {}

    private final ResourceRegistry registry;
    private final String serverAddress;
    private volatile Built built;

    Discovery(ResourceRegistry registry, String serverAddress) {
        this.registry = registry;
        this.serverAddress = serverAddress;
        rebuild();
        registry.onChange(r -> rebuild());
    }

    Doc apiVersions() {
        return built.apiVersions;
    }

    Doc groupList() {
        return built.groupList;
    }

    Optional<Doc> group(String group) {
        return Optional.ofNullable(built.groups.get(group));
    }

    /** {@code ""/v1} for the core group. */
    Optional<Doc> resourceList(String group, String version) {
        return Optional.ofNullable(built.resourceLists.get(group + "/" + version));
    }

    Doc aggregated(boolean core, boolean v2) {
        Built b = built;
        return core ? (v2 ? b.aggregatedCore : b.aggregatedCoreBeta) : (v2 ? b.aggregatedApis : b.aggregatedApisBeta);
    }

    private synchronized void rebuild() {
        Map<String, Map<String, List<ResourceType>>> byGroup = new LinkedHashMap<>();
        for (ResourceType t : registry.all()) {
            byGroup.computeIfAbsent(t.group(), g -> new LinkedHashMap<>()).computeIfAbsent(t.version(), v -> new ArrayList<>()).add(t);
        }
        ObjectNode versions = Json.object();
        versions.put("kind", "APIVersions");
        versions.putArray("versions").add("v1");
        ObjectNode addr = versions.putArray("serverAddressByClientCIDRs").addObject();
        addr.put("clientCIDR", "0.0.0.0/0");
        addr.put("serverAddress", serverAddress);

        ObjectNode groupList = Json.object();
        groupList.put("kind", "APIGroupList");
        groupList.put("apiVersion", "v1");
        ArrayNode groups = groupList.putArray("groups");
        Map<String, Doc> groupDocs = new LinkedHashMap<>();
        Map<String, Doc> lists = new LinkedHashMap<>();
        ArrayNode aggApis = Json.array();
        ArrayNode aggCore = Json.array();
        for (var g : byGroup.entrySet()) {
            String group = g.getKey();
            for (var v : g.getValue().entrySet()) lists.put(group + "/" + v.getKey(), doc(resourceList(group, v.getKey(), v.getValue())));
            ObjectNode aggGroup = Json.object();
            ObjectNode meta = aggGroup.putObject("metadata");
            if (!group.isEmpty()) meta.put("name", group);
            meta.putNull("creationTimestamp");
            ArrayNode aggVersions = aggGroup.putArray("versions");
            for (var v : g.getValue().entrySet()) aggVersions.add(aggregatedVersion(v.getKey(), v.getValue()));
            if (group.isEmpty()) {
                aggCore.add(aggGroup);
                continue;
            }
            aggApis.add(aggGroup);
            ObjectNode apiGroup = apiGroup(group, new ArrayList<>(g.getValue().keySet()));
            groups.add(apiGroup.deepCopy());
            ObjectNode withKind = Json.object();
            withKind.put("kind", "APIGroup");
            withKind.put("apiVersion", "v1");
            withKind.setAll(apiGroup);
            groupDocs.put(group, doc(withKind));
        }
        built = new Built(doc(versions), doc(groupList), groupDocs, lists,
                doc(aggregatedList(aggCore, "v2")), doc(aggregatedList(aggApis, "v2")),
                doc(aggregatedList(aggCore, "v2beta1")), doc(aggregatedList(aggApis, "v2beta1")));
    }

    private static ObjectNode apiGroup(String group, List<String> versions) {
        ObjectNode g = Json.object();
        g.put("name", group);
        ArrayNode vs = g.putArray("versions");
        for (String v : versions) {
            ObjectNode vn = vs.addObject();
            vn.put("groupVersion", group + "/" + v);
            vn.put("version", v);
        }
        ObjectNode pref = g.putObject("preferredVersion");
        pref.put("groupVersion", group + "/" + versions.get(0));
        pref.put("version", versions.get(0));
        return g;
    }

    private static ObjectNode resourceList(String group, String version, List<ResourceType> types) {
        ObjectNode list = Json.object();
        list.put("kind", "APIResourceList");
        list.put("apiVersion", "v1");
        list.put("groupVersion", group.isEmpty() ? version : group + "/" + version);
        ArrayNode resources = list.putArray("resources");
        for (ResourceType t : types) {
            ObjectNode r = resources.addObject();
            r.put("name", t.plural());
            r.put("singularName", t.singular());
            r.put("namespaced", t.namespaced());
            r.put("kind", t.kind());
            ArrayNode verbs = r.putArray("verbs");
            t.verbs().forEach(verbs::add);
            if (!t.shortNames().isEmpty()) {
                ArrayNode sn = r.putArray("shortNames");
                t.shortNames().forEach(sn::add);
            }
            if (!t.categories().isEmpty()) {
                ArrayNode cats = r.putArray("categories");
                t.categories().forEach(cats::add);
            }
            r.put("storageVersionHash", storageVersionHash(t));
            for (String sub : sorted(t)) {
                Subresource s = Subresource.of(t, sub);
                ObjectNode sr = resources.addObject();
                sr.put("name", t.plural() + "/" + sub);
                sr.put("singularName", "");
                sr.put("namespaced", t.namespaced());
                if (s.group() != null) {
                    sr.put("group", s.group());
                    sr.put("version", s.version());
                }
                sr.put("kind", s.kind());
                ArrayNode sv = sr.putArray("verbs");
                s.verbs().forEach(sv::add);
            }
        }
        return list;
    }

    private static ObjectNode aggregatedVersion(String version, List<ResourceType> types) {
        ObjectNode v = Json.object();
        v.put("version", version);
        ArrayNode resources = v.putArray("resources");
        for (ResourceType t : types) {
            ObjectNode r = resources.addObject();
            r.put("resource", t.plural());
            ObjectNode kind = r.putObject("responseKind");
            kind.put("group", t.group());
            kind.put("version", t.version());
            kind.put("kind", t.kind());
            r.put("scope", t.namespaced() ? "Namespaced" : "Cluster");
            r.put("singularResource", t.singular());
            ArrayNode verbs = r.putArray("verbs");
            t.verbs().forEach(verbs::add);
            if (!t.shortNames().isEmpty()) {
                ArrayNode sn = r.putArray("shortNames");
                t.shortNames().forEach(sn::add);
            }
            if (!t.categories().isEmpty()) {
                ArrayNode cats = r.putArray("categories");
                t.categories().forEach(cats::add);
            }
            if (!t.subresources().isEmpty()) {
                ArrayNode subs = r.putArray("subresources");
                for (String sub : sorted(t)) {
                    Subresource s = Subresource.of(t, sub);
                    ObjectNode sn = subs.addObject();
                    sn.put("subresource", sub);
                    ObjectNode rk = sn.putObject("responseKind");
                    rk.put("group", s.group() == null ? t.group() : s.group());
                    rk.put("version", s.version() == null ? t.version() : s.version());
                    rk.put("kind", s.kind());
                    ArrayNode sv = sn.putArray("verbs");
                    s.verbs().forEach(sv::add);
                }
            }
        }
        v.put("freshness", "Current");
        return v;
    }

    private static List<String> sorted(ResourceType t) {
        return t.subresources().stream().sorted().toList();
    }

    private static ObjectNode aggregatedList(ArrayNode items, String version) {
        ObjectNode list = Json.object();
        list.put("kind", "APIGroupDiscoveryList");
        list.put("apiVersion", "apidiscovery.k8s.io/" + version);
        list.putObject("metadata");
        list.set("items", items.deepCopy());
        return list;
    }

    /** Stable per group/resource/version, as the real hash is (clients only compare it). */
    private static String storageVersionHash(ResourceType t) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((t.group() + "/" + t.version() + "/" + t.kind()).getBytes());
            return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(d, 8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Doc doc(ObjectNode node) {
        byte[] body = Json.bytes(node);
        try {
            byte[] d = MessageDigest.getInstance("SHA-512").digest(body);
            return new Doc(body, "\"" + HexFormat.of().formatHex(d, 0, 32).toUpperCase() + "\"");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** How discovery describes a subresource: its kind (and group/version when it differs) and verbs. */
    record Subresource(String group, String version, String kind, List<String> verbs) {
        static Subresource of(ResourceType t, String sub) {
            return switch (sub) {
                case "status" -> new Subresource(null, null, t.kind(), List.of("get", "patch", "update"));
                case "scale" -> new Subresource("autoscaling", "v1", "Scale", List.of("get", "patch", "update"));
                case "binding" -> new Subresource(null, null, "Binding", List.of("create"));
                case "eviction" -> new Subresource("policy", "v1", "Eviction", List.of("create"));
                case "log" -> new Subresource(null, null, "Pod", List.of("get"));
                case "exec" -> new Subresource(null, null, "PodExecOptions", List.of("create", "get"));
                case "attach" -> new Subresource(null, null, "PodAttachOptions", List.of("create", "get"));
                case "portforward" -> new Subresource(null, null, "PodPortForwardOptions", List.of("create", "get"));
                case "proxy" -> new Subresource(null, null, t.kind() + "ProxyOptions",
                        List.of("create", "delete", "get", "patch", "update"));
                case "finalize" -> new Subresource(null, null, t.kind(), List.of("update"));
                case "token" -> new Subresource("authentication.k8s.io", "v1", "TokenRequest", List.of("create"));
                case "ephemeralcontainers" -> new Subresource(null, null, t.kind(), List.of("get", "patch", "update"));
                default -> new Subresource(null, null, t.kind(), List.of("get"));
            };
        }
    }
}
