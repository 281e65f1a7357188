package io.k3j.controllers.volume;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import io.k3j.api.Quantity;
import io.k3j.apiserver.registry.Meta;
import java.math.BigDecimal;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What PersistentVolumes and their claims say about each other (kube's pkg/volume/util and pv_controller helpers). */
final class Volumes {
    static final String BIND_COMPLETED = "pv.kubernetes.io/bind-completed";
    static final String BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller";
    static final String PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
    static final String SELECTED_NODE = "volume.kubernetes.io/selected-node";
    static final String STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
    static final String BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner";
    static final String BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class";
    static final String DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class";
    static final String BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class";
    static final String WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer";

    private Volumes() {
    }

    static String annotation(JsonNode obj, String key) {
        return Json.text(obj.path("metadata").path("annotations"), key);
    }

    static String phase(JsonNode obj) {
        return Json.text(obj.get("status"), "phase");
    }

    /** The class of a volume or claim: {@code spec.storageClassName}, else the beta annotation, else "". */
    static String storageClass(JsonNode obj) {
        JsonNode cls = obj.path("spec").get("storageClassName");
        if (cls != null && cls.isTextual()) return cls.asText();
        return annotation(obj, BETA_STORAGE_CLASS);
    }

    /** True when the claim names no class at all (nil, not ""), so a default class may still be given to it. */
    static boolean classUnset(JsonNode claim) {
        JsonNode cls = claim.path("spec").get("storageClassName");
        return (cls == null || cls.isNull()) && !claim.path("metadata").path("annotations").has(BETA_STORAGE_CLASS);
    }

    static String volumeMode(JsonNode obj) {
        String m = Json.text(obj.get("spec"), "volumeMode");
        return m.isEmpty() ? "Filesystem" : m;
    }

    static Set<String> accessModes(JsonNode obj) {
        Set<String> out = new HashSet<>();
        for (JsonNode m : obj.path("spec").path("accessModes")) out.add(m.asText());
        return out;
    }

    /** The claim's storage request, zero when it has none. */
    static BigDecimal requested(JsonNode claim) {
        return quantity(claim.path("spec").path("resources").path("requests").path("storage"));
    }

    static BigDecimal capacity(JsonNode volume) {
        return quantity(volume.path("spec").path("capacity").path("storage"));
    }

    private static BigDecimal quantity(JsonNode q) {
        if (!q.isTextual() || q.asText().isEmpty()) return BigDecimal.ZERO;
        try {
            return Quantity.parse(q.asText()).value();
        } catch (RuntimeException e) {
            return BigDecimal.ZERO;
        }
    }

    /** Whether {@code volume.spec.claimRef} names {@code claim} (a reference without uid is a pre-binding that matches). */
    static boolean boundTo(JsonNode volume, JsonNode claim) {
        JsonNode ref = volume.path("spec").get("claimRef");
        if (ref == null || ref.isNull()) return false;
        if (!Json.text(ref, "name").equals(Meta.name(claim)) || !Json.text(ref, "namespace").equals(Meta.namespace(claim))) return false;
        String uid = Json.text(ref, "uid");
        return uid.isEmpty() || uid.equals(Meta.uid(claim));
    }

    static JsonNode claimRef(JsonNode volume) {
        JsonNode ref = volume.path("spec").get("claimRef");
        return ref == null || ref.isNull() ? null : ref;
    }

    /** Whether {@code labels} (a node's) satisfy the volume's required node affinity; a volume without one fits every node. */
    static boolean fitsNode(JsonNode volume, String nodeName, Map<String, String> labels) {
        JsonNode terms = volume.path("spec").path("nodeAffinity").path("required").path("nodeSelectorTerms");
        if (!terms.isArray() || terms.isEmpty()) return true;
        for (JsonNode term : terms) {
            if (termMatches(term, nodeName, labels)) return true;
        }
        return false;
    }

    private static boolean termMatches(JsonNode term, String nodeName, Map<String, String> labels) {
        JsonNode exprs = term.path("matchExpressions");
        JsonNode fields = term.path("matchFields");
        if (exprs.isEmpty() && fields.isEmpty()) return false; // an empty term matches nothing, as in kube
        for (JsonNode e : exprs) {
            if (!requirement(e, labels.get(Json.text(e, "key")))) return false;
        }
        for (JsonNode e : fields) {
            if (!Json.text(e, "key").equals("metadata.name") || !requirement(e, nodeName)) return false;
        }
        return true;
    }

    private static boolean requirement(JsonNode e, String value) {
        List<String> values = new java.util.ArrayList<>();
        for (JsonNode v : e.path("values")) values.add(v.asText());
        return switch (Json.text(e, "operator")) {
            case "In" -> value != null && values.contains(value);
            case "NotIn" -> value == null || !values.contains(value);
            case "Exists" -> value != null;
            case "DoesNotExist" -> value == null;
            case "Gt", "Lt" -> {
                if (value == null || values.size() != 1) yield false;
                try {
                    long have = Long.parseLong(value);
                    long want = Long.parseLong(values.get(0));
                    yield Json.text(e, "operator").equals("Gt") ? have > want : have < want;
                } catch (NumberFormatException ex) {
                    yield false;
                }
            }
            default -> false;
        };
    }
}
