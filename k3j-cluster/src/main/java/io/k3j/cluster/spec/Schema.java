package io.k3j.cluster.spec;

import io.k3j.cluster.spec.YamlTree.Kind;
import io.k3j.cluster.spec.YamlTree.List_;
import io.k3j.cluster.spec.YamlTree.Map_;
import io.k3j.cluster.spec.YamlTree.Node;
import io.k3j.cluster.spec.YamlTree.Scalar;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of k3d's config files (k3d's JSON schemas pkg/config/v1alpha2..5/schema.json, written down by hand): which
 * fields exist per version and their types. A small validator instead of a JSON-schema library: it needs the YAML
 * line of each problem, which JSON-schema libraries working on Jackson trees can't give. Where k3d's schema allows
 * any field (options.runtime, registries, hostAliases items) so does this, so files k3d accepts load here too.
 */
abstract class Schema {

    /** Adds "path at line N: problem" lines to {@code problems}. */
    abstract void check(Node n, String path, List<String> problems);

    static String at(String path, Node n) {
        return (path.isEmpty() ? "the file" : path) + " at line " + n.line();
    }

    static Schema string() {
        return new Schema() {
            @Override
            void check(Node n, String path, List<String> problems) {
                // YAML scalars of any type read as text where k3d expects a string (hostPort: 6445 means "6445")
                if (!(n instanceof Scalar)) problems.add(at(path, n) + ": expected a string, got " + what(n));
            }
        };
    }

    static Schema integer(long min, long max) {
        return new Schema() {
            @Override
            void check(Node n, String path, List<String> problems) {
                if (n instanceof Scalar s && s.kind() == Kind.INT) {
                    long v;
                    try {
                        v = Long.parseLong(s.text());
                    } catch (NumberFormatException e) {
                        problems.add(at(path, n) + ": '" + s.text() + "' is not a whole number");
                        return;
                    }
                    if (v < min || v > max) {
                        problems.add(at(path, n) + ": " + v + " is out of range (expected " + (max == Long.MAX_VALUE ? "at least " + min : min + " to " + max) + ")");
                    }
                } else {
                    problems.add(at(path, n) + ": expected a whole number, got " + what(n));
                }
            }
        };
    }

    static Schema bool() {
        return new Schema() {
            @Override
            void check(Node n, String path, List<String> problems) {
                if (!(n instanceof Scalar s && s.kind() == Kind.BOOL)) problems.add(at(path, n) + ": expected true or false, got " + what(n));
            }
        };
    }

    /** A Go duration string ("60s") or, as k3d's own config migrate writes it, integer nanoseconds. */
    static Schema duration() {
        return new Schema() {
            @Override
            void check(Node n, String path, List<String> problems) {
                if (!(n instanceof Scalar s && (s.kind() == Kind.STRING || s.kind() == Kind.INT))) {
                    problems.add(at(path, n) + ": expected a duration like 60s or 2m, got " + what(n));
                }
            }
        };
    }

    static Schema any() {
        return new Schema() {
            @Override
            void check(Node n, String path, List<String> problems) {
            }
        };
    }

    static Schema list(Schema item) {
        return new Schema() {
            @Override
            void check(Node n, String path, List<String> problems) {
                if (n instanceof Scalar s && s.kind() == Kind.NULL) return; // "extraAgentArgs:" with nothing = empty
                if (!(n instanceof List_ l)) {
                    problems.add(at(path, n) + ": expected a list, got " + what(n));
                    return;
                }
                for (int i = 0; i < l.items().size(); i++) item.check(l.items().get(i), path + "[" + i + "]", problems);
            }
        };
    }

    static Obj object() {
        return new Obj(true);
    }

    /** An object that, like k3d's schema in a few places, allows fields it does not list. */
    static Obj openObject() {
        return new Obj(false);
    }

    static final class Obj extends Schema {
        final Map<String, Schema> fields = new LinkedHashMap<>();
        final List<String> required = new ArrayList<>();
        private final boolean closed;

