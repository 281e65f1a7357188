package io.k3j.openapi.gen;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.gson.annotations.SerializedName;
import io.swagger.annotations.ApiModel;
import io.swagger.annotations.ApiModelProperty;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * Writes the built-in OpenAPI definitions of the kinds k3j serves, as one gzipped JSON document:
 * <pre>{"definitions": {name: swagger-2.0 schema}, "resources": [{group, version, kind, plural, namespaced,
 *   definition, listDefinition}]}</pre>
 *
 * <p>Structure, formats and descriptions come from reflecting over the Kubernetes 1.26 model classes of
 * client-java 18 (the last release whose classes keep descriptions in {@code @ApiModelProperty}); names of
 * definitions follow Kubernetes ({@code io.k8s.api.apps.v1.Deployment}); patch metadata, which those classes
 * don't carry, comes from {@link PatchTable}; fields Kubernetes added after 1.26 come from {@link Additions}.
 */
public final class Generate {
    static final String MODELS = "io.kubernetes.client.openapi.models.";
    static final String META = "io.k8s.apimachinery.pkg.apis.meta.v1.";
    static final String QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
    static final String INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
    static final String RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension";
    static final String APIEXT = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.";

    /** Kubernetes' Go package of each API group, as it appears in definition names. */
    static final Map<String, String> PACKAGES = Map.ofEntries(
            Map.entry("", "io.k8s.api.core.v1."),
            Map.entry("apps", "io.k8s.api.apps.v1."),
            Map.entry("autoscaling", "io.k8s.api.autoscaling.v1."),
            Map.entry("policy", "io.k8s.api.policy.v1."),
            Map.entry("batch", "io.k8s.api.batch.v1."),
            Map.entry("coordination.k8s.io", "io.k8s.api.coordination.v1."),
            Map.entry("discovery.k8s.io", "io.k8s.api.discovery.v1."),
            Map.entry("networking.k8s.io", "io.k8s.api.networking.v1."),
            Map.entry("rbac.authorization.k8s.io", "io.k8s.api.rbac.v1."),
            Map.entry("storage.k8s.io", "io.k8s.api.storage.v1."),
            Map.entry("events.k8s.io", "io.k8s.api.events.v1."),
            Map.entry("apiextensions.k8s.io", APIEXT),
            Map.entry("authorization.k8s.io", "io.k8s.api.authorization.v1."),
            Map.entry("authentication.k8s.io", "io.k8s.api.authentication.v1."),
            Map.entry("meta", META));

    /** client-java classes whose name carries their group because the bare name is ambiguous. */
    static final Map<String, String> PREFIXES = Map.of(
            "CoreV1", "", "EventsV1", "events.k8s.io", "DiscoveryV1", "discovery.k8s.io",
            "StorageV1", "storage.k8s.io", "ApiextensionsV1", "apiextensions.k8s.io",
            "AuthenticationV1", "authentication.k8s.io");

    /** apimachinery meta/v1 types, wherever they are first met. */
    static final List<String> META_TYPES = List.of(
            "ObjectMeta", "ListMeta", "LabelSelector", "LabelSelectorRequirement", "OwnerReference",
            "ManagedFieldsEntry", "DeleteOptions", "Preconditions", "Status", "StatusDetails", "StatusCause",
            "Condition", "APIResource", "APIResourceList", "APIGroup", "APIGroupList", "APIVersions",
            "GroupVersionForDiscovery", "ServerAddressByClientCIDR", "WatchEvent");

    /** Fields typed OffsetDateTime that Kubernetes declares as MicroTime rather than Time. */
    static final List<String> MICRO_TIME_FIELDS = List.of(
            "io.k8s.api.coordination.v1.LeaseSpec.acquireTime", "io.k8s.api.coordination.v1.LeaseSpec.renewTime",
            "io.k8s.api.core.v1.Event.eventTime", "io.k8s.api.core.v1.EventSeries.lastObservedTime",
            "io.k8s.api.events.v1.Event.eventTime", "io.k8s.api.events.v1.EventSeries.lastObservedTime");

