package io.k3j.controllers.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.util.ArrayList;
import java.util.List;

/** A pod toleration ({@code core/v1 Toleration}); empty strings stand for absent fields. */
public record Toleration(String key, String operator, String value, String effect) {

    static List<Toleration> parseAll(JsonNode tolerations) {
        List<Toleration> out = new ArrayList<>();
        if (tolerations != null && tolerations.isArray()) {
            for (JsonNode t : tolerations) {
                out.add(new Toleration(Json.text(t, "key"), Json.text(t, "operator"), Json.text(t, "value"), Json.text(t, "effect")));
            }
        }
        return out;
    }

    /**
     * {@code Toleration.ToleratesTaint}: an empty effect matches every effect, an empty key with
     * {@code Exists} matches every key, {@code Exists} ignores the value, {@code Equal} (or no operator)
     * compares it.
     */
    public boolean tolerates(Taint taint) {
        if (!effect.isEmpty() && !effect.equals(taint.effect())) return false;
        if (!key.isEmpty() && !key.equals(taint.key())) return false;
        return switch (operator) {
            case "Exists" -> true;
            case "", "Equal" -> value.equals(taint.value());
            default -> false;
        };
    }

    /** Whether any of {@code tolerations} tolerates {@code taint}. */
    static boolean anyTolerates(List<Toleration> tolerations, Taint taint) {
        for (Toleration t : tolerations) if (t.tolerates(taint)) return true;
        return false;
    }
}