        Obj(boolean closed) {
            this.closed = closed;
        }

        Obj field(String name, Schema s) {
            fields.put(name, s);
            return this;
        }

        Obj required(String name, Schema s) {
            required.add(name);
            return field(name, s);
        }

        /** A copy to derive the next version's schema from. */
        Obj copy() {
            Obj o = new Obj(closed);
            o.fields.putAll(fields);
            o.required.addAll(required);
            return o;
        }

        Obj without(String name) {
            fields.remove(name);
            required.remove(name);
            return this;
        }

        Obj sub(String name) {
            return (Obj) fields.get(name);
        }

        @Override
        void check(Node n, String path, List<String> problems) {
            if (n instanceof Scalar s && s.kind() == Kind.NULL) return; // "options:" with nothing under it
            if (!(n instanceof Map_ m)) {
                problems.add(at(path, n) + ": expected fields (a mapping), got " + what(n));
                return;
            }
            for (String r : required) {
                if (!m.fields().containsKey(r)) problems.add((path.isEmpty() ? "" : path + ": ") + "missing field '" + r + "' (line " + m.line() + ")");
            }
            for (Map.Entry<String, YamlTree.Entry> e : m.fields().entrySet()) {
                String key = e.getKey();
                String p = path.isEmpty() ? key : path + "." + key;
                Schema s = fields.get(key);
                if (s == null) {
                    if (closed) problems.add(unknown(p, key, e.getValue().keyLine()));
                    continue;
                }
                s.check(e.getValue().value(), p, problems);
            }
        }

        private String unknown(String path, String key, int line) {
            String best = null;
            int bestD = Integer.MAX_VALUE;
            for (String f : fields.keySet()) {
                int d = distance(key.toLowerCase(), f.toLowerCase());
                if (d < bestD) {
                    bestD = d;
                    best = f;
                }
            }
            if (bestD > Math.max(2, key.length() / 3)) {
                // "switchContext" for "switchCurrentContext": every camel-case word of the key in one field name
                String[] words = key.split("(?<=[a-z0-9])(?=[A-Z])");
                for (String f : fields.keySet()) {
                    String lf = f.toLowerCase();
                    if (words.length > 1 && java.util.Arrays.stream(words).allMatch(w -> lf.contains(w.toLowerCase()))) {
                        best = f;
                        bestD = 0;
                        break;
                    }
                }
            }
            String hint = best != null && bestD <= Math.max(2, key.length() / 3) ? " (did you mean '" + best + "'?)"
                    : " (expected one of: " + String.join(", ", fields.keySet()) + ")";
            return "unknown field '" + path + "' at line " + line + hint;
        }
    }

    static String what(Node n) {
        return switch (n) {
            case Map_ m -> "fields";
            case List_ l -> "a list";
            case Scalar s -> s.kind() == Kind.NULL ? "nothing" : s.kind() == Kind.STRING ? "\"" + s.text() + "\"" : s.text();
        };
    }