    /** What the untyped (java.lang.Object) fields really hold. */
    static final Map<String, String> OBJECT_FIELDS = Map.ofEntries(
            Map.entry("io.k8s.api.apps.v1.ControllerRevision.data", RAW_EXTENSION),
            Map.entry(META + "WatchEvent.object", RAW_EXTENSION),
            Map.entry(META + "ManagedFieldsEntry.fieldsV1", META + "FieldsV1"),
            Map.entry(APIEXT + "JSONSchemaProps.default", APIEXT + "JSON"),
            Map.entry(APIEXT + "JSONSchemaProps.example", APIEXT + "JSON"),
            Map.entry(APIEXT + "JSONSchemaProps.enum", APIEXT + "JSON"),
            Map.entry(APIEXT + "JSONSchemaProps.items", APIEXT + "JSONSchemaPropsOrArray"),
            Map.entry(APIEXT + "JSONSchemaProps.additionalProperties", APIEXT + "JSONSchemaPropsOrBool"),
            Map.entry(APIEXT + "JSONSchemaProps.additionalItems", APIEXT + "JSONSchemaPropsOrBool"),
            Map.entry(APIEXT + "JSONSchemaProps.dependencies", APIEXT + "JSONSchemaPropsOrStringArray"));

    record Root(String group, String version, String kind, String javaClass, String plural, boolean namespaced,
                boolean listed) {}

