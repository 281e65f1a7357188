package io.k3j.apiserver.endpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.auth.AuthorizationResult;
import io.k3j.apiserver.auth.Authenticator;
import io.k3j.apiserver.auth.Authorizer;
import io.k3j.apiserver.auth.Credentials;
import io.k3j.apiserver.auth.Impersonation;
import io.k3j.apiserver.auth.RequestAttributes;
import io.k3j.apiserver.auth.UserInfo;
import io.k3j.apiserver.auth.rbac.PolicyRule;
import io.k3j.apiserver.auth.serviceaccount.AuthenticationEndpoints;
import io.k3j.apiserver.http.ApiRequest;
import io.k3j.apiserver.http.HttpExchange;
import io.k3j.apiserver.http.HttpHandler;
import io.k3j.apiserver.openapi.OpenApiService;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;

/**
 * The API server's request pipeline: authenticate, route (health, version, discovery, OpenAPI, metrics,
 * resources), authorize, serve; every {@link ApiException} becomes a Status answer and anything unexpected a
 * logged 500 (a bug, never the client's fault).
 */
public final class ApiHandler implements HttpHandler {
    private static final System.Logger LOG = System.getLogger(ApiHandler.class.getName());

    private final ResourceRegistry registry;
    private final Authenticator authenticator;
    private final Authorizer authorizer;
    private final Discovery discovery;
    private final ResourceHandler resources;
    private final OpenApiService openApi;
    private final Metrics metrics;
    private final VersionInfo version;
    private final BooleanSupplier ready;
    private final BiFunction<UserInfo, String, List<PolicyRule>> rules;
    private final AuthenticationEndpoints authentication;
    private final java.time.Clock clock;
    private final io.k3j.apiserver.proxy.KubeletProxy kubelets;
    private final io.k3j.apiserver.metrics.MetricsApi metricsApi;

    /**
     * @param rules the rules that apply to a user in a namespace (empty: cluster-wide only), for
     *              SelfSubjectRulesReview
     * @param authentication TokenRequest and TokenReview, or null to serve neither
     */
    public ApiHandler(ResourceRegistry registry, ObjectStore objects, Authenticator authenticator, Authorizer authorizer,
                      BiFunction<UserInfo, String, List<PolicyRule>> rules, Patcher patcher, TableConverter tables,
                      OpenApiService openApi, Metrics metrics, VersionInfo version,
                      String serverAddress, BooleanSupplier ready, AuthenticationEndpoints authentication) {
        this(registry, objects, authenticator, authorizer, rules, patcher, tables, openApi, metrics, version, serverAddress, ready,
                authentication, null);
    }

    /** @param kubelets serves pods/log, exec, attach, portforward and nodes/proxy; null answers them 404 */
    public ApiHandler(ResourceRegistry registry, ObjectStore objects, Authenticator authenticator, Authorizer authorizer,
                      BiFunction<UserInfo, String, List<PolicyRule>> rules, Patcher patcher, TableConverter tables,
                      OpenApiService openApi, Metrics metrics, VersionInfo version,
                      String serverAddress, BooleanSupplier ready, AuthenticationEndpoints authentication,
                      io.k3j.apiserver.proxy.KubeletProxy kubelets) {
        this(registry, objects, authenticator, authorizer, rules, patcher, tables, openApi, metrics, version, serverAddress, ready,
                authentication, kubelets, null);
    }

    /** @param metricsApi serves metrics.k8s.io (registered in {@code registry}); null answers it 404 */
    public ApiHandler(ResourceRegistry registry, ObjectStore objects, Authenticator authenticator, Authorizer authorizer,
                      BiFunction<UserInfo, String, List<PolicyRule>> rules, Patcher patcher, TableConverter tables,
                      OpenApiService openApi, Metrics metrics, VersionInfo version,
                      String serverAddress, BooleanSupplier ready, AuthenticationEndpoints authentication,
                      io.k3j.apiserver.proxy.KubeletProxy kubelets, io.k3j.apiserver.metrics.MetricsApi metricsApi) {
        this.kubelets = kubelets;
        this.metricsApi = metricsApi;
        this.registry = registry;
        this.authenticator = authenticator;
        this.authorizer = authorizer;
        this.discovery = new Discovery(registry, serverAddress);
        this.resources = new ResourceHandler(registry, objects, patcher, tables, new WatchServer(objects, tables), openApi);
        this.openApi = openApi;
        this.metrics = metrics;
        this.version = version;
        this.ready = ready;
        this.rules = rules;
        this.authentication = authentication;
        this.clock = objects.clock();
    }

