package io.k3j.controllers.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The arithmetic and bookkeeping of kube's deployment util: hashes, surge and unavailability, annotations, conditions. */
final class Rollouts {
    static final String HASH_LABEL = "pod-template-hash";
    static final String REVISION = "deployment.kubernetes.io/revision";
    static final String REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
    static final String DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
    static final String MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
    /** Deployment annotations that are not copied to its ReplicaSets (kube's annotationsToSkip). */
    static final List<String> SKIPPED_ANNOTATIONS = List.of("kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY,
            DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to");

    /** k8s.io/apimachinery/pkg/util/rand's alphabet: no vowels (no words), no 0/1/3 (look like letters). */
    private static final String SAFE = "bcdfghjkmnpqrstvwxz2456789";

    private Rollouts() {
    }

    /**
     * The pod-template-hash: FNV-32a over the template (rendered canonically, keys sorted, since Go's
     * spew-printed struct cannot be reproduced byte for byte) and, after a name collision, the collision
     * count as 8 little-endian bytes; the decimal value's digits mapped through the safe alphabet.
     */
    static String templateHash(JsonNode template, int collisionCount, boolean hasCollisionCount) {
        int h = 0x811c9dc5;
        for (byte b : canonical(withoutHash(template)).getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x01000193;
        }
        if (hasCollisionCount) {
            byte[] cc = new byte[8];
            cc[0] = (byte) collisionCount;
            cc[1] = (byte) (collisionCount >>> 8);
            cc[2] = (byte) (collisionCount >>> 16);
            cc[3] = (byte) (collisionCount >>> 24);
            for (byte b : cc) {
                h ^= b & 0xff;
                h *= 0x01000193;
            }
        }
        String digits = Long.toString(Integer.toUnsignedLong(h));
        StringBuilder out = new StringBuilder(digits.length());
        for (char c : digits.toCharArray()) out.append(SAFE.charAt(c % SAFE.length()));
        return out.toString();
    }

    private static String canonical(JsonNode n) {
        if (n.isObject()) {
            TreeMap<String, JsonNode> sorted = new TreeMap<>();
            n.properties().forEach(e -> sorted.put(e.getKey(), e.getValue()));
            StringBuilder sb = new StringBuilder("{");
            for (Map.Entry<String, JsonNode> e : sorted.entrySet()) {
                if (sb.length() > 1) sb.append(',');
                sb.append(Json.string(Json.NODES.textNode(e.getKey()))).append(':').append(canonical(e.getValue()));
            }
            return sb.append('}').toString();
        }
        if (n.isArray()) {
            StringBuilder sb = new StringBuilder("[");
            for (JsonNode c : n) {
                if (sb.length() > 1) sb.append(',');
                sb.append(canonical(c));
            }
            return sb.append(']').toString();
        }
        return Json.string(n);
    }

    /** A copy of a pod template without the pod-template-hash label (and without an emptied labels map). */
    static ObjectNode withoutHash(JsonNode template) {
        ObjectNode t = template != null && template.isObject() ? ((ObjectNode) template).deepCopy() : Json.object();
        JsonNode meta = t.get("metadata");
        if (meta instanceof ObjectNode m) {
            if (m.get("labels") instanceof ObjectNode l) {
                l.remove(HASH_LABEL);
                if (l.isEmpty()) m.remove("labels");
            }
            if (m.get("annotations") instanceof ObjectNode a && a.isEmpty()) m.remove("annotations");
            if (m.isEmpty()) t.remove("metadata");
        }
        return t;
    }

    /** Equal as JSON documents: numbers compare by value whether held as int or long (Jackson's nodes don't). */
    static boolean sameJson(JsonNode a, JsonNode b) {
        if (a == null || b == null) return a == b;
        return Json.parse(Json.bytes(a)).equals(Json.parse(Json.bytes(b)));
    }

    /** kube's EqualIgnoreHash: the templates are the same apart from the pod-template-hash label. */
    static boolean sameTemplate(JsonNode a, JsonNode b) {
        return withoutHash(a).equals(withoutHash(b));
    }

    /** An int-or-percent against {@code total}: percentages round up or down as asked. */
    static int resolve(JsonNode v, int total, boolean roundUp, int dflt) {
        if (v == null || v.isNull() || v.isMissingNode()) return dflt;
        if (v.isNumber()) return v.asInt();
        String s = v.asText().trim();
        if (s.endsWith("%")) {
            double pct = Double.parseDouble(s.substring(0, s.length() - 1));
            double x = pct * total / 100.0;
            return (int) (roundUp ? Math.ceil(x) : Math.floor(x));
        }
        return Integer.parseInt(s);
    }

    static boolean rolling(JsonNode d) {
        return !d.path("spec").path("strategy").path("type").asText("RollingUpdate").equals("Recreate");
    }

    static int replicas(JsonNode obj) {
        return obj.path("spec").path("replicas").asInt(1);
    }

    /** {surge, unavailable}: never both zero (kube's ResolveFenceposts). */
    private static int[] fenceposts(JsonNode d) {
        JsonNode ru = d.path("spec").path("strategy").path("rollingUpdate");
        int desired = replicas(d);
        int surge = resolve(ru.get("maxSurge"), desired, true, (int) Math.ceil(desired * 0.25));
        int unavailable = resolve(ru.get("maxUnavailable"), desired, false, (int) Math.floor(desired * 0.25));
        if (surge == 0 && unavailable == 0) unavailable = 1;
        return new int[] {surge, unavailable};
    }

    static int maxSurge(JsonNode d) {
        return rolling(d) ? fenceposts(d)[0] : 0;
    }

    static int maxUnavailable(JsonNode d) {
        int desired = replicas(d);
        if (!rolling(d) || desired == 0) return 0;
        return Math.min(fenceposts(d)[1], desired);
    }

    static long revision(JsonNode rs) {
        String r = rs.path("metadata").path("annotations").path(REVISION).asText("");
        try {
            return r.isEmpty() ? 0 : Long.parseLong(r);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static String annotation(JsonNode obj, String name) {
        JsonNode v = obj.path("metadata").path("annotations").get(name);
        return v == null ? null : v.asText();
    }

    static ObjectNode annotations(ObjectNode obj) {
        return Json.obj(Json.obj(obj, "metadata"), "annotations");
    }

    /** Sets desired-replicas and max-replicas; true when they changed. */
    static boolean setReplicasAnnotations(ObjectNode rs, int desired, int max) {
        ObjectNode a = annotations(rs);
        boolean changed = !String.valueOf(desired).equals(a.path(DESIRED_REPLICAS).asText(null))
                || !String.valueOf(max).equals(a.path(MAX_REPLICAS).asText(null));
        a.put(DESIRED_REPLICAS, String.valueOf(desired));
        a.put(MAX_REPLICAS, String.valueOf(max));
        return changed;
    }

    static boolean replicasAnnotationsNeedUpdate(JsonNode rs, int desired, int max) {
        return !String.valueOf(desired).equals(annotation(rs, DESIRED_REPLICAS)) || !String.valueOf(max).equals(annotation(rs, MAX_REPLICAS));
    }

    // ---- conditions (deploymentutil.NewDeploymentCondition / SetDeploymentCondition) ----

    static JsonNode condition(JsonNode status, String type) {
        for (JsonNode c : status.path("conditions")) {
            if (c.path("type").asText().equals(type)) return c;
        }
        return null;
    }

    static ObjectNode newCondition(String type, String status, String reason, String message, Instant now) {
        ObjectNode c = Json.object();
        String ts = io.k3j.apiserver.registry.Meta.timestamp(now);
        c.put("type", type).put("status", status).put("lastUpdateTime", ts).put("lastTransitionTime", ts).put("reason", reason)
                .put("message", message);
        return c;
    }

    /** Same status and reason: nothing changes; same status: the transition time stays. */
    static void setCondition(ObjectNode status, ObjectNode cond) {
        JsonNode cur = condition(status, cond.path("type").asText());
        if (cur != null && cur.path("status").asText().equals(cond.path("status").asText())
                && cur.path("reason").asText().equals(cond.path("reason").asText())) {
            return;
        }
        if (cur != null && cur.path("status").asText().equals(cond.path("status").asText())) {
            cond.set("lastTransitionTime", cur.get("lastTransitionTime"));
        }
        removeCondition(status, cond.path("type").asText());
        ArrayNode conds = status.get("conditions") instanceof ArrayNode a ? a : status.putArray("conditions");
        conds.add(cond);
    }

    static void removeCondition(ObjectNode status, String type) {
        if (!(status.get("conditions") instanceof ArrayNode conds)) return;
        List<JsonNode> keep = new ArrayList<>();
        for (JsonNode c : conds) if (!c.path("type").asText().equals(type)) keep.add(c);
        conds.removeAll();
        conds.addAll(keep);
    }
}