    static final List<Root> ROOTS = List.of(
            // core first, so that shared types (PodTemplateSpec, ObjectReference, ...) are named in core
            new Root("", "v1", "Pod", "V1Pod", "pods", true, true),
            new Root("", "v1", "Namespace", "V1Namespace", "namespaces", false, true),
            new Root("", "v1", "Service", "V1Service", "services", true, true),
            new Root("", "v1", "Endpoints", "V1Endpoints", "endpoints", true, true),
            new Root("", "v1", "ConfigMap", "V1ConfigMap", "configmaps", true, true),
            new Root("", "v1", "Secret", "V1Secret", "secrets", true, true),
            new Root("", "v1", "ServiceAccount", "V1ServiceAccount", "serviceaccounts", true, true),
            new Root("", "v1", "Node", "V1Node", "nodes", false, true),
            new Root("", "v1", "Event", "CoreV1Event", "events", true, true),
            new Root("", "v1", "PersistentVolume", "V1PersistentVolume", "persistentvolumes", false, true),
            new Root("", "v1", "PersistentVolumeClaim", "V1PersistentVolumeClaim", "persistentvolumeclaims", true, true),
            new Root("", "v1", "LimitRange", "V1LimitRange", "limitranges", true, true),
            new Root("", "v1", "ResourceQuota", "V1ResourceQuota", "resourcequotas", true, true),
            new Root("", "v1", "ReplicationController", "V1ReplicationController", "replicationcontrollers", true, true),
            new Root("", "v1", "PodTemplate", "V1PodTemplate", "podtemplates", true, true),
            new Root("", "v1", "Binding", "V1Binding", "bindings", true, false),
            new Root("apps", "v1", "Deployment", "V1Deployment", "deployments", true, true),
            new Root("apps", "v1", "ReplicaSet", "V1ReplicaSet", "replicasets", true, true),
            new Root("apps", "v1", "StatefulSet", "V1StatefulSet", "statefulsets", true, true),
            new Root("apps", "v1", "DaemonSet", "V1DaemonSet", "daemonsets", true, true),
            new Root("apps", "v1", "ControllerRevision", "V1ControllerRevision", "controllerrevisions", true, true),
            new Root("autoscaling", "v1", "Scale", "V1Scale", null, true, false),
            new Root("policy", "v1", "Eviction", "V1Eviction", null, true, false),
            new Root("batch", "v1", "Job", "V1Job", "jobs", true, true),
            new Root("batch", "v1", "CronJob", "V1CronJob", "cronjobs", true, true),
            new Root("coordination.k8s.io", "v1", "Lease", "V1Lease", "leases", true, true),
            new Root("discovery.k8s.io", "v1", "EndpointSlice", "V1EndpointSlice", "endpointslices", true, true),
            new Root("networking.k8s.io", "v1", "Ingress", "V1Ingress", "ingresses", true, true),
            new Root("networking.k8s.io", "v1", "IngressClass", "V1IngressClass", "ingressclasses", false, true),
            new Root("networking.k8s.io", "v1", "NetworkPolicy", "V1NetworkPolicy", "networkpolicies", true, true),
            new Root("rbac.authorization.k8s.io", "v1", "Role", "V1Role", "roles", true, true),
            new Root("rbac.authorization.k8s.io", "v1", "ClusterRole", "V1ClusterRole", "clusterroles", false, true),
            new Root("rbac.authorization.k8s.io", "v1", "RoleBinding", "V1RoleBinding", "rolebindings", true, true),
            new Root("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "V1ClusterRoleBinding", "clusterrolebindings", false, true),
            new Root("storage.k8s.io", "v1", "StorageClass", "V1StorageClass", "storageclasses", false, true),
            new Root("events.k8s.io", "v1", "Event", "EventsV1Event", "events", true, true),
            new Root("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "V1CustomResourceDefinition", "customresourcedefinitions", false, true),
            new Root("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "V1SelfSubjectAccessReview", "selfsubjectaccessreviews", false, false),
            new Root("authentication.k8s.io", "v1", "TokenReview", "V1TokenReview", "tokenreviews", false, false),
            new Root("authentication.k8s.io", "v1", "TokenRequest", "AuthenticationV1TokenRequest", null, true, false),
            new Root("meta", "v1", "Status", "V1Status", null, false, false),
            new Root("meta", "v1", "DeleteOptions", "V1DeleteOptions", null, false, false),
            new Root("meta", "v1", "WatchEvent", "V1WatchEvent", null, false, false),
            new Root("meta", "v1", "APIResourceList", "V1APIResourceList", null, false, false),
            new Root("meta", "v1", "APIGroupList", "V1APIGroupList", null, false, false),
            new Root("meta", "v1", "APIGroup", "V1APIGroup", null, false, false),
            new Root("meta", "v1", "APIVersions", "V1APIVersions", null, false, false));

    private final ObjectMapper mapper = new ObjectMapper();
    private final Map<Class<?>, String> names = new HashMap<>();
    private final Map<String, ObjectNode> definitions = new TreeMap<>();
    private final Deque<Class<?>> pending = new ArrayDeque<>();

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        ObjectNode doc = new Generate().generate();
        Files.createDirectories(out.getParent());
        try (OutputStream os = new GZIPOutputStream(Files.newOutputStream(out))) {
            new ObjectMapper().writeValue(os, doc);
        }
        System.out.println("[k3j-openapi-gen] wrote " + doc.get("definitions").size() + " definitions to " + out
                + " (" + Files.size(out) + " bytes gzipped)");
    }

    ObjectNode generate() throws ClassNotFoundException {
        ArrayNode resources = mapper.createArrayNode();
        for (Root root : ROOTS) {
            Class<?> type = Class.forName(MODELS + root.javaClass());
            String name = nameOf(type, root.group());
            drain(root.group());
            ObjectNode r = resources.addObject();
            r.put("group", root.group().equals("meta") ? "" : root.group()).put("version", root.version())
                    .put("kind", root.kind()).put("definition", name);
            if (root.plural() != null) r.put("plural", root.plural()).put("namespaced", root.namespaced());
            if (root.listed()) {
                Class<?> list = Class.forName(MODELS + root.javaClass() + "List");
                r.put("listDefinition", nameOf(list, root.group()));
                drain(root.group());
            }
        }
        addSpecialDefinitions();
        for (var r : resources) {
            String group = r.get("group").asText(), version = r.get("version").asText(), kind = r.get("kind").asText();
            boolean everyGroup = kind.equals("DeleteOptions") || kind.equals("WatchEvent");
            ArrayNode gvks = definitions.get(r.get("definition").asText()).putArray("x-kubernetes-group-version-kind");
            if (everyGroup) {
                for (String g : new TreeMap<>(PACKAGES).keySet()) {
                    if (!g.equals("meta")) gvks.addObject().put("group", g).put("kind", kind).put("version", "v1");
                }
            } else {
                gvks.addObject().put("group", group).put("kind", kind).put("version", version);
            }
            if (r.has("listDefinition")) {
                definitions.get(r.get("listDefinition").asText()).putArray("x-kubernetes-group-version-kind")
                        .addObject().put("group", group).put("kind", kind + "List").put("version", version);
            }
        }
        Additions.apply(definitions, mapper);
        PatchTable.apply(definitions);
        describeReferences();
        ObjectNode doc = mapper.createObjectNode();
        ObjectNode defs = doc.putObject("definitions");
        definitions.forEach(defs::set);
        doc.set("resources", resources);
        return doc;
    }

    /** The Kubernetes definition name of a model class; queues it for generation when first seen. */
    private String nameOf(Class<?> type, String group) {
        String known = names.get(type);
        if (known != null) return known;
        String simple = type.getSimpleName();
        String g = group;
        for (Map.Entry<String, String> p : PREFIXES.entrySet()) {
            if (simple.startsWith(p.getKey())) {
                simple = simple.substring(p.getKey().length());
                g = p.getValue();
            }
        }
        if (simple.startsWith("V1")) simple = simple.substring(2);
        if (META_TYPES.contains(simple)) g = "meta";
        if (simple.startsWith("TopologySelector")) g = ""; // core types first met through StorageClass
        String pkg = PACKAGES.get(g);
        if (pkg == null) throw new IllegalStateException("no package for group " + g + " of " + type);
        String name = pkg + simple;
        names.put(type, name);
        pending.add(type);
        return name;
    }

    private void drain(String group) {
        while (!pending.isEmpty()) {
            Class<?> type = pending.poll();
            String name = names.get(type);
            definitions.put(name, definitionOf(type, name, group));
        }
    }

    private ObjectNode definitionOf(Class<?> type, String name, String group) {
        ObjectNode def = mapper.createObjectNode();
        ApiModel model = type.getAnnotation(ApiModel.class);
        if (model != null && !model.description().isEmpty()) def.put("description", model.description());
        def.put("type", "object");
        Map<String, ApiModelProperty> docs = propertyDocs(type);
        ObjectNode props = def.putObject("properties");
        List<String> required = new ArrayList<>();
        for (Field f : type.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) continue;
            SerializedName sn = f.getAnnotation(SerializedName.class);
            if (sn == null) continue;
            String json = sn.value();
            ObjectNode prop = schemaOf(f.getGenericType(), name + "." + json, group);
            ApiModelProperty doc = docs.get(normalize(f.getName()));
            if (doc != null) {
                if (!doc.value().isEmpty()) putFirst(prop, "description", doc.value());
                if (doc.required()) required.add(json);
            }
            props.set(json, prop);
        }
        if (!required.isEmpty()) {
            ArrayNode req = def.putArray("required");
            required.forEach(req::add);
        }
        return def;
    }

    private static void putFirst(ObjectNode node, String field, String value) {
        Map<String, com.fasterxml.jackson.databind.JsonNode> rest = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> rest.put(e.getKey(), e.getValue()));
        node.removeAll();
        node.put(field, value);
        rest.forEach(node::set);
    }