    @Override
    public void handle(ApiRequest req, HttpExchange ex) {
        long start = System.nanoTime();
        String verb = req.method();
        String resource = "";
        int code = 200;
        try {
            Optional<UserInfo> user = authenticator.authenticate(Credentials.fromAuthorizationHeader(req.header("Authorization"), req.peerCertificates()));
            if (user.isEmpty()) throw ApiException.unauthorized();
            UserInfo actor = Impersonation.resolve(user.get(), req.headers(), authorizer);
            Route route = route(req);
            verb = route.verb;
            resource = route.target == null ? "" : route.target.type().plural();
            AuthorizationResult d = authorizer.authorize(actor, route.attributes);
            if (!d.allowed()) throw Impersonation.forbidden(actor, route.attributes, d.reason());
            route.serve(req, ex, actor);
            code = ex.responded() ? 200 : 0;
        } catch (ApiException e) {
            code = e.code();
            if (!ex.responded()) ResourceHandler.send(ex, e.code(), e.toStatus(), req);
        } catch (Exception e) {
            code = 500;
            LOG.log(System.Logger.Level.ERROR, "error serving " + req, e);
            if (!ex.responded()) {
                ResourceHandler.send(ex, 500, ApiException.internal(String.valueOf(e.getMessage())).toStatus(), req);
            }
        } finally {
            metrics.observe(verb, resource, code, System.nanoTime() - start);
        }
    }

    // ------------------------------------------------------------------ routing

    @FunctionalInterface
    private interface Action {
        void run(ApiRequest req, HttpExchange ex, UserInfo user) throws Exception;
    }

    private record Route(String verb, RequestAttributes attributes, ResourceHandler.Target target, Action action) {
        void serve(ApiRequest req, HttpExchange ex, UserInfo user) throws Exception {
            action.run(req, ex, user);
        }
    }

    private Route nonResource(ApiRequest req, Action action) {
        String verb = switch (req.method()) {
            case "GET", "HEAD" -> "get";
            case "POST" -> "post";
            case "PUT" -> "put";
            case "PATCH" -> "patch";
            case "DELETE" -> "delete";
            default -> req.method().toLowerCase();
        };
        return new Route(verb, RequestAttributes.nonResource(verb, req.path()), null, action);
    }

