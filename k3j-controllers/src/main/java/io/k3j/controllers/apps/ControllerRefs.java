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
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Adoption and release (kube's ControllerRefManager): a controller claims the objects its selector matches
 * that have no controller, and lets go of those it controls that no longer match.
 */
final class ControllerRefs {
    private ControllerRefs() {
    }

    /**
     * The candidates {@code owner} controls after adopting orphans that match and releasing its own that don't.
     *
     * @param canAdopt asked (once, lazily) before the first adoption: a fresh read that the owner is not being deleted
     */
    static List<ObjectNode> claim(ApiClient api, ResourceType type, ObjectNode owner, String apiVersion, String kind,
                                  LabelSelector selector, List<ObjectNode> candidates, BooleanSupplier canAdopt) {
        String uid = Meta.uid(owner);
        List<ObjectNode> out = new ArrayList<>();
        Boolean adoptable = null;
        for (ObjectNode o : candidates) {
            JsonNode ref = Owners.controllerRef(o);
            boolean matches = selector.matches(Meta.labels(o));
            if (ref != null) {
                if (!ref.path("uid").asText().equals(uid)) continue;
                if (matches) {
                    out.add(o);
                } else if (!Meta.deleting(o)) {
                    release(api, type, o, uid);
                }
                continue;
            }
            if (!matches || Meta.deleting(o) || Meta.deleting(owner)) continue;
            if (adoptable == null) adoptable = canAdopt.getAsBoolean();
            if (!adoptable) continue;
            ObjectNode adopted = adopt(api, type, o, Owners.reference(owner, apiVersion, kind));
            if (adopted != null) out.add(adopted);
        }
        return out;
    }

    private static ObjectNode adopt(ApiClient api, ResourceType type, ObjectNode o, ObjectNode ref) {
        try {
            return api.modify(type, Meta.namespace(o), Meta.name(o), "", cur -> {
                JsonNode current = Owners.controllerRef(cur);
                // adopted by us already (an earlier sync whose write the informer has not shown yet): keep it
                if (Meta.uid(cur).equals(Meta.uid(o)) && current != null && current.path("uid").asText().equals(ref.path("uid").asText())) {
                    return cur;
                }
                if (!Meta.uid(cur).equals(Meta.uid(o)) || current != null) {
                    throw ApiException.conflict(type.group(), type.plural(), Meta.name(o), "claimed by another controller meanwhile");
                }
                Owners.setController(cur, ref);
                return cur;
            });
        } catch (ApiException e) {
            if (e.code() == 404 || e.code() == 409) return null; // gone or taken: not ours
            throw e;
        }
    }

    private static void release(ApiClient api, ResourceType type, ObjectNode o, String ownerUid) {
        try {
            api.modify(type, Meta.namespace(o), Meta.name(o), "", cur -> {
                if (!(cur.path("metadata").get("ownerReferences") instanceof ArrayNode refs)) return cur;
                for (int i = refs.size() - 1; i >= 0; i--) {
                    if (refs.get(i).path("uid").asText().equals(ownerUid)) refs.remove(i);
                }
                if (refs.isEmpty()) Meta.metadata(cur).remove("ownerReferences");
                return cur;
            });
        } catch (ApiException e) {
            if (e.code() != 404) throw e;
        }
    }
}