    private static Map<String, ApiModelProperty> propertyDocs(Class<?> type) {
        Map<String, ApiModelProperty> docs = new HashMap<>();
        for (Method m : type.getDeclaredMethods()) {
            ApiModelProperty p = m.getAnnotation(ApiModelProperty.class);
            if (p == null) continue;
            String n = m.getName();
            if (n.startsWith("get")) n = n.substring(3);
            else if (n.startsWith("is")) n = n.substring(2);
            docs.put(normalize(n), p);
        }
        return docs;
    }

    private static String normalize(String javaName) {
        return javaName.replace("_", "").replace("$", "").toLowerCase(Locale.ROOT);
    }

    private ObjectNode schemaOf(Type t, String fieldPath, String group) {
        ObjectNode s = mapper.createObjectNode();
        if (t instanceof ParameterizedType p) {
            Class<?> raw = (Class<?>) p.getRawType();
            Type[] args = p.getActualTypeArguments();
            if (List.class.isAssignableFrom(raw)) {
                s.put("type", "array");
                s.set("items", schemaOf(args[0], fieldPath, group));
            } else if (Map.class.isAssignableFrom(raw)) {
                s.put("type", "object");
                s.set("additionalProperties", schemaOf(args[1], fieldPath, group));
            } else {
                throw new IllegalStateException("unexpected generic type " + t + " at " + fieldPath);
            }
            return s;
        }
        Class<?> c = (Class<?>) t;
        if (c == String.class) s.put("type", "string");
        else if (c == Integer.class) s.put("type", "integer").put("format", "int32");
        else if (c == Long.class) s.put("type", "integer").put("format", "int64");
        else if (c == Boolean.class) s.put("type", "boolean");
        else if (c == Double.class || c == Float.class) s.put("type", "number").put("format", "double");
        else if (c == java.math.BigDecimal.class) s.put("type", "number");
        else if (c == byte[].class) s.put("type", "string").put("format", "byte");
        else if (c == OffsetDateTime.class) {
            s.put("$ref", "#/definitions/" + META + (MICRO_TIME_FIELDS.contains(fieldPath) ? "MicroTime" : "Time"));
        } else if (c.getName().equals("io.kubernetes.client.custom.Quantity")) s.put("$ref", "#/definitions/" + QUANTITY);
        else if (c.getName().equals("io.kubernetes.client.custom.IntOrString")) s.put("$ref", "#/definitions/" + INT_OR_STRING);
        else if (c == Object.class) {
            String ref = OBJECT_FIELDS.get(fieldPath);
            if (ref != null) s.put("$ref", "#/definitions/" + ref);
            else s.put("type", "object");
        } else if (c.isEnum()) {
            s.put("type", "string");
            ArrayNode values = s.putArray("enum");
            for (Field f : c.getFields()) {
                if (!f.isEnumConstant()) continue;
                SerializedName sn = f.getAnnotation(SerializedName.class);
                values.add(sn != null ? sn.value() : f.getName());
            }
        } else if (c.getName().startsWith(MODELS)) {
            s.put("$ref", "#/definitions/" + nameOf(c, group));
        } else {
            throw new IllegalStateException("unexpected type " + c + " at " + fieldPath);
        }
        return s;
    }

