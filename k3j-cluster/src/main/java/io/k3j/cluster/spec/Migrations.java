package io.k3j.cluster.spec;

import io.k3j.cluster.spec.YamlTree.List_;
import io.k3j.cluster.spec.YamlTree.Map_;
import io.k3j.cluster.spec.YamlTree.Node;
import io.k3j.cluster.spec.YamlTree.Scalar;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * k3d's config migrations (pkg/config/v1alpha3..5/migrations.go), on the line-keeping tree so that a problem in an
 * old file is still reported at its own line after migration. One step per version, applied in order.
 */
final class Migrations {
    private Migrations() {
    }

    /** Rewrites {@code root} (a valid file of {@code version}) in place into the v1alpha5 shape. */
    static void toV1alpha5(Map_ root, String version) {
        switch (version) {
            case ConfigFiles.V1ALPHA2:
                v2to3(root);
                // fall through
            case ConfigFiles.V1ALPHA3:
                v3to4(root);
                // fall through
            case ConfigFiles.V1ALPHA4:
            default:
                break; // v1alpha4 → v1alpha5 only added fields
        }
    }

    /** v1alpha2 → v1alpha3: k3s args and runtime labels gained node filters; filters moved from [i] to :i. */
    private static void v2to3(Map_ root) {
        int line = root.line();
        Map_ options = child(root, "options", line);
        Map_ k3s = child(options, "k3s", line);
        List<Node> args = new ArrayList<>();
        addArgs(args, k3s.remove("extraServerArgs"), "server:*");
        addArgs(args, k3s.remove("extraAgentArgs"), "agent:*");
        if (!args.isEmpty()) k3s.put("extraArgs", args.getFirst().line(), new List_(args.getFirst().line(), args));
        if (k3s.fields().isEmpty()) options.remove("k3s");
        Node labels = root.remove("labels");
        if (labels instanceof List_ l && !l.items().isEmpty()) {
            child(options, "runtime", l.line()).put("labels", l.line(), l);
        }
        Node k3d = options.get("k3d");
        if (k3d instanceof Map_ m) m.remove("disableHostIPInjection");
        if (options.fields().isEmpty()) root.remove("options");
        if (root.get("registries") instanceof Map_ reg && reg.get("create") instanceof Scalar create) {
            if ("true".equals(create.text())) {
                Map_ c = new Map_(create.line(), new LinkedHashMap<>());
                String name = root.get("name") instanceof Scalar n && n.text() != null ? n.text() : ClusterSpecs.DEFAULT_NAME;
                c.put("name", create.line(), Scalar.string(create.line(), "k3d-" + name + "-registry"));
                c.put("host", create.line(), Scalar.string(create.line(), "0.0.0.0"));
                c.put("hostPort", create.line(), Scalar.string(create.line(), "random"));
                reg.put("create", reg.fields().get("create").keyLine(), c);
            } else {
                reg.remove("create");
            }
        }
        rewriteFilters(root);
    }

    /** v1alpha3 → v1alpha4: {@code name} moved to {@code metadata.name}. */
    private static void v3to4(Map_ root) {
        YamlTree.Entry name = root.fields().get("name");
        if (name == null) return;
        LinkedHashMap<String, YamlTree.Entry> old = new LinkedHashMap<>(root.fields());
        root.fields().clear();
        for (Map.Entry<String, YamlTree.Entry> e : old.entrySet()) {
            if (e.getKey().equals("name")) continue;
            root.fields().put(e.getKey(), e.getValue());
            if (e.getKey().equals("kind")) putMetadata(root, name);
        }
        if (!root.fields().containsKey("metadata")) putMetadata(root, name);
    }

    private static void putMetadata(Map_ root, YamlTree.Entry name) {
        Map_ md = new Map_(name.keyLine(), new LinkedHashMap<>());
        md.put("name", name.keyLine(), name.value());
        root.put("metadata", name.keyLine(), md);
    }

    private static void addArgs(List<Node> out, Node list, String filter) {
        if (!(list instanceof List_ l)) return;
        for (Node a : l.items()) {
            Map_ m = new Map_(a.line(), new LinkedHashMap<>());
            m.put("arg", a.line(), a);
            m.put("nodeFilters", a.line(), new List_(a.line(), new ArrayList<>(List.of(Scalar.string(a.line(), filter)))));
            out.add(m);
        }
    }

    private static Map_ child(Map_ parent, String key, int line) {
        if (parent.get(key) instanceof Map_ m) return m;
        Map_ m = new Map_(line, new LinkedHashMap<>());
        parent.put(key, line, m);
        return m;
    }

    /** Every {@code nodeFilters} entry in k3d v5 syntax (v4's {@code server[1:2]} becomes {@code server:1-2}). */
    static void rewriteFilters(Node n) {
        switch (n) {
            case Map_ m -> {
                for (Map.Entry<String, YamlTree.Entry> e : m.fields().entrySet()) {
                    if (e.getKey().equals("nodeFilters") && e.getValue().value() instanceof List_ l) {
                        for (int i = 0; i < l.items().size(); i++) {
                            if (l.items().get(i) instanceof Scalar s && s.text() != null) {
                                try {
                                    l.items().set(i, Scalar.string(s.line(), NodeFilter.parse(s.text()).toV5()));
                                } catch (IllegalArgumentException ignored) {
                                    // left as written; validation reports it with its line
                                }
                            }
                        }
                    } else {
                        rewriteFilters(e.getValue().value());
                    }
                }
            }
            case List_ l -> l.items().forEach(Migrations::rewriteFilters);
            case Scalar s -> {
            }
        }
    }
}
