package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.ApiException;
import io.k3j.api.Json;
import io.k3j.apiserver.registry.Meta;
import io.k3j.apiserver.resource.ResourceType;
import io.k3j.controllers.common.Owners;
import io.k3j.controllers.runtime.ApiClient;
import io.k3j.controllers.runtime.Indexers;
import io.k3j.controllers.runtime.SharedInformer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The template history of a DaemonSet or StatefulSet as apps/v1 ControllerRevisions (kube's
 * {@code pkg/controller/history}): one revision per distinct pod template, named {@code <owner>-<hash>}, its
 * {@code data} the strategic-merge patch that restores the template ({@code spec.template} with
 * {@code $patch: replace}), numbered in the order templates were last used, trimmed to
 * {@code spec.revisionHistoryLimit} revisions no pod still runs. {@code kubectl rollout history/undo} read them.
 */
final class ControllerRevisions {
    /** The label on revisions and on pods naming the revision (DaemonSet pods: its hash; StatefulSet pods: its name). */
    static final String HASH_LABEL = "controller-revision-hash";

    /** rand.SafeEncodeString's alphabet: no vowels, no look-alike characters, so hashes never spell words. */
    private static final String ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

    private final ApiClient api;
    private final ResourceType type;
    private final SharedInformer informer;

    /** The revision the owner's template maps to, and the collision count that named it. */
    record Update(ObjectNode revision, int collisionCount) {
    }

    ControllerRevisions(ApiClient api, SharedInformer informer) {
        this.api = api;
        this.type = informer.type();
        this.informer = informer;
        informer.addIndexer(Indexers.CONTROLLER_UID, Indexers.BY_CONTROLLER_UID);
    }

    /** The data a revision of {@code owner} stores: {@code {"spec":{"template":{..., "$patch":"replace"}}}}. */
    static ObjectNode patch(JsonNode owner) {
        ObjectNode template = owner.path("spec").path("template").isObject()
                ? ((ObjectNode) owner.path("spec").path("template")).deepCopy() : Json.object();
        template.put("$patch", "replace");
        ObjectNode data = Json.object();
        data.putObject("spec").set("template", template);
        return data;
    }

    /** The pod template a revision restores. */
    static ObjectNode template(JsonNode revision) {
        JsonNode t = revision.path("data").path("spec").path("template");
        ObjectNode out = t.isObject() ? ((ObjectNode) t).deepCopy() : Json.object();
        out.remove("$patch");
        return out;
    }

    /**
     * history.HashControllerRevision: FNV-32 over the data (keys sorted so equal templates hash equally however
     * they were serialized) and the collision count, printed in decimal and encoded with SafeEncodeString.
     */
    static String hash(JsonNode data, int collisionCount) {
        int h = 0x811c9dc5;
        byte[] bytes = Json.bytes(canonical(data));
        for (byte b : bytes) {
            h *= 0x01000193;
            h ^= b & 0xff;
        }
        if (collisionCount > 0) {
            for (byte b : Integer.toString(collisionCount).getBytes(StandardCharsets.US_ASCII)) {
                h *= 0x01000193;
                h ^= b & 0xff;
            }
        }
        String decimal = Long.toString(Integer.toUnsignedLong(h));
        StringBuilder sb = new StringBuilder(decimal.length());
        for (char c : decimal.toCharArray()) sb.append(ALPHANUMS.charAt(c % ALPHANUMS.length()));
        return sb.toString();
    }

    /**
     * Equal JSON values, whatever the key order or numeric representation a round trip through the API gave them
     * (revision data compared unequal would mint a new revision on every sync).
     */
    static boolean sameJson(JsonNode a, JsonNode b) {
        if (a == null || b == null) return a == b;
        return java.util.Arrays.equals(Json.bytes(canonical(a)), Json.bytes(canonical(b)));
    }

    private static JsonNode canonical(JsonNode n) {
        if (n.isObject()) {
            TreeMap<String, JsonNode> sorted = new TreeMap<>();
            n.properties().forEach(e -> sorted.put(e.getKey(), canonical(e.getValue())));
            ObjectNode o = Json.object();
            sorted.forEach(o::set);
            return o;
        }
        if (n.isArray()) {
            ArrayNode a = Json.array();
            n.forEach(e -> a.add(canonical(e)));
            return a;
        }
        return n;
    }

    /** ControllerRevisionName: the owner's name (cut to leave room) and the hash. */
    static String name(String owner, String hash) {
        String prefix = owner.length() > 223 ? owner.substring(0, 223) : owner;
        return prefix + "-" + hash;
    }