    /**
     * client-java leaves fields that hold another model undocumented (its generator can't put a description
     * beside a {@code $ref}); the referenced type's own description is the closest honest text for them.
     */
    private void describeReferences() {
        for (ObjectNode def : definitions.values()) {
            def.path("properties").forEach(prop -> {
                String ref = prop.path("$ref").asText("");
                if (!ref.startsWith("#/definitions/") || prop.has("description")) return;
                ObjectNode target = definitions.get(ref.substring("#/definitions/".length()));
                if (target != null && target.has("description")) {
                    putFirst((ObjectNode) prop, "description", target.get("description").asText());
                }
            });
        }
    }

    /** Definitions Kubernetes writes by hand (custom marshalling), so no model class describes them. */
    private void addSpecialDefinitions() {
        definitions.put(META + "Time", scalar("string", "date-time",
                "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.  Wrappers are provided for many of the factory methods that the time package offers."));
        definitions.put(META + "MicroTime", scalar("string", "date-time",
                "MicroTime is version of Time with microsecond level precision."));
        definitions.put(QUANTITY, scalar("string", null,
                "Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors. Serialized as a string such as \"100m\", \"1Gi\" or \"500Mi\"."));
        definitions.put(INT_OR_STRING, scalar("string", "int-or-string",
                "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type."));
        ObjectNode raw = scalar("object", null,
                "RawExtension is used to hold extensions in external versions: any embedded object, serialized with its apiVersion and kind.");
        definitions.put(RAW_EXTENSION, raw);
        definitions.put(META + "FieldsV1", scalar("object", null,
                "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format."));
        definitions.put(META + "Patch", scalar("object", null,
                "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."));
        ObjectNode json = mapper.createObjectNode().put("description",
                "JSON represents any valid JSON value. These types are supported: bool, int64, float64, string, []interface{}, map[string]interface{} and nil.");
        definitions.put(APIEXT + "JSON", json);
        definitions.put(APIEXT + "JSONSchemaPropsOrArray", mapper.createObjectNode().put("description",
                "JSONSchemaPropsOrArray represents a value that can either be a JSONSchemaProps or an array of JSONSchemaProps. Mainly here for serialization purposes."));
        definitions.put(APIEXT + "JSONSchemaPropsOrBool", mapper.createObjectNode().put("description",
                "JSONSchemaPropsOrBool represents JSONSchemaProps or a boolean value. Defaults to true for the boolean property."));
        definitions.put(APIEXT + "JSONSchemaPropsOrStringArray", mapper.createObjectNode().put("description",
                "JSONSchemaPropsOrStringArray represents a JSONSchemaProps or a string array."));
    }

    private ObjectNode scalar(String type, String format, String description) {
        ObjectNode s = mapper.createObjectNode().put("description", description).put("type", type);
        if (format != null) s.put("format", format);
        return s;
    }
}