    private Route route(ApiRequest req) {
        String path = req.path();
        if (path.length() > 1 && path.endsWith("/")) path = path.substring(0, path.length() - 1);
        switch (path) {
            case "/version", "/version/" -> {
                return nonResource(req, (r, ex, u) -> sendJson(ex, 200, version.toJson()));
            }
            case "/healthz", "/livez" -> {
                return nonResource(req, (r, ex, u) -> health(r, ex, true));
            }
            case "/readyz" -> {
                return nonResource(req, (r, ex, u) -> health(r, ex, ready.getAsBoolean()));
            }
            case "/metrics" -> {
                return nonResource(req, (r, ex, u) -> ex.send(200, "text/plain; version=0.0.4; charset=utf-8",
                        metrics.render().getBytes(StandardCharsets.UTF_8), Map.of()));
            }
            case "/api" -> {
                return nonResource(req, (r, ex, u) -> discovery(r, ex, true));
            }
            case "/apis" -> {
                return nonResource(req, (r, ex, u) -> discovery(r, ex, false));
            }
            default -> { }
        }
        if (path.startsWith("/healthz/") || path.startsWith("/livez/") || path.startsWith("/readyz/")) {
            return nonResource(req, (r, ex, u) -> health(r, ex, true));
        }
        if (path.startsWith("/openapi/")) {
            final String p = path;
            return nonResource(req, (r, ex, u) -> {
                OpenApiService.Response a = openApi.get(p, r.param("hash"), r.header("Accept"), r.header("If-None-Match"));
                ex.send(a.status(), a.contentType(), a.body(), a.headers());
            });
        }
        String[] parts = path.substring(1).split("/");
        String group;
        String version;
        int i;
        if (parts[0].equals("api")) {
            if (parts.length < 2) throw notFound();
            group = "";
            version = parts[1];
            i = 2;
        } else if (parts[0].equals("apis")) {
            if (parts.length == 2) {
                String g = parts[1];
                return nonResource(req, (r, ex, u) -> sendDoc(r, ex, discovery.group(g).orElseThrow(ApiHandler::notFound)));
            }
            if (parts.length < 3) throw notFound();
            group = parts[1];
            version = parts[2];
            i = 3;
        } else {
            throw notFound();
        }
        if (parts.length == i) {
            String g = group;
            return nonResource(req, (r, ex, u) -> sendDoc(r, ex, discovery.resourceList(g, version).orElseThrow(ApiHandler::notFound)));
        }
        boolean legacyWatch = false;
        if (parts[i].equals("watch")) {
            legacyWatch = true;
            i++;
        }
        String namespace = null;
        String plural;
        String name = null;
        String sub = null;
        String proxyTail = null;
        // .../{name}/proxy/{path...}: the rest of the path belongs to the proxied request
        int proxyAt = parts.length > i && parts[i].equals("namespaces") ? i + 4 : i + 2;
        if (parts.length > proxyAt + 1 && parts[proxyAt].equals("proxy")) {
            int cut = 0;
            for (int k = 0; k <= proxyAt; k++) cut += parts[k].length() + 1;
            proxyTail = path.substring(cut);
            parts = java.util.Arrays.copyOf(parts, proxyAt + 1);
        }
        int rest = parts.length - i;
        if (rest >= 1 && parts[i].equals("namespaces") && rest >= 3) {
            namespace = parts[i + 1];
            plural = parts[i + 2];
            if (rest >= 4) name = parts[i + 3];
            if (rest >= 5) sub = parts[i + 4];
            if (rest > 5) throw notFound();
            // /api/v1/namespaces/{name}/{status|finalize}: a namespace's subresource, not a collection
            if (group.isEmpty() && rest == 3 && registry.find(group, version, plural).map(t -> !t.namespaced()).orElse(true)
                    && (plural.equals("status") || plural.equals("finalize"))) {
                name = namespace;
                sub = plural;
                plural = "namespaces";
                namespace = null;
            }
        } else {
            plural = parts[i];
            if (rest >= 2) name = parts[i + 1];
            if (rest >= 3) sub = parts[i + 2];
            if (rest > 3) throw notFound();
        }
        ResourceType type = registry.find(group, version, plural).orElseThrow(ApiHandler::notFound);
        if (type.namespaced() && namespace == null && name != null) throw notFound();
        if (!type.namespaced() && namespace != null) throw notFound();
        if (type.namespaced() && namespace != null) validatePathSegment("namespace", namespace);
        if (name != null) validatePathSegment("name", name);
        if (sub != null && !type.has(sub)) throw notFound();
        if (proxyTail != null && !"proxy".equals(sub)) throw notFound();
        if (name != null && io.k3j.apiserver.proxy.KubeletProxy.handles(type, sub)) {
            if (kubelets == null) throw notFound();
            String verb = io.k3j.apiserver.proxy.KubeletProxy.verb(sub, req.method());
            RequestAttributes attrs = RequestAttributes.resource(verb, group, plural, sub, namespace, name, path);
            String ns = namespace, nm = name, sr = sub, tail = proxyTail == null ? "" : proxyTail;
            return new Route(verb, attrs, new ResourceHandler.Target(type, namespace, name, sub),
                    (r, ex, u) -> kubelets.serve(r, ex, type, ns, nm, sr, tail));
        }
        String verb = verb(req, name, legacyWatch);
        ResourceHandler.Target target = new ResourceHandler.Target(type, namespace, name, sub);
        RequestAttributes attrs = RequestAttributes.resource(verb, group, plural, sub, namespace, name, path);
        if (io.k3j.apiserver.metrics.MetricsApi.serves(type)) {
            if (metricsApi == null || sub != null || legacyWatch) throw notFound();
            String ns = namespace, nm = name;
            return new Route(verb, attrs, target, (r, ex, u) -> metricsApi.serve(r, ex, type, ns, nm));
        }
        if (type.group().equals("authorization.k8s.io") && type.kind().equals("SelfSubjectAccessReview")) {
            return new Route(verb, attrs, target, (r, ex, u) -> selfSubjectAccessReview(r, ex, u, type));
        }
        if (type.group().equals("authorization.k8s.io") && type.kind().equals("SelfSubjectRulesReview")) {
            return new Route(verb, attrs, target, (r, ex, u) -> selfSubjectRulesReview(r, ex, u, type));
        }
        Route authn = authenticationRoute(verb, attrs, target);
        if (authn != null) return authn;
        if (legacyWatch) {
            String nm = name;
            return new Route(verb, attrs, target, (r, ex, u) -> {
                if (!r.method().equals("GET")) throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
                var opts = ResourceHandler.listOptions(r);
                if (nm != null) {
                    opts = new io.k3j.apiserver.registry.ListOptions(opts.labels(),
                            io.k3j.api.select.FieldSelector.parse("metadata.name=" + nm), opts.resourceVersion(),
                            opts.resourceVersionMatch(), 0, "");
                }
                resources.watch(r, ex, type, target.namespace(), opts);
            });
        }
        return new Route(verb, attrs, target, (r, ex, u) -> resources.handle(r, ex, target, u));
    }

