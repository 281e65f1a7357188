package io.k3j.api.apply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.k3j.api.patch.PatchSchema;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Hand-written patch metadata for Deployment, Pod and ConfigMap, taken from Kubernetes' OpenAPI v3. */
final class TestSchemas {
    private TestSchemas() {}

    static final PatchSchema KUBE = new Kube();

    private static final class Kube implements PatchSchema, ApplySchema {
        private final Map<String, FieldMeta> fields = new HashMap<>();
        // Non-pointer Go structs (OpenAPI v3 gives them "default": {}) and lists without omitempty.
        private final Set<String> zeroPresent = Set.of("metadata", "spec", "spec.template", "spec.template.metadata",
                "spec.template.spec", "spec.strategy", "spec.template.spec.containers.resources", "spec.containers.resources",
                "spec.template.spec.containers", "spec.containers");

        Kube() {
            object("");
            object("metadata");
            map("metadata.labels");
            map("metadata.annotations");
            fields.put("metadata.finalizers", new FieldMeta("merge", null, "set", List.of(), null, Kind.LIST));
            fields.put("metadata.ownerReferences", new FieldMeta("merge", "uid", "map", List.of("uid"), null, Kind.LIST));
            map("data");
            object("spec");
            fields.put("spec.selector", new FieldMeta(null, null, null, List.of(), "atomic", Kind.OBJECT));
            object("spec.strategy");
            object("spec.strategy.rollingUpdate");
            object("spec.template");
            object("spec.template.metadata");
            map("spec.template.metadata.labels");
            podSpec("spec.template.spec");
            podSpec("spec");
            object("status");
            fields.put("status.conditions", new FieldMeta("merge", "type", "map", List.of("type"), null, Kind.LIST));
        }

        private void podSpec(String p) {
            object(p);
            fields.put(p + ".containers", new FieldMeta("merge", "name", "map", List.of("name"), null, Kind.LIST));
            String c = p + ".containers";
            fields.put(c + ".ports", new FieldMeta("merge", "containerPort", "map", List.of("containerPort", "protocol"), null, Kind.LIST));
            fields.put(c + ".env", new FieldMeta("merge", "name", "map", List.of("name"), null, Kind.LIST));
            fields.put(c + ".args", new FieldMeta(null, null, "atomic", List.of(), null, Kind.LIST));
            object(c + ".resources");
            map(c + ".resources.limits");
            object(c + ".securityContext");
        }

        private void object(String p) {
            fields.put(p, new FieldMeta(null, null, null, List.of(), null, Kind.OBJECT));
        }

        private void map(String p) {
            fields.put(p, new FieldMeta(null, null, null, List.of(), null, Kind.MAP));
        }

        @Override
        public FieldMeta field(List<String> path) {
            return fields.getOrDefault(String.join(".", path), UNKNOWN);
        }

        @Override
        public JsonNode listKeyDefault(List<String> listPath, String key) {
            return listPath.get(listPath.size() - 1).equals("ports") && key.equals("protocol") ? TextNode.valueOf("TCP") : null;
        }

        @Override
        public boolean presentWhenZero(List<String> path) {
            return zeroPresent.contains(String.join(".", path));
        }
    }

    /** A clock tests move by hand. */
    static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(String start) {
            now = Instant.parse(start);
        }

        void set(String instant) {
            now = Instant.parse(instant);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
