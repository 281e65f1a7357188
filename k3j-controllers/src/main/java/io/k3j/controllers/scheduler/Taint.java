package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.List;

/** A node taint ({@code core/v1 Taint}); {@code value} is "" when absent, as Go prints it. */
public record Taint(String key, String value, String effect) {

    public static final String NO_SCHEDULE = "NoSchedule";
    public static final String PREFER_NO_SCHEDULE = "PreferNoSchedule";
    public static final String NO_EXECUTE = "NoExecute";

    static List<Taint> parseAll(JsonNode taints) {
        List<Taint> out = new ArrayList<>();
        if (taints != null && taints.isArray()) {
            for (JsonNode t : taints) out.add(new Taint(Json.text(t, "key"), Json.text(t, "value"), Json.text(t, "effect")));
        }
        return out;
    }

    /** Whether the scheduler must keep pods that don't tolerate this taint off the node. */
    public boolean blocksScheduling() {
        return NO_SCHEDULE.equals(effect) || NO_EXECUTE.equals(effect);
    }
}