    /** What serviceaccounts/token takes and answers; not a resource of its own, so not in the registry. */
    private static final ResourceType TOKEN_REQUEST = new ResourceType("authentication.k8s.io", "v1", "TokenRequest", "tokenrequests",
            "tokenrequest", true, List.of(), List.of(), List.of("create"), java.util.Set.of(), false, false);

    /** The computed authentication.k8s.io endpoints: TokenRequest, TokenReview, SelfSubjectReview; null for others. */
    private Route authenticationRoute(String verb, RequestAttributes attrs, ResourceHandler.Target t) {
        ResourceType type = t.type();
        String kind = type.group().equals("authentication.k8s.io") ? type.kind()
                : type.group().isEmpty() && type.kind().equals("ServiceAccount") && "token".equals(t.subresource()) ? "TokenRequest" : null;
        if (kind == null || (authentication == null && !kind.equals("SelfSubjectReview"))) return null;
        return new Route(verb, attrs, t, (r, ex, u) -> {
            if (!r.method().equals("POST")) throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
            ObjectNode body = ResourceHandler.decodeBody(r);
            ObjectStore.checkTypeMeta(kind.equals("TokenRequest") ? TOKEN_REQUEST : type, body);
            ResourceHandler.writeOptions(r, u);
            ObjectNode out = switch (kind) {
                case "TokenRequest" -> authentication.tokenRequest(t.namespace(), t.name(), body);
                case "TokenReview" -> authentication.tokenReview(body);
                case "SelfSubjectReview" -> AuthenticationEndpoints.selfSubjectReview(body, u, clock.instant());
                default -> throw notFound();
            };
            ResourceHandler.send(ex, 201, out, r);
        });
    }

    private static void validatePathSegment(String what, String value) {
        if (value.isEmpty() || value.equals(".") || value.equals("..") || value.contains("%")) {
            throw ApiException.badRequest("invalid " + what + " \"" + value + "\"");
        }
    }

    private static String verb(ApiRequest req, String name, boolean legacyWatch) {
        boolean watch = legacyWatch || ResourceHandler.isTrue(req.param("watch"));
        return switch (req.method()) {
            case "GET", "HEAD" -> watch ? "watch" : name == null ? "list" : "get";
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> name == null ? "deletecollection" : "delete";
            default -> req.method().toLowerCase();
        };
    }

    private static ApiException notFound() {
        return ApiException.notFoundPath("the server could not find the requested resource");
    }

    // ------------------------------------------------------------------ non-resource endpoints

