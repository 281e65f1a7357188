package io.k3j.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Test helpers: YAML/JSON literals and a PatchSchema shaped like Pod and Deployment. */
final class PatchTesting {

    private PatchTesting() {}

    static JsonNode yaml(String text) {
        try {
            return Json.YAML.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode json(String text) {
        return Json.parse(text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The patch as JSON bytes, written as YAML for readability (what kubectl sends after converting). */
    static byte[] yamlBytes(String text) {
        return Json.bytes(yaml(text));
    }

    static PatchSchema.FieldMeta merge(String key) {
        return new PatchSchema.FieldMeta("merge", key, "map", key == null ? List.of() : List.of(key), null,
                PatchSchema.Kind.LIST);
    }

    /**
     * The patch metadata of the core/v1 and apps/v1 fields the tests touch, as the Go struct tags declare it.
     * Deployment pod templates ({@code spec.template.spec}) resolve like a Pod's {@code spec}. The {@code merging*}
     * fields mirror the fixtures of apimachinery's strategicpatch tests.
     */
    static final PatchSchema WORKLOADS = new PatchSchema() {
        private final Map<String, FieldMeta> fields = new HashMap<>();

        {
            for (String c : List.of("spec.containers", "spec.initContainers")) {
                fields.put(c, merge("name"));
                fields.put(c + ".ports", merge("containerPort"));
                fields.put(c + ".env", merge("name"));
                fields.put(c + ".volumeMounts", merge("mountPath"));
            }
            fields.put("spec.volumes", new FieldMeta("merge,retainKeys", "name", "map", List.of("name"), null, Kind.LIST));
            fields.put("spec.strategy", new FieldMeta("retainKeys", null, null, List.of(), null, Kind.OBJECT));
            fields.put("metadata.finalizers", merge(null));
            fields.put("metadata.labels", new FieldMeta(null, null, null, List.of(), null, Kind.MAP));
            fields.put("metadata.annotations", new FieldMeta(null, null, null, List.of(), null, Kind.MAP));
            fields.put("metadata.ownerReferences", merge("uid"));
            fields.put("mergingList", merge("name"));
            fields.put("mergingIntList", merge(null));
            fields.put("replacingMap", new FieldMeta("replace", null, null, List.of(), null, Kind.OBJECT));
        }

        @Override
        public FieldMeta field(List<String> path) {
            List<String> p = path.size() >= 2 && path.get(0).equals("spec") && path.get(1).equals("template")
                    ? path.subList(2, path.size()) : path;
            return fields.getOrDefault(String.join(".", p), UNKNOWN);
        }
    };
}