    static long number(JsonNode revision) {
        return revision.path("revision").asLong(0);
    }

    /** The revisions {@code owner} controls, oldest revision number first. */
    List<ObjectNode> owned(JsonNode owner) {
        List<ObjectNode> out = new ArrayList<>(informer.byIndex(Indexers.CONTROLLER_UID, Meta.uid(owner)));
        out.sort(Comparator.comparingLong((ObjectNode r) -> number(r)).thenComparing(r -> Meta.name(r)));
        return out;
    }

    /**
     * Finds or makes the revision of {@code owner}'s current template (kube's getUpdateRevision /
     * constructHistory): an equal revision is reused, renumbered to be the newest when it is not; otherwise a new
     * one is created with the next number. A name taken by a different template raises the collision count
     * (which the caller stores in status.collisionCount) and tries the next name.
     *
     * @param existing {@link #owned} revisions
     */
    Update ensure(ObjectNode owner, String apiVersion, String kind, int collisionCount, List<ObjectNode> existing) {
        ObjectNode data = patch(owner);
        long max = existing.stream().mapToLong(ControllerRevisions::number).max().orElse(0);
        ObjectNode equal = null;
        for (ObjectNode r : existing) {
            if (sameJson(data, r.get("data"))) equal = r;
        }
        if (equal != null) {
            if (number(equal) == max) return new Update(equal, collisionCount);
            ObjectNode renumbered = api.modify(type, Meta.namespace(equal), Meta.name(equal), "", r -> {
                r.put("revision", max + 1);
                return r;
            });
            return new Update(renumbered, collisionCount);
        }
        int collisions = collisionCount;
        for (int attempt = 0; attempt < 100; attempt++) {
            String hash = hash(data, collisions);
            ObjectNode revision = Json.object();
            revision.put("apiVersion", "apps/v1").put("kind", "ControllerRevision");
            ObjectNode meta = revision.putObject("metadata");
            meta.put("name", name(Meta.name(owner), hash)).put("namespace", Meta.namespace(owner));
            ObjectNode labels = meta.putObject("labels");
            owner.path("spec").path("template").path("metadata").path("labels").properties()
                    .forEach(e -> labels.set(e.getKey(), e.getValue()));
            labels.put(HASH_LABEL, hash);
            JsonNode annotations = owner.path("metadata").path("annotations");
            if (annotations.isObject() && !annotations.isEmpty()) meta.set("annotations", annotations.deepCopy());
            meta.putArray("ownerReferences").add(Owners.reference(owner, apiVersion, kind));
            revision.set("data", data);
            revision.put("revision", max + 1);
            try {
                return new Update(api.create(type, Meta.namespace(owner), revision), collisions);
            } catch (ApiException e) {
                if (e.code() != 409) throw e;
                ObjectNode taken = api.find(type, Meta.namespace(owner), name(Meta.name(owner), hash)).orElse(null);
                if (taken != null && Owners.controlledBy(taken, owner) && sameJson(data, taken.get("data"))) {
                    // ours, made by an earlier sync the informer has not shown yet
                    return new Update(taken, collisions);
                }
                collisions++;
            }
        }
        throw ApiException.internal("no free ControllerRevision name for " + kind + " " + Meta.name(owner));
    }

    /**
     * Deletes the oldest revisions beyond {@code limit} that no live pod or status names (kube's
     * cleanupHistory / truncateHistory).
     *
     * @param live names of revisions still in use
     */
    void truncate(List<ObjectNode> revisions, Set<String> live, int limit) {
        List<ObjectNode> old = new ArrayList<>();
        for (ObjectNode r : revisions) {
            if (!live.contains(Meta.name(r))) old.add(r);
        }
        int excess = old.size() - Math.max(limit, 0);
        Iterator<ObjectNode> it = old.iterator();
        while (excess-- > 0 && it.hasNext()) {
            ObjectNode r = it.next();
            api.deleteIfExists(type, Meta.namespace(r), Meta.name(r), Meta.uid(r), null);
        }
    }

    /** The hash label of a revision. */
    static String hashOf(JsonNode revision) {
        return revision.path("metadata").path("labels").path(HASH_LABEL).asText("");
    }

    /** Revision names by hash, for mapping DaemonSet pods (which carry only the hash) to revisions. */
    static Map<String, String> namesByHash(List<ObjectNode> revisions) {
        Map<String, String> out = new java.util.HashMap<>();
        for (ObjectNode r : revisions) out.put(hashOf(r), Meta.name(r));
        return out;
    }
}