    private void health(ApiRequest req, HttpExchange ex, boolean ok) {
        String body = ok ? "ok" : "[-]informer-sync failed: not ready\nreadyz check failed";
        if (req.param("verbose") != null) {
            body = ok ? "[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]informer-sync ok\n" + req.path().substring(1) + " check passed\n" : body;
        }
        ex.send(ok ? 200 : 500, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8), Map.of("X-Content-Type-Options", "nosniff"));
    }

    private void discovery(ApiRequest req, HttpExchange ex, boolean core) {
        Negotiation.Output out = Negotiation.forDiscovery(req.header("Accept"));
        switch (out) {
            case DISCOVERY_V2, DISCOVERY_V2BETA1 -> {
                boolean v2 = out == Negotiation.Output.DISCOVERY_V2;
                Discovery.Doc doc = discovery.aggregated(core, v2);
                String contentType = "application/json;g=apidiscovery.k8s.io;v=" + (v2 ? "v2" : "v2beta1") + ";as=APIGroupDiscoveryList";
                if (doc.etag().equals(req.header("If-None-Match"))) {
                    ex.send(304, contentType, new byte[0], Map.of("ETag", doc.etag(), "Vary", "Accept"));
                } else {
                    ex.send(200, contentType, doc.body(), Map.of("ETag", doc.etag(), "Vary", "Accept"));
                }
            }
            default -> sendDoc(req, ex, core ? discovery.apiVersions() : discovery.groupList());
        }
    }

    private static void sendDoc(ApiRequest req, HttpExchange ex, Discovery.Doc doc) {
        ex.send(200, "application/json", doc.body(), Map.of("ETag", doc.etag(), "Vary", "Accept"));
    }

    private static void sendJson(HttpExchange ex, int code, ObjectNode obj) {
        ex.send(code, "application/json", Json.bytes(obj), Map.of());
    }

    private void selfSubjectAccessReview(ApiRequest req, HttpExchange ex, UserInfo user, ResourceType type) {
        if (!req.method().equals("POST")) throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
        ObjectNode review = ResourceHandler.decodeBody(req);
        ObjectStore.checkTypeMeta(type, review);
        ResourceHandler.writeOptions(req, user);
        JsonNode spec = review.get("spec");
        JsonNode ra = spec == null ? null : spec.get("resourceAttributes");
        JsonNode na = spec == null ? null : spec.get("nonResourceAttributes");
        if ((ra == null) == (na == null)) {
            throw ApiException.invalid("authorization.k8s.io", "SelfSubjectAccessReview", "", java.util.List.of(ApiException.Cause.invalid(
                    "spec.resourceAttributes", "", "exactly one of nonResourceAttributes or resourceAttributes must be specified")));
        }
        RequestAttributes attrs = ra != null
                ? RequestAttributes.resource(Json.text(ra, "verb"), Json.text(ra, "group"), Json.text(ra, "resource"),
                        Json.text(ra, "subresource"), Json.text(ra, "namespace"), Json.text(ra, "name"), "")
                : RequestAttributes.nonResource(Json.text(na, "verb"), Json.text(na, "path"));
        AuthorizationResult d = authorizer.authorize(user, attrs);
        review.put("apiVersion", "authorization.k8s.io/v1");
        review.put("kind", "SelfSubjectAccessReview");
        ObjectNode meta = Json.obj(review, "metadata");
        meta.putNull("creationTimestamp");
        ObjectNode status = review.putObject("status");
        status.put("allowed", d.allowed());
        if (d.reason() != null && !d.reason().isEmpty()) status.put("reason", d.reason());
        sendJson(ex, 201, review);
    }

    /**
     * What the user may do in {@code spec.namespace} (kube-apiserver's registry/authorization/selfsubjectrulesreview):
     * each rule with resources becomes a resource rule, each with nonResourceURLs a non-resource rule.
     */
    private void selfSubjectRulesReview(ApiRequest req, HttpExchange ex, UserInfo user, ResourceType type) {
        if (!req.method().equals("POST")) throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
        ObjectNode review = ResourceHandler.decodeBody(req);
        ObjectStore.checkTypeMeta(type, review);
        ResourceHandler.writeOptions(req, user);
        String namespace = Json.text(review.path("spec"), "namespace");
        review.put("apiVersion", "authorization.k8s.io/v1");
        review.put("kind", "SelfSubjectRulesReview");
        ObjectNode meta = Json.obj(review, "metadata");
        meta.putNull("creationTimestamp");
        ObjectNode status = review.putObject("status");
        ArrayNode resourceRules = status.putArray("resourceRules");
        ArrayNode nonResourceRules = status.putArray("nonResourceRules");
        for (PolicyRule rule : rules.apply(user, namespace)) {
            if (!rule.resources().isEmpty()) {
                resourceRules.add(new PolicyRule(rule.verbs(), rule.apiGroups(), rule.resources(), rule.resourceNames(), List.of()).toJson());
            }
            if (!rule.nonResourceURLs().isEmpty()) {
                nonResourceRules.add(new PolicyRule(rule.verbs(), List.of(), List.of(), List.of(), rule.nonResourceURLs()).toJson());
            }
        }
        status.put("incomplete", false);
        sendJson(ex, 201, review);
    }
}