    /** Optimal string alignment distance: a swap of two neighbours ("agnets") counts as one edit. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    // ---- the versions ----

    private static Schema filters() {
        return list(string());
    }

    private static Obj withFilters(String valueField) {
        return object().field(valueField, string()).field("nodeFilters", filters());
    }

    static final Obj V1ALPHA2 = v1alpha2();
    static final Obj V1ALPHA3 = v1alpha3();
    static final Obj V1ALPHA4 = v1alpha4();
    static final Obj V1ALPHA5 = v1alpha5();

    private static Obj v1alpha2() {
        Obj kubeApi = object().field("host", string()).field("hostIP", string()).field("hostPort", string());
        Obj k3d = object().field("wait", bool()).field("timeout", duration()).field("disableLoadbalancer", bool())
                .field("disableImageVolume", bool()).field("disableRollback", bool()).field("disableHostIPInjection", bool())
                .field("nodeHookActions", any());
        Obj k3s = object().field("extraServerArgs", list(string())).field("extraAgentArgs", list(string()));
        Obj kubeconfig = object().field("updateDefaultKubeconfig", bool()).field("switchCurrentContext", bool());
        Obj runtime = openObject().field("gpuRequest", string()).field("serversMemory", string()).field("agentsMemory", string());
        Obj options = object().field("k3d", k3d).field("k3s", k3s).field("kubeconfig", kubeconfig).field("runtime", runtime);
        return object().required("apiVersion", string()).required("kind", string())
                .field("name", string()).field("servers", integer(1, 99)).field("agents", integer(0, 99))
                .field("kubeAPI", kubeApi).field("image", string()).field("network", string()).field("subnet", string())
                .field("token", string()).field("clusterToken", string())
                .field("volumes", list(withFilters("volume"))).field("ports", list(withFilters("port")))
                .field("labels", list(withFilters("label"))).field("options", options)
                .field("env", list(withFilters("envVar"))).field("registries", openObject());
    }

    private static Obj v1alpha3() {
        Obj o = V1ALPHA2.copy().without("labels");
        Obj options = o.sub("options").copy();
        Obj k3d = options.sub("k3d").copy().without("disableHostIPInjection")
                .field("loadbalancer", object().field("configOverrides", list(string())));
        Obj k3s = object().field("extraArgs", list(withFilters("arg"))).field("nodeLabels", list(withFilters("label")));
        Obj runtime = options.sub("runtime").copy().field("labels", list(withFilters("label")));
        options.field("k3d", k3d).field("k3s", k3s).field("runtime", runtime);
        Obj create = object().field("name", string()).field("host", string()).field("hostPort", string());
        Obj registries = openObject().field("create", create).field("use", list(string())).field("config", string());
        return o.field("options", options).field("registries", registries);
    }

    private static Obj v1alpha4() {
        Obj o = V1ALPHA3.copy();
        // "name" moved under metadata; rebuilt so metadata sits where k3d puts it
        Obj out = object();
        for (Map.Entry<String, Schema> e : o.fields.entrySet()) {
            if (e.getKey().equals("name")) continue;
            if (o.required.contains(e.getKey())) out.required(e.getKey(), e.getValue());
            else out.field(e.getKey(), e.getValue());
            if (e.getKey().equals("kind")) out.field("metadata", object().field("name", string()));
        }
        Obj options = out.sub("options").copy();
        options.field("runtime", options.sub("runtime").copy().field("hostPidMode", bool()));
        Obj registries = out.sub("registries").copy();
        Obj create = registries.sub("create").copy().field("image", string())
                .field("proxy", object().field("remoteURL", string()).field("username", string()).field("password", string()))
                .field("volumes", list(string()));
        registries.field("create", create);
        Obj alias = openObject().field("ip", string()).field("hostnames", list(string()));
        return out.field("options", options).field("registries", registries).field("hostAliases", list(alias));
    }

    private static Obj v1alpha5() {
        Obj o = V1ALPHA4.copy();
        Obj out = object();
        for (Map.Entry<String, Schema> e : o.fields.entrySet()) {
            if (o.required.contains(e.getKey())) out.required(e.getKey(), e.getValue());
            else out.field(e.getKey(), e.getValue());
            if (e.getKey().equals("ports")) {
                out.field("files", object().field("source", string()).field("destination", string())
                        .field("description", string()).field("nodeFilters", filters()));
            }
        }
        out.field("files", list(out.sub("files")));
        Obj ports = object().field("port", string()).field("nodeFilters", filters()).field("removal", bool());
        out.field("ports", list(ports));
        Obj options = out.sub("options").copy();
        Obj ulimit = object().field("name", string()).field("soft", integer(0, Long.MAX_VALUE)).field("hard", integer(0, Long.MAX_VALUE));
        options.field("runtime", options.sub("runtime").copy().field("ulimits", list(ulimit)));
        Obj registries = out.sub("registries").copy();
        registries.field("create", registries.sub("create").copy().field("enforcePortMatch", bool()));
        return out.field("options", options).field("registries", registries);
    }
}
