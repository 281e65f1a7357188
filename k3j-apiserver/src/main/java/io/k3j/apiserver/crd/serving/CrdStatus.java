package io.k3j.apiserver.crd.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.api.Json;

/** {@code status.conditions} of a CRD, kept as apiextensions' SetCRDCondition does. */
final class CrdStatus {
    private CrdStatus() {}

    /**
     * Sets a condition; lastTransitionTime changes only when the condition's status does.
     *
     * @return whether anything changed
     */
    static boolean setCondition(ObjectNode crd, String type, String status, String reason, String message, String now) {
        ObjectNode st = Json.obj(crd, "status");
        ArrayNode conditions = st.get("conditions") instanceof ArrayNode a ? a : st.putArray("conditions");
        for (JsonNode c : conditions) {
            if (!type.equals(Json.text(c, "type"))) continue;
            ObjectNode o = (ObjectNode) c;
            boolean same = status.equals(Json.text(o, "status")) && reason.equals(Json.text(o, "reason"))
                    && message.equals(Json.text(o, "message"));
            if (same) return false;
            if (!status.equals(Json.text(o, "status"))) o.put("lastTransitionTime", now);
            o.put("status", status);
            o.put("reason", reason);
            o.put("message", message);
            return true;
        }
        ObjectNode c = conditions.addObject();
        c.put("type", type);
        c.put("status", status);
        c.put("lastTransitionTime", now);
        c.put("reason", reason);
        c.put("message", message);
        return true;
    }

    static boolean isTrue(JsonNode crd, String type) {
        JsonNode conditions = Json.at(crd, "status", "conditions");
        if (conditions == null || !conditions.isArray()) return false;
        for (JsonNode c : conditions) {
            if (type.equals(Json.text(c, "type"))) return "True".equals(Json.text(c, "status"));
        }
        return false;
    }
}
