package io.k3j.apiserver.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import io.k3j.apiserver.ControlPlane;
import io.k3j.apiserver.ServerConfig;
import io.k3j.apiserver.pki.CertAndKey;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Throws malformed, oversized and invalid requests at every resource a real in-process server lists in
 * discovery, and checks every answer is the 4xx Kubernetes Status kube-apiserver gives (never a 500), and that
 * the server is still healthy afterwards. Resources are taken from discovery, so new ones are covered without
 * touching this test.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MalformedRequestsTest {
    private static final int LIMIT = ControlPlane.MAX_BODY_BYTES;
    private static final String PROBE = "robust-probe";
    private static final String MISSING_NS = "robust-no-such-namespace";
    private static final Set<String> H2_UPLOADS = Set.of("configmaps/v1", "namespaces/v1", "deployments.apps/v1",
            "customresourcedefinitions.apiextensions.k8s.io/v1", "selfsubjectaccessreviews.authorization.k8s.io/v1");

    private static Path dataDir;
    private static ControlPlane server;
    private static TlsClient client;

    /** Everything that went wrong, reported together so one run shows every bug. */
    private final List<String> failures = new ArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        dataDir = Files.createTempDirectory("k3j-robust-");
        ServerConfig defaults = ServerConfig.defaults(dataDir);
        ServerConfig config = new ServerConfig(dataDir, "127.0.0.1", 0, "", List.of(), null, "0600", null, "",
                defaults.clusterCidr(), defaults.serviceCidr(), defaults.clusterDns(), defaults.clusterDomain(), "", List.of());
        server = ControlPlane.start(config);
        CertAndKey admin = server.pki().adminCredentials();
        client = new TlsClient(server.port(), server.pki().serverCaPem(), admin.certificatePem(), admin.privateKeyPem());
    }

    @AfterAll
    static void stop() throws IOException {
        if (server != null) server.close();
        if (dataDir != null) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    // ------------------------------------------------------------------ discovery

    /** A resource as discovery lists it. */
    record Resource(String group, String version, String plural, String kind, boolean namespaced, Set<String> verbs,
                    Set<String> subresources) {
        String apiVersion() {
            return group.isEmpty() ? version : group + "/" + version;
        }

        String base() {
            return group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version;
        }

        String collection(String namespace) {
            return base() + (namespaced ? "/namespaces/" + namespace : "") + "/" + plural;
        }

        String collection() {
            return collection("default");
        }

        String item(String name) {
            return collection() + "/" + name;
        }

        /** Create-only virtual resources (reviews): nothing is stored, names are not checked. */
        boolean createOnly() {
            return verbs.equals(Set.of("create"));
        }

        @Override
        public String toString() {
            return plural + (group.isEmpty() ? "" : "." + group) + "/" + version;
        }
    }

    static List<Resource> discover() throws IOException {
        List<String> groupVersions = new ArrayList<>();
        for (JsonNode v : client.get("/api").json().get("versions")) groupVersions.add(v.asText());
        for (JsonNode g : client.get("/apis").json().get("groups")) {
            for (JsonNode v : g.get("versions")) groupVersions.add(v.get("groupVersion").asText());
        }
        List<Resource> out = new ArrayList<>();
        for (String gv : groupVersions) {
            String path = gv.contains("/") ? "/apis/" + gv : "/api/" + gv;
            JsonNode list = client.get(path).json();
            Map<String, Set<String>> subs = new LinkedHashMap<>();
            for (JsonNode r : list.get("resources")) {
                String name = r.get("name").asText();
                int slash = name.indexOf('/');
                if (slash > 0) subs.computeIfAbsent(name.substring(0, slash), k -> new HashSet<>()).add(name.substring(slash + 1));
            }
            String group = gv.contains("/") ? gv.substring(0, gv.indexOf('/')) : "";
            String version = gv.substring(gv.indexOf('/') + 1);
            for (JsonNode r : list.get("resources")) {
                String name = r.get("name").asText();
                if (name.contains("/")) continue;
                Set<String> verbs = new HashSet<>();
                for (JsonNode v : r.get("verbs")) verbs.add(v.asText());
                out.add(new Resource(group, version, name, r.get("kind").asText(), r.get("namespaced").asBoolean(), verbs,
                        subs.getOrDefault(name, Set.of())));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ expectations

    /** What a probe must get back: one of {@code codes}, and a Status with the matching reason. */
    record Expect(Set<Integer> codes, boolean requireCauses) {
        static Expect of(int... codes) {
            Set<Integer> s = new HashSet<>();
            for (int c : codes) s.add(c);
            return new Expect(s, false);
        }

        static Expect invalidWithCauses() {
            return new Expect(Set.of(422), true);
        }
    }

    static final Expect BAD_REQUEST = Expect.of(400);
    static final Expect NOT_FOUND = Expect.of(404);
    static final Expect NOT_ALLOWED = Expect.of(405);
    static final Expect ALREADY_EXISTS = Expect.of(409);
    static final Expect TOO_LARGE = Expect.of(413);
    static final Expect UNSUPPORTED = Expect.of(415);
    static final Expect INVALID = Expect.of(422);

    static String reasonFor(int code) {
        return switch (code) {
            case 400 -> "BadRequest";
            case 404 -> "NotFound";
            case 405 -> "MethodNotAllowed";
            case 413 -> "RequestEntityTooLarge";
            case 415 -> "UnsupportedMediaType";
            case 422 -> "Invalid";
            default -> null;
        };
    }

    private TlsClient.Answer probe(String what, Expect expect, String method, String path, String contentType, byte[] body) {
        return probe(HttpClient.Version.HTTP_2, what, expect, method, path, contentType, body);
    }

    private TlsClient.Answer probe(String what, Expect expect, String method, String path, String contentType, String body) {
        return probe(what, expect, method, path, contentType, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    private TlsClient.Answer probe(HttpClient.Version version, String what, Expect expect, String method, String path,
                                   String contentType, byte[] body) {
        String label = what + ": " + method + " " + path + (version == HttpClient.Version.HTTP_1_1 ? " (HTTP/1.1)" : "");
        TlsClient.Answer a;
        try {
            a = client.send(version, method, path, contentType, body);
        } catch (IOException e) {
            failures.add(label + " -> no answer: " + e);
            return null;
        }
        check(label, expect, a);
        return a;
    }

    private void check(String label, Expect expect, TlsClient.Answer a) {
        if (!expect.codes().contains(a.code())) {
            failures.add(label + " -> expected " + expect.codes() + " but got " + a);
            return;
        }
        if (a.code() < 400) return;
        JsonNode status;
        try {
            status = a.json();
        } catch (RuntimeException e) {
            failures.add(label + " -> answer is not a JSON Status: " + a);
            return;
        }
        String reason = Json.text(status, "reason");
        String expectedReason = reasonFor(a.code());
        boolean reasonOk = a.code() == 409 ? reason.equals("AlreadyExists") || reason.equals("Conflict") : reason.equals(expectedReason);
        if (!a.contentType().startsWith("application/json") || !"Status".equals(Json.text(status, "kind"))
                || !"v1".equals(Json.text(status, "apiVersion")) || !"Failure".equals(Json.text(status, "status"))
                || status.path("code").asInt() != a.code() || !reasonOk || Json.text(status, "message").isEmpty()) {
            failures.add(label + " -> not a proper " + a.code() + " " + expectedReason + " Status: " + a);
            return;
        }
        if (expect.requireCauses() && !status.path("details").path("causes").isArray()) {
            failures.add(label + " -> 422 without details.causes: " + a);
        }
    }

    private void assertNoFailures() {
        assertThat(failures).as("requests that did not get the right 4xx Status (%d)", failures.size()).isEmpty();
    }

    // ------------------------------------------------------------------ bodies

    static String obj(Resource r, String metadataJson) {
        return "{\"apiVersion\":\"" + r.apiVersion() + "\",\"kind\":\"" + r.kind() + "\",\"metadata\":" + metadataJson + "}";
    }

    static String named(Resource r, String name) {
        return obj(r, "{\"name\":\"" + name + "\"}");
    }

    static byte[] deeplyNested(String open, String close, int depth) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(depth * (open.length() + close.length()) + 2);
        byte[] o = open.getBytes(StandardCharsets.UTF_8);
        byte[] c = close.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < depth; i++) out.writeBytes(o);
        out.writeBytes("1".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < depth; i++) out.writeBytes(c);
        return out.toByteArray();
    }

    static byte[] concat(String head, byte[] middle, String tail) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(middle);
        out.writeBytes(tail.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /** Minimal valid objects for kinds that need more than a name to be valid. */
    static String validBody(Resource r, String name) {
        String av = r.apiVersion();
        return switch (r.kind()) {
            case "Pod" -> "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + name + "\"},"
                    + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}";
            case "Service" -> "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"" + name + "\"},"
                    + "\"spec\":{\"ports\":[{\"port\":80}]}}";
            case "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet" -> "{\"apiVersion\":\"" + av + "\",\"kind\":\"" + r.kind()
                    + "\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
                    + "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}";
            default -> named(r, name);
        };
    }

    // ------------------------------------------------------------------ the barrage

    @Test
    @Order(1)
    @DisplayName("discovery lists the resources this test walks")
    void discoveryHasResources() throws IOException {
        List<Resource> resources = discover();
        assertThat(resources).extracting(Resource::toString)
                .contains("configmaps/v1", "namespaces/v1", "deployments.apps/v1", "customresourcedefinitions.apiextensions.k8s.io/v1");
    }

    @Test
    @Order(2)
    @DisplayName("malformed bodies on create get 400 BadRequest, wrong media types 415, on every resource")
    void malformedCreates() throws IOException {
        byte[] deepObject = deeplyNested("{\"a\":", "}", 10_000);
        byte[] deepArray = deeplyNested("[", "]", 10_000);
        byte[] deepYaml = deeplyNested("- ", "", 10_000);
        byte[] deepYamlFlow = deeplyNested("[", "]", 10_000);
        for (Resource r : discover()) {
            if (!r.verbs().contains("create")) continue;
            String c = r.collection();
            String json = "application/json";
            probe("truncated JSON", BAD_REQUEST, "POST", c, json, "{\"apiVersion\":\"" + r.apiVersion() + "\",\"kind\":\"" + r.kind() + "\",\"metadata\":{\"na");
            probe("JSON array", BAD_REQUEST, "POST", c, json, "[]");
            probe("JSON array of objects", BAD_REQUEST, "POST", c, json, "[" + named(r, "x") + "]");
            probe("JSON string", BAD_REQUEST, "POST", c, json, "\"just a string\"");
            probe("JSON number", BAD_REQUEST, "POST", c, json, "42");
            probe("JSON null", BAD_REQUEST, "POST", c, json, "null");
            probe("trailing garbage", BAD_REQUEST, "POST", c, json, named(r, "x") + " }{");
            probe("empty body", BAD_REQUEST, "POST", c, json, "");
            probe("whitespace body", BAD_REQUEST, "POST", c, json, "   \n");
            probe("10000-deep object", BAD_REQUEST, "POST", c, json, deepObject);
            probe("10000-deep array", BAD_REQUEST, "POST", c, json, deepArray);
            probe("10000-deep object in a field", BAD_REQUEST, "POST", c, json,
                    concat("{\"apiVersion\":\"" + r.apiVersion() + "\",\"kind\":\"" + r.kind() + "\",\"metadata\":{\"name\":\"deep\"},\"x\":", deepObject, "}"));
            probe("10000-deep YAML block list", BAD_REQUEST, "POST", c, "application/yaml", deepYaml);
            probe("10000-deep YAML flow list", BAD_REQUEST, "POST", c, "application/yaml", deepYamlFlow);
            probe("invalid UTF-8 outside strings", BAD_REQUEST, "POST", c, json,
                    concat("{\"metadata\":{\"name\":\"x\"}, ", new byte[] {(byte) 0xff, (byte) 0xfe}, "}"));
            probe("invalid UTF-8 in a name", Expect.of(400, 422), "POST", c, json,
                    concat("{\"apiVersion\":\"" + r.apiVersion() + "\",\"kind\":\"" + r.kind() + "\",\"metadata\":{\"name\":\"a", new byte[] {(byte) 0xc3, (byte) 0x28}, "\"}}"));
            probe("malformed YAML", BAD_REQUEST, "POST", c, "application/yaml", "metadata: {name: [unclosed\n  x: : :");
            probe("YAML scalar", BAD_REQUEST, "POST", c, "application/yaml", "just text");
            probe("YAML list", BAD_REQUEST, "POST", c, "application/yaml", "- a\n- b\n");
            probe("text/plain body", UNSUPPORTED, "POST", c, "text/plain", named(r, "x"));
            probe("XML body", UNSUPPORTED, "POST", c, "application/xml", "<configmap/>");
            probe("garbage protobuf", BAD_REQUEST, "POST", c, "application/vnd.kubernetes.protobuf", "k8s\0garbage-that-is-not-protobuf");
            // wrong shapes: kube-apiserver's decoder refuses them before anything else looks at the object
            probe("metadata is a string", BAD_REQUEST, "POST", c, json, obj(r, "\"metadata-as-string\""));
            probe("metadata is an array", BAD_REQUEST, "POST", c, json, obj(r, "[]"));
            probe("name is a number", BAD_REQUEST, "POST", c, json, obj(r, "{\"name\":5}"));
            probe("name is an object", BAD_REQUEST, "POST", c, json, obj(r, "{\"name\":{\"a\":1}}"));
            probe("labels is an array", BAD_REQUEST, "POST", c, json, obj(r, "{\"name\":\"shape\",\"labels\":[\"a\"]}"));
            probe("label value is an object", BAD_REQUEST, "POST", c, json, obj(r, "{\"name\":\"shape\",\"labels\":{\"a\":{\"b\":1}}}"));
            probe("annotation value is a number", BAD_REQUEST, "POST", c, json, obj(r, "{\"name\":\"shape\",\"annotations\":{\"a\":1}}"));
            probe("finalizers is a string", BAD_REQUEST, "POST", c, json, obj(r, "{\"name\":\"shape\",\"finalizers\":\"a\"}"));
            probe("ownerReferences is an object", BAD_REQUEST, "POST", c, json, obj(r, "{\"name\":\"shape\",\"ownerReferences\":{}}"));
            probe("generation is a string", BAD_REQUEST, "POST", c, json, obj(r, "{\"name\":\"shape\",\"generation\":\"abc\"}"));
            probe("creationTimestamp is not a time", BAD_REQUEST, "POST", c, json, obj(r, "{\"name\":\"shape\",\"creationTimestamp\":\"yesterday\"}"));
            probe("kind is a number", BAD_REQUEST, "POST", c, json, "{\"apiVersion\":\"" + r.apiVersion() + "\",\"kind\":5,\"metadata\":{\"name\":\"x\"}}");
            probe("apiVersion is an array", BAD_REQUEST, "POST", c, json, "{\"apiVersion\":[\"v1\"],\"kind\":\"" + r.kind() + "\",\"metadata\":{\"name\":\"x\"}}");
            // wrong type information
            probe("unknown apiVersion", BAD_REQUEST, "POST", c, json,
                    "{\"apiVersion\":\"nope.example.com/v9\",\"kind\":\"" + r.kind() + "\",\"metadata\":{\"name\":\"x\"}}");
            probe("unknown kind", BAD_REQUEST, "POST", c, json,
                    "{\"apiVersion\":\"" + r.apiVersion() + "\",\"kind\":\"NoSuchKind\",\"metadata\":{\"name\":\"x\"}}");
            String otherKind = r.kind().equals("Secret") ? "ConfigMap" : "Secret";
            probe("another resource's kind", BAD_REQUEST, "POST", c, json,
                    "{\"apiVersion\":\"v1\",\"kind\":\"" + otherKind + "\",\"metadata\":{\"name\":\"x\"}}");
        }
        assertNoFailures();
    }

    @Test
    @Order(3)
    @DisplayName("invalid objects get 422 Invalid with causes; namespace trouble 400 or 404")
    void invalidCreates() throws IOException {
        for (Resource r : discover()) {
            if (!r.verbs().contains("create") || r.createOnly()) continue;
            String c = r.collection();
            String json = "application/json";
            probe("bad name", Expect.invalidWithCauses(), "POST", c, json, named(r, "Bad/Name%"));
            probe("no name", Expect.invalidWithCauses(), "POST", c, json, obj(r, "{}"));
            probe("bad generateName", Expect.invalidWithCauses(), "POST", c, json, obj(r, "{\"generateName\":\"Bad/Gen%\"}"));
            if (!r.group().equals("rbac.authorization.k8s.io")) {
                // RBAC names are path segments with no length limit; everything else is a DNS name of at most 253
                probe("name too long", Expect.invalidWithCauses(), "POST", c, json, named(r, "a".repeat(300)));
            }
            probe("bad label key", Expect.invalidWithCauses(), "POST", c, json, obj(r, "{\"name\":\"lbl\",\"labels\":{\"-bad key-\":\"v\"}}"));
            probe("bad label value", Expect.invalidWithCauses(), "POST", c, json, obj(r, "{\"name\":\"lbl\",\"labels\":{\"k\":\"bad value!\"}}"));
            probe("resourceVersion on create", Expect.of(400, 422), "POST", c, json, obj(r, "{\"name\":\"rv\",\"resourceVersion\":\"12\"}"));
            if (r.namespaced()) {
                probe("namespace mismatch", BAD_REQUEST, "POST", c, json, obj(r, "{\"name\":\"nsm\",\"namespace\":\"kube-system\"}"));
            }
        }
        assertNoFailures();
    }

    @Test
    @Order(4)
    @DisplayName("bad query parameters on list, watch and get get 400 BadRequest (or 422 for invalid ListOptions)")
    void badQueryParameters() throws IOException {
        for (Resource r : discover()) {
            String c = r.collection();
            if (r.verbs().contains("list")) {
                probe("limit=abc", BAD_REQUEST, "GET", c + "?limit=abc", null, (byte[]) null);
                probe("limit=1e99", BAD_REQUEST, "GET", c + "?limit=99999999999999999999999", null, (byte[]) null);
                probe("resourceVersion=xyz", BAD_REQUEST, "GET", c + "?resourceVersion=xyz", null, (byte[]) null);
                probe("resourceVersion=-1", BAD_REQUEST, "GET", c + "?resourceVersion=-1", null, (byte[]) null);
                probe("labelSelector unclosed set", BAD_REQUEST, "GET", c + "?labelSelector=a%20in%20(b", null, (byte[]) null);
                probe("labelSelector garbage", BAD_REQUEST, "GET", c + "?labelSelector=%21%21%21%3D%3D%3D", null, (byte[]) null);
                probe("labelSelector bad key", BAD_REQUEST, "GET", c + "?labelSelector=-bad-%3Dv", null, (byte[]) null);
                probe("fieldSelector unsupported field", BAD_REQUEST, "GET", c + "?fieldSelector=spec.noSuchField%3Dx", null, (byte[]) null);
                probe("fieldSelector without operator", BAD_REQUEST, "GET", c + "?fieldSelector=metadata.name", null, (byte[]) null);
                probe("continue garbage", BAD_REQUEST, "GET", c + "?limit=1&continue=%25%25not-a-token", null, (byte[]) null);
                probe("timeoutSeconds=abc", BAD_REQUEST, "GET", c + "?timeoutSeconds=abc", null, (byte[]) null);
                probe("resourceVersionMatch bogus", INVALID, "GET", c + "?resourceVersion=1&resourceVersionMatch=Bogus", null, (byte[]) null);
            }
            if (r.verbs().contains("watch")) {
                probe("watch timeoutSeconds=abc", BAD_REQUEST, "GET", c + "?watch=true&timeoutSeconds=abc", null, (byte[]) null);
                probe("watch timeoutSeconds=1.5", BAD_REQUEST, "GET", c + "?watch=true&timeoutSeconds=1.5", null, (byte[]) null);
                probe("watch resourceVersion=xyz", BAD_REQUEST, "GET", c + "?watch=true&resourceVersion=xyz", null, (byte[]) null);
                probe("watch labelSelector garbage", BAD_REQUEST, "GET", c + "?watch=true&labelSelector=a%20in%20(b", null, (byte[]) null);
                probe("watch fieldSelector unsupported", BAD_REQUEST, "GET", c + "?watch=true&fieldSelector=spec.noSuchField%3Dx", null, (byte[]) null);
                probe("legacy watch path with bad timeout", BAD_REQUEST, "GET",
                        r.base() + "/watch" + c.substring(r.base().length()) + "?timeoutSeconds=abc", null, (byte[]) null);
            }
            if (r.verbs().contains("get")) {
                probe("get resourceVersion=xyz", BAD_REQUEST, "GET", r.item("anything") + "?resourceVersion=xyz", null, (byte[]) null);
            }
            if (r.verbs().contains("delete")) {
                probe("delete gracePeriodSeconds=abc", BAD_REQUEST, "DELETE", r.item("anything") + "?gracePeriodSeconds=abc", null, (byte[]) null);
            }
            if (r.verbs().contains("create")) {
                probe("dryRun=Bogus", BAD_REQUEST, "POST", c + "?dryRun=Bogus", "application/json", named(r, "dry"));
                probe("fieldValidation=Bogus", BAD_REQUEST, "POST", c + "?fieldValidation=Bogus", "application/json", named(r, "fv"));
            }
        }
        assertNoFailures();
    }

    @Test
    @Order(5)
    @DisplayName("unknown resources, namespaces, objects and subresources get 404; wrong methods 405")
    void notFoundAndMethods() throws IOException {
        String none = null;
        probe("unknown core resource", NOT_FOUND, "GET", "/api/v1/nosuchthings", null, none);
        probe("unknown namespaced resource", NOT_FOUND, "GET", "/api/v1/namespaces/default/nosuchthings", null, none);
        probe("unknown group", NOT_FOUND, "GET", "/apis/nosuch.example.com/v1/things", null, none);
        probe("unknown group discovery", NOT_FOUND, "GET", "/apis/nosuch.example.com", null, none);
        probe("unknown version", NOT_FOUND, "GET", "/apis/apps/v0/deployments", null, none);
        probe("unknown core version", NOT_FOUND, "GET", "/api/v9", null, none);
        probe("unknown root", NOT_FOUND, "GET", "/nothing/here", null, none);
        probe("too many segments", NOT_FOUND, "GET", "/api/v1/namespaces/default/configmaps/a/b/c/d", null, none);
        for (Resource r : discover()) {
            String c = r.collection();
            if (r.verbs().contains("get")) {
                TlsClient.Answer a = probe("missing object", NOT_FOUND, "GET", r.item("robust-does-not-exist"), null, none);
                if (a != null && a.code() == 404 && !"robust-does-not-exist".equals(a.json().path("details").path("name").asText())) {
                    failures.add("missing object " + r + ": 404 Status without details.name: " + a);
                }
                probe("unknown subresource", NOT_FOUND, "GET", r.item("robust-does-not-exist") + "/nosuchsub", null, none);
                probe("POST on an object", NOT_ALLOWED, "POST", r.item("x"), "application/json", named(r, "x"));
                if (r.namespaced()) {
                    probe("object in a missing namespace", NOT_FOUND, "GET", r.collection(MISSING_NS) + "/x", null, none);
                }
            }
            if (r.verbs().contains("patch")) {
                probe("patch a missing object", NOT_FOUND, "PATCH", r.item("robust-does-not-exist"), "application/merge-patch+json", "{}");
            }
            if (r.verbs().contains("delete")) {
                probe("delete a missing object", NOT_FOUND, "DELETE", r.item("robust-does-not-exist"), null, none);
            }
            probe("PUT on a collection", NOT_ALLOWED, "PUT", c, "application/json", named(r, "x"));
            probe("PATCH on a collection", NOT_ALLOWED, "PATCH", c, "application/merge-patch+json", "{}");
            probe("unknown method", NOT_ALLOWED, "PROPFIND", c, null, none);
            if (!r.verbs().contains("list")) probe("list not served", NOT_ALLOWED, "GET", c, null, none);
            if (!r.verbs().contains("create")) probe("create not served", NOT_ALLOWED, "POST", c, "application/json", named(r, "x"));
            if (!r.verbs().contains("deletecollection")) probe("deletecollection not served", NOT_ALLOWED, "DELETE", c, null, none);
            if (r.verbs().contains("get")) {
                if (!r.verbs().contains("update")) probe("update not served", NOT_ALLOWED, "PUT", r.item("x"), "application/json", named(r, "x"));
                if (!r.verbs().contains("patch")) probe("patch not served", NOT_ALLOWED, "PATCH", r.item("x"), "application/merge-patch+json", "{}");
                if (!r.verbs().contains("delete")) probe("delete not served", NOT_ALLOWED, "DELETE", r.item("x"), null, none);
            } else {
                probe("object of a resource without get", Expect.of(404, 405), "GET", r.item("x"), null, none);
            }
        }
        assertNoFailures();
    }

    @Test
    @Order(6)
    @DisplayName("writes against existing objects: 409 on duplicates and stale versions, 400/415/422 on bad updates and patches")
    void existingObjects() throws IOException {
        String json = "application/json";
        for (Resource r : discover()) {
            if (!r.verbs().contains("create") || r.createOnly()) continue;
            TlsClient.Answer created;
            try {
                created = client.post(r.collection(), validBody(r, PROBE));
            } catch (IOException e) {
                failures.add(r + ": creating the probe object failed: " + e);
                continue;
            }
            if (created.code() >= 500 || (created.code() >= 400 && created.code() != 422)) {
                failures.add(r + ": creating a minimal object -> " + created);
                continue;
            }
            if (created.code() == 422) continue; // needs more than a name; covered by invalidCreates
            ObjectNode current = (ObjectNode) created.json();
            String item = r.item(PROBE);
            probe("create twice", ALREADY_EXISTS, "POST", r.collection(), json, validBody(r, PROBE));
            if (r.namespaced()) {
                probe("create in a missing namespace", NOT_FOUND, "POST", r.collection(MISSING_NS), json, validBody(r, PROBE));
            }
            if (r.verbs().contains("update")) {
                ObjectNode stale = current.deepCopy();
                ((ObjectNode) stale.get("metadata")).put("resourceVersion", "1");
                probe("update with a stale resourceVersion", Expect.of(409), "PUT", item, json, Json.string(stale));
                ObjectNode badRv = current.deepCopy();
                ((ObjectNode) badRv.get("metadata")).put("resourceVersion", "not-a-number");
                probe("update with a garbage resourceVersion", Expect.of(400, 409, 422), "PUT", item, json, Json.string(badRv));
                ObjectNode renamed = current.deepCopy();
                ((ObjectNode) renamed.get("metadata")).put("name", "other-name");
                probe("name mismatch between URL and body", BAD_REQUEST, "PUT", item, json, Json.string(renamed));
                probe("name mismatch on a missing object", BAD_REQUEST, "PUT", r.item("robust-missing"), json, Json.string(renamed));
                if (r.namespaced()) {
                    ObjectNode moved = current.deepCopy();
                    ((ObjectNode) moved.get("metadata")).put("namespace", "kube-system");
                    probe("namespace mismatch between URL and body", BAD_REQUEST, "PUT", item, json, Json.string(moved));
                }
                ObjectNode wrongVersion = current.deepCopy();
                wrongVersion.put("apiVersion", "nope.example.com/v9");
                probe("update with an unknown apiVersion", BAD_REQUEST, "PUT", item, json, Json.string(wrongVersion));
                probe("update with truncated JSON", BAD_REQUEST, "PUT", item, json, Json.string(current).substring(0, 20));
                probe("update with a JSON array", BAD_REQUEST, "PUT", item, json, "[]");
                probe("update with text/plain", UNSUPPORTED, "PUT", item, "text/plain", Json.string(current));
                ObjectNode labelsArray = current.deepCopy();
                ((ObjectNode) labelsArray.get("metadata")).putArray("labels").add(1);
                probe("update with labels as an array", BAD_REQUEST, "PUT", item, json, Json.string(labelsArray));
            }
            if (r.verbs().contains("patch")) {
                patches(r, item);
            }
            if (r.verbs().contains("delete")) {
                probe("delete with a truncated body", BAD_REQUEST, "DELETE", item, json, "{\"gracePeriodSeconds\":");
                probe("delete with an array body", BAD_REQUEST, "DELETE", item, json, "[]");
                probe("delete with a string body", BAD_REQUEST, "DELETE", item, json, "\"now\"");
                probe("delete with gracePeriodSeconds as a string", BAD_REQUEST, "DELETE", item, json, "{\"gracePeriodSeconds\":\"soon\"}");
                probe("delete with a bogus propagationPolicy", INVALID, "DELETE", item + "?propagationPolicy=Bogus", null, (String) null);
                probe("delete with a stale precondition", Expect.of(409), "DELETE", item, json,
                        "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"preconditions\":{\"resourceVersion\":\"1\"}}");
                probe("delete with a wrong uid precondition", Expect.of(409), "DELETE", item, json,
                        "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"preconditions\":{\"uid\":\"not-the-uid\"}}");
                TlsClient.Answer d = client.send("DELETE", item + "?gracePeriodSeconds=0", null, null);
                if (d.code() >= 300) failures.add(r + ": cleaning up the probe object -> " + d);
            }
        }
        assertNoFailures();
    }

    private void patches(Resource r, String item) {
        String merge = "application/merge-patch+json";
        String jsonPatch = "application/json-patch+json";
        String strategic = "application/strategic-merge-patch+json";
        String apply = "application/apply-patch+yaml";
        byte[] deep = deeplyNested("{\"a\":", "}", 10_000);
        for (String type : List.of(merge, jsonPatch, strategic)) {
            probe(type + " garbage", BAD_REQUEST, "PATCH", item, type, "this is not json");
            probe(type + " truncated", BAD_REQUEST, "PATCH", item, type, "{\"metadata\":{\"labels\":");
            probe(type + " empty", BAD_REQUEST, "PATCH", item, type, "");
            probe(type + " 10000 deep", BAD_REQUEST, "PATCH", item, type, deep);
            probe(type + " invalid UTF-8", BAD_REQUEST, "PATCH", item, type, new byte[] {'{', (byte) 0xff, '}'});
        }
        probe("json patch that is an object", BAD_REQUEST, "PATCH", item, jsonPatch, "{\"op\":\"add\"}");
        probe("json patch with an unknown op", INVALID, "PATCH", item, jsonPatch, "[{\"op\":\"bogus\",\"path\":\"/metadata/labels\"}]");
        probe("json patch test that fails", INVALID, "PATCH", item, jsonPatch, "[{\"op\":\"test\",\"path\":\"/metadata/name\",\"value\":\"other\"}]");
        probe("json patch replace of a missing path", INVALID, "PATCH", item, jsonPatch, "[{\"op\":\"replace\",\"path\":\"/no/such/path\",\"value\":1}]");
        probe("json patch with a bad path", INVALID, "PATCH", item, jsonPatch, "[{\"op\":\"add\",\"path\":\"no-slash\",\"value\":1}]");
        // RFC 7386: a patch that is not an object replaces the whole document, which then doesn't decode
        probe("merge patch that is an array", INVALID, "PATCH", item, merge, "[1,2]");
        probe("merge patch making labels an array", Expect.of(400, 422), "PATCH", item, merge, "{\"metadata\":{\"labels\":[\"a\"]}}");
        probe("merge patch making metadata a string", Expect.of(400, 422), "PATCH", item, merge, "{\"metadata\":\"x\"}");
        probe("merge patch with a bad label", Expect.invalidWithCauses(), "PATCH", item, merge, "{\"metadata\":{\"labels\":{\"k\":\"bad value!\"}}}");
        probe("merge patch renaming the object", BAD_REQUEST, "PATCH", item, merge, "{\"metadata\":{\"name\":\"other-name\"}}");
        if (r.namespaced()) {
            probe("merge patch moving the object", BAD_REQUEST, "PATCH", item, merge, "{\"metadata\":{\"namespace\":\"kube-system\"}}");
        }
        probe("strategic patch that is an array", BAD_REQUEST, "PATCH", item, strategic, "[1,2]");
        probe("strategic patch with a bad directive", Expect.of(400, 422), "PATCH", item, strategic, "{\"metadata\":{\"$patch\":\"explode\"}}");
        probe("apply without fieldManager", INVALID, "PATCH", item, apply, named(r, PROBE));
        String fm = item + "?fieldManager=robust";
        probe("apply garbage YAML", BAD_REQUEST, "PATCH", fm, apply, "metadata: {name: [unclosed\n  x: : :");
        probe("apply a YAML list", BAD_REQUEST, "PATCH", fm, apply, "- a\n- b\n");
        probe("apply without apiVersion and kind", BAD_REQUEST, "PATCH", fm, apply, "metadata:\n  name: " + PROBE + "\n");
        probe("apply with a name mismatch", BAD_REQUEST, "PATCH", fm, apply, named(r, "other-name"));
        probe("apply 10000 deep", BAD_REQUEST, "PATCH", fm, apply, deeplyNested("- ", "", 10_000));
        probe("apply with force on a merge patch", INVALID, "PATCH", item + "?force=true", merge, "{}");
        probe("patch as application/json", UNSUPPORTED, "PATCH", item, "application/json", "{}");
        probe("patch as text/plain", UNSUPPORTED, "PATCH", item, "text/plain", "{}");
        probe("patch without a content type", UNSUPPORTED, "PATCH", item, null, "{}");
    }

    @Test
    @Order(7)
    @DisplayName("subresources refuse malformed bodies and wrong methods, and 404 for missing objects")
    void subresources() throws IOException {
        String json = "application/json";
        String none = null;
        for (Resource r : discover()) {
            if (r.subresources().isEmpty()) continue;
            // eviction last: a mistaken success would delete the object the others need
            List<String> subs = r.subresources().stream().sorted(Comparator.comparing(sub -> sub.equals("eviction"))).toList();
            for (String sub : subs) {
                if (sub.equals("finalize")) {
                    probe("finalize of a missing object", NOT_FOUND, "PUT", r.item("robust-does-not-exist") + "/finalize", "application/json",
                            named(r, "robust-does-not-exist"));
                    continue;
                }
                // token, like binding and eviction, is create-only (a GET of it is 405 in kube-apiserver too)
                boolean post = sub.equals("binding") || sub.equals("eviction") || sub.equals("token");
                probe(sub + " of a missing object", NOT_FOUND, post ? "POST" : "GET",
                        r.item("robust-does-not-exist") + "/" + sub, json, sub.equals("token")
                                ? "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\",\"spec\":{}}"
                                : post
                                ? "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"robust-does-not-exist\"},\"target\":{\"name\":\"n\"}}"
                                : null);
            }
            if (!r.verbs().contains("create")) continue;
            TlsClient.Answer created = client.post(r.collection(), validBody(r, PROBE + "-sub"));
            if (created.code() != 201) continue;
            String item = r.item(PROBE + "-sub");
            for (String sub : subs) {
                String path = item + "/" + sub;
                switch (sub) {
                    case "status" -> {
                        probe("status: truncated JSON", BAD_REQUEST, "PUT", path, json, "{\"status\":");
                        probe("status: JSON array", BAD_REQUEST, "PUT", path, json, "[]");
                        probe("status: metadata as a string", BAD_REQUEST, "PUT", path, json, obj(r, "\"x\""));
                        probe("status: name mismatch", BAD_REQUEST, "PUT", path, json, named(r, "other-name"));
                        probe("status: merge patch garbage", BAD_REQUEST, "PATCH", path, "application/merge-patch+json", "nope");
                        probe("status: text/plain", UNSUPPORTED, "PUT", path, "text/plain", named(r, PROBE + "-sub"));
                        probe("status: POST", NOT_ALLOWED, "POST", path, json, named(r, PROBE + "-sub"));
                        probe("status: DELETE", NOT_ALLOWED, "DELETE", path, null, none);
                    }
                    case "scale" -> {
                        probe("scale: JSON array", BAD_REQUEST, "PUT", path, json, "[]");
                        probe("scale: truncated", BAD_REQUEST, "PUT", path, json, "{\"spec\":{\"replicas\":");
                        probe("scale: replicas as a string", BAD_REQUEST, "PUT", path, json,
                                "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"Scale\",\"metadata\":{\"name\":\"" + PROBE + "-sub\"},\"spec\":{\"replicas\":\"abc\"}}");
                        probe("scale: negative replicas", Expect.invalidWithCauses(), "PUT", path, json,
                                "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"Scale\",\"metadata\":{\"name\":\"" + PROBE + "-sub\"},\"spec\":{\"replicas\":-1}}");
                        probe("scale: merge patch garbage", BAD_REQUEST, "PATCH", path, "application/merge-patch+json", "nope");
                        probe("scale: json patch with a failing test", INVALID, "PATCH", path, "application/json-patch+json",
                                "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":99}]");
                        probe("scale: POST", NOT_ALLOWED, "POST", path, json, "{}");
                        probe("scale: DELETE", NOT_ALLOWED, "DELETE", path, null, none);
                    }
                    case "binding", "eviction" -> {
                        probe(sub + ": JSON array", BAD_REQUEST, "POST", path, json, "[]");
                        probe(sub + ": truncated", BAD_REQUEST, "POST", path, json, "{\"target\":");
                        probe(sub + ": string", BAD_REQUEST, "POST", path, json, "\"x\"");
                        probe(sub + ": text/plain", UNSUPPORTED, "POST", path, "text/plain", "{}");
                        probe(sub + ": GET", NOT_ALLOWED, "GET", path, null, none);
                        probe(sub + ": PUT", NOT_ALLOWED, "PUT", path, json, "{}");
                        if (sub.equals("binding")) {
                            probe("binding: no target", Expect.invalidWithCauses(), "POST", path, json,
                                    "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"" + PROBE + "-sub\"}}");
                            probe("binding: target is a string", BAD_REQUEST, "POST", path, json,
                                    "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"" + PROBE + "-sub\"},\"target\":\"n\"}");
                        } else {
                            probe("eviction: deleteOptions is a string", BAD_REQUEST, "POST", path, json,
                                    "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"" + PROBE + "-sub\"},\"deleteOptions\":\"now\"}");
                        }
                    }
                    default -> { }
                }
            }
            client.send("DELETE", item + "?gracePeriodSeconds=0", null, null);
        }
        assertNoFailures();
    }

    @Test
    @Order(8)
    @DisplayName("bodies over 3 MiB get 413 RequestEntityTooLarge over HTTP/1.1 and HTTP/2; huge strings within the limit get 422")
    void oversized() throws IOException {
        byte[] tooBig = concat("{\"metadata\":{\"name\":\"big\"},\"data\":{\"k\":\"", "x".repeat(LIMIT).getBytes(StandardCharsets.UTF_8), "\"}}");
        String hugeAnnotation = "y".repeat(300 * 1024);
        for (Resource r : discover()) {
            if (!r.verbs().contains("create")) continue;
            String c = r.collection();
            if (H2_UPLOADS.contains(r.toString())) {
                // the limit sits in front of routing, so full HTTP/2 uploads to a few resources stand for all
                probe(HttpClient.Version.HTTP_2, "body over the limit", TOO_LARGE, "POST", c, "application/json", tooBig);
            }
            String head = "POST " + c + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + (LIMIT + 1) + "\r\n\r\n";
            check("Content-Length over the limit: POST " + c + " (HTTP/1.1)", TOO_LARGE, client.raw(head, null));
            if (!r.createOnly()) {
                probe("annotation of " + hugeAnnotation.length() + " bytes", Expect.invalidWithCauses(), "POST", c, "application/json",
                        obj(r, "{\"name\":\"huge\",\"annotations\":{\"a\":\"" + hugeAnnotation + "\"}}"));
                probe("label value of 1 MiB", Expect.invalidWithCauses(), "POST", c, "application/json",
                        obj(r, "{\"name\":\"huge\",\"labels\":{\"a\":\"" + "z".repeat(1 << 20) + "\"}}"));
            }
        }
        probe(HttpClient.Version.HTTP_1_1, "body over the limit", TOO_LARGE, "POST", "/api/v1/namespaces/default/configmaps",
                "application/json", tooBig);
        probe(HttpClient.Version.HTTP_1_1, "PUT body over the limit", TOO_LARGE, "PUT", "/api/v1/namespaces/default/configmaps/big",
                "application/json", tooBig);
        probe("PATCH body over the limit", TOO_LARGE, "PATCH", "/api/v1/namespaces/default/configmaps/big",
                "application/merge-patch+json", tooBig);
        String chunkedHead = "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        List<byte[]> chunks = new ArrayList<>();
        for (int i = 0; i < 4; i++) chunks.add(Arrays.copyOfRange(tooBig, i * (tooBig.length / 4), (i + 1) * (tooBig.length / 4)));
        check("chunked body over the limit (HTTP/1.1)", TOO_LARGE, client.raw(chunkedHead, chunks));
        String expectHead = "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " + (LIMIT + 1) + "\r\n\r\n";
        check("Expect: 100-continue over the limit (HTTP/1.1)", TOO_LARGE, client.raw(expectHead, null));
        probe("ConfigMap with 2.9 MiB of data", Expect.invalidWithCauses(), "POST", "/api/v1/namespaces/default/configmaps",
                "application/json", "{\"metadata\":{\"name\":\"huge-data\"},\"data\":{\"k\":\"" + "d".repeat(LIMIT - 100_000) + "\"}}");
        probe("exactly at the limit is not too large", Expect.of(201, 422), "POST", "/api/v1/namespaces/default/configmaps",
                "application/json", concat("{\"metadata\":{\"name\":\"at-limit\"},\"data\":{\"k\":\"",
                        "e".repeat(LIMIT - 60).getBytes(StandardCharsets.UTF_8), "\"}}"));
        assertNoFailures();
    }

    @Test
    @Order(9)
    @DisplayName("nesting under the parser's limit does not overflow the server's stack")
    void deepButParseable() throws IOException {
        byte[] deep = deeplyNested("{\"a\":", "}", 900);
        String c = "/api/v1/namespaces/default/configmaps";
        for (String name : List.of("deep-unknown", "deep-data")) {
            byte[] body = name.equals("deep-unknown")
                    ? concat("{\"metadata\":{\"name\":\"" + name + "\"},\"x\":", deep, "}")
                    : concat("{\"metadata\":{\"name\":\"" + name + "\"},\"data\":", deep, "}");
            probe("900-deep " + name, Expect.of(201, 400, 422), "POST", c, "application/json", body);
        }
        TlsClient.Answer cm = client.post(c, "{\"metadata\":{\"name\":\"deep-target\"}}");
        assertThat(cm.code()).isEqualTo(201);
        String item = c + "/deep-target";
        probe("900-deep merge patch", Expect.of(200, 400, 422), "PATCH", item, "application/merge-patch+json",
                concat("{\"x\":", deep, "}"));
        probe("900-deep strategic patch", Expect.of(200, 400, 422), "PATCH", item, "application/strategic-merge-patch+json",
                concat("{\"x\":", deep, "}"));
        probe("900-deep json patch", Expect.of(200, 400, 422), "PATCH", item, "application/json-patch+json",
                concat("[{\"op\":\"add\",\"path\":\"/x\",\"value\":", deep, "}]"));
        // apply needs a declared field to go deep in (an undeclared one is kube-apiserver's 500 "failed to create
        // typed patch object", kept on purpose in FieldValidator): a CRD's recursive openAPIV3Schema
        probe("450-deep apply of a CRD schema", Expect.of(200, 201, 400, 422), "PATCH",
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/deepapplies.robust.example.com?fieldManager=robust",
                "application/apply-patch+yaml", concat("{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
                        + "\"metadata\":{\"name\":\"deepapplies.robust.example.com\"},\"spec\":{\"group\":\"robust.example.com\",\"scope\":\"Namespaced\","
                        + "\"names\":{\"plural\":\"deepapplies\",\"kind\":\"DeepApply\"},\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
                        + "\"schema\":{\"openAPIV3Schema\":", deeplyNested("{\"type\":\"object\",\"properties\":{\"a\":", "}}", 450), "}}]}}"));
        probe("900-deep CRD schema", Expect.of(201, 400, 422), "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                "application/json", concat("{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
                        + "\"metadata\":{\"name\":\"deeps.robust.example.com\"},\"spec\":{\"group\":\"robust.example.com\",\"scope\":\"Namespaced\","
                        + "\"names\":{\"plural\":\"deeps\",\"kind\":\"Deep\"},\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
                        + "\"schema\":{\"openAPIV3Schema\":", deeplyNested("{\"type\":\"object\",\"properties\":{\"a\":", "}}", 450), "}}]}}"));
        assertNoFailures();
    }

    @Test
    @Order(10)
    @DisplayName("after the barrage the server is ready and serves a normal create and get")
    void stillHealthy() throws IOException {
        TlsClient.Answer ready = client.get("/readyz");
        assertThat(ready.code()).as("readyz: %s", ready).isEqualTo(200);
        TlsClient.Answer created = client.post("/api/v1/namespaces/default/configmaps",
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"after-barrage\"},\"data\":{\"k\":\"v\"}}");
        assertThat(created.code()).as("create: %s", created).isEqualTo(201);
        TlsClient.Answer got = client.get("/api/v1/namespaces/default/configmaps/after-barrage");
        assertThat(got.code()).as("get: %s", got).isEqualTo(200);
        assertThat(got.json().path("data").path("k").asText()).isEqualTo("v");
        TlsClient.Answer h1 = client.send(HttpClient.Version.HTTP_1_1, "GET", "/api/v1/namespaces/default/configmaps/after-barrage", null, null);
        assertThat(h1.code()).isEqualTo(200);
    }
}
