package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.select.LabelSelector;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.common.Owners;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Indexers;
import io.k3j.controllers.runtime.SharedInformer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * kube's ControllerRefManager.ClaimPods for the DaemonSet and StatefulSet controllers: pods without a controller
 * that match the workload's selector are adopted (a workload deleted with {@code --cascade=orphan} and created
 * again takes its pods back); pods it controls that no longer match are released.
 */
final class OrphanAdoption {
    private OrphanAdoption() {
    }

    /**
     * The pods {@code owner} controls after adopting and releasing.
     *
     * @param member further condition for adoption (a StatefulSet takes only pods named like its own)
     */
    static List<ObjectNode> claim(ApiClient api, SharedInformer pods, ObjectNode owner, String apiVersion, String kind,
                                  Predicate<ObjectNode> member) {
        ResourceType type = pods.type();
        LabelSelector selector = Owners.selector(owner);
        String uid = Meta.uid(owner);
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode p : pods.byIndex(Indexers.CONTROLLER_UID, uid)) {
            if (selector.isEmpty() || selector.matches(p.path("metadata").path("labels")) || Meta.deleting(p)) {
                out.add(p);
                continue;
            }
            try {
                api.modify(type, Meta.namespace(p), Meta.name(p), "", cur -> {
                    JsonNode refs = cur.path("metadata").path("ownerReferences");
                    if (refs instanceof ArrayNode a) {
                        for (int i = a.size() - 1; i >= 0; i--) if (a.get(i).path("uid").asText().equals(uid)) a.remove(i);
                    }
                    return cur;
                });
            } catch (ApiException e) {
                if (e.code() != 404) throw e;
            }
        }
        if (Meta.deleting(owner) || selector.isEmpty() || selector.matchesNothing()) return out;
        for (ObjectNode p : pods.list(Meta.namespace(owner))) {
            if (Owners.controllerRef(p) != null || Meta.deleting(p) || !selector.matches(p.path("metadata").path("labels")) || !member.test(p)) continue;
            try {
                out.add(api.modify(type, Meta.namespace(p), Meta.name(p), "", cur -> {
                    if (Owners.controllerRef(cur) != null) throw ApiException.conflict("", "pods", Meta.name(p), "adopted by another controller");
                    Owners.setController(cur, Owners.reference(owner, apiVersion, kind));
                    return cur;
                }));
            } catch (ApiException e) {
                if (e.code() != 404 && e.code() != 409) throw e;
            }
        }
        return out;
    }
}
