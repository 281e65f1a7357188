package io.k3j.apiserver.auth.rbac;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.apiserver.auth.AuthorizationResult;
import io.k3j.apiserver.auth.Authorizer;
import io.k3j.apiserver.auth.RequestAttributes;
import io.k3j.apiserver.auth.UserInfo;
import io.k3j.apiserver.registry.ObjectStore;
import io.k3j.apiserver.resource.ResourceRegistry;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.apiserver.system.Informer;
import io.k3j.apiserver.watch.CachedObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * kube-apiserver's RBAC authorizer: allows what a Role or ClusterRole bound to the user (by name, group or
 * service account) allows, and has no opinion otherwise (it never denies). Policy objects are followed in-process
 * from the watch cache; any change rebuilds an immutable {@link RbacIndex} on a background thread, so a decision
 * is a few map lookups and never waits on I/O. ClusterRole {@code aggregationRule} is not evaluated: an aggregated
 * role grants only the rules stored in it.
 */
public final class RbacAuthorizer implements Authorizer, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RbacAuthorizer.class.getName());
    private static final String GROUP = "rbac.authorization.k8s.io";

    private final ObjectStore objects;
    private final ResourceType roles;
    private final ResourceType clusterRoles;
    private final ResourceType roleBindings;
    private final ResourceType clusterRoleBindings;
    private final Semaphore changed = new Semaphore(0);
    private final List<Informer> informers = new ArrayList<>();
    private volatile RbacIndex index = RbacIndex.EMPTY;
    private volatile boolean closed;
    private Thread rebuilder;

    private RbacAuthorizer(ObjectStore objects, ResourceRegistry registry) {
        this.objects = objects;
        this.roles = registry.find(GROUP, "v1", "roles").orElseThrow();
        this.clusterRoles = registry.find(GROUP, "v1", "clusterroles").orElseThrow();
        this.roleBindings = registry.find(GROUP, "v1", "rolebindings").orElseThrow();
        this.clusterRoleBindings = registry.find(GROUP, "v1", "clusterrolebindings").orElseThrow();
    }

    /**
     * Builds the index from what the cache holds now and follows every later change.
     *
     * @throws java.util.NoSuchElementException if the registry lacks the RBAC resources
     */
    public static RbacAuthorizer start(ObjectStore objects, ResourceRegistry registry) {
        RbacAuthorizer a = new RbacAuthorizer(objects, registry);
        a.rebuild();
        a.rebuilder = Thread.ofVirtual().name("rbac-index").start(a::rebuildOnChange);
        for (ResourceType t : List.of(a.roles, a.clusterRoles, a.roleBindings, a.clusterRoleBindings)) {
            a.informers.add(new Informer(objects, t, e -> a.changed.release()).start());
        }
        return a;
    }

    @Override
    public AuthorizationResult authorize(UserInfo user, RequestAttributes attributes) {
        return index.allows(user, attributes) ? AuthorizationResult.allow("") : AuthorizationResult.noOpinion("");
    }

    /**
     * The rules that apply to the user in the namespace (only cluster-wide ones when it is empty), as
     * SelfSubjectRulesReview reports them.
     */
    public List<PolicyRule> rulesFor(UserInfo user, String namespace) {
        return index.rulesFor(user, namespace);
    }

    private void rebuildOnChange() {
        while (!closed) {
            try {
                changed.acquire();
                // a burst of events (the initial listing, a kubectl apply of many roles) costs one rebuild
                changed.drainPermits();
                rebuild();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "rebuilding the RBAC index: " + e.getMessage());
            }
        }
    }

    private void rebuild() {
        Map<String, JsonNode> r = new HashMap<>();
        for (JsonNode o : list(roles)) {
            JsonNode meta = o.path("metadata");
            r.put(Json.text(meta, "namespace") + "/" + Json.text(meta, "name"), o);
        }
        Map<String, JsonNode> cr = new HashMap<>();
        for (JsonNode o : list(clusterRoles)) cr.put(Json.text(o.path("metadata"), "name"), o);
        index = RbacIndex.build(r, cr, list(roleBindings), list(clusterRoleBindings));
    }

    private List<JsonNode> list(ResourceType type) {
        List<JsonNode> out = new ArrayList<>();
        for (CachedObject c : objects.cache().cache(type.storagePrefix()).list(type.storagePrefix()).objects()) out.add(c.object());
        return out;
    }

    @Override
    public void close() {
        closed = true;
        informers.forEach(Informer::close);
        if (rebuilder != null) rebuilder.interrupt();
    }
}
