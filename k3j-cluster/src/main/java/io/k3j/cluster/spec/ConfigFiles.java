package io.k3j.cluster.spec;

import io.k3j.cluster.spec.YamlTree.Kind;
import io.k3j.cluster.spec.YamlTree.List_;
import io.k3j.cluster.spec.YamlTree.Map_;
import io.k3j.cluster.spec.YamlTree.Node;
import io.k3j.cluster.spec.YamlTree.Scalar;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * k3d's config files ({@code kind: Simple} of {@code k3d.io/v1alpha2} .. {@code v1alpha5}, as k3d writes them) and
 * k3j's own {@code k3j.io/v1alpha1} (the v1alpha5 shape under k3j's apiVersion): loading with environment
 * variable expansion and validation, {@code config migrate} and {@code config init}.
 *
 * <p>Every problem names the field path and the line: {@code unknown field 'agnets' at line 5 (did you mean 'agents'?)},
 * {@code options.k3d.timeout at line 15: duration '60x' is not valid: ...}.
 */
public final class ConfigFiles {
    static final String V1ALPHA2 = "k3d.io/v1alpha2";
    static final String V1ALPHA3 = "k3d.io/v1alpha3";
    static final String V1ALPHA4 = "k3d.io/v1alpha4";
    static final String V1ALPHA5 = "k3d.io/v1alpha5";
    /** The newest k3d version, what {@link #migrate} writes. */
    public static final String NEWEST_K3D = V1ALPHA5;
    /** k3j's own version, what {@link #initTemplate()} writes. */
    public static final String K3J_V1ALPHA1 = "k3j.io/v1alpha1";

    private static final Map<String, Schema.Obj> SCHEMAS = Map.of(V1ALPHA2, Schema.V1ALPHA2, V1ALPHA3, Schema.V1ALPHA3,
            V1ALPHA4, Schema.V1ALPHA4, V1ALPHA5, Schema.V1ALPHA5, K3J_V1ALPHA1, k3jSchema());

    private ConfigFiles() {
    }

    private static Schema.Obj k3jSchema() {
        return Schema.V1ALPHA5.copy();
    }

    /**
     * Reads and validates a config file; {@code $VAR} and {@code ${VAR}} are replaced from {@code env} first (unset
     * ones by nothing, as k3d's os.ExpandEnv; {@code $$} is a literal {@code $}). Relative volume sources are taken
     * from the file's folder.
     *
     * @throws ConfigException      listing every problem with its field and line
     * @throws UncheckedIOException if the file can't be read
     */
    public static ConfigFile load(Path file, Map<String, String> env) {
        Objects.requireNonNull(file, "file");
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException("reading config file " + file + ": " + e.getMessage(), e);
        }
        Path base = file.toAbsolutePath().getParent();
        return parse(text, file.toString(), env, base);
    }

    /**
     * As {@link #load}, from text.
     *
     * @param source names the text in messages
     * @param base   the folder relative volume sources are taken from
     */
    public static ConfigFile parse(String text, String source, Map<String, String> env, Path base) {
        Objects.requireNonNull(text, "text");
        String expanded = expandEnv(text, env == null ? Map.of() : env);
        List<String> problems = new ArrayList<>();
        Parsed p = validated(expanded, source, problems);
        List<String> warnings = new ArrayList<>();
        ClusterOptions options = new Extractor(base == null ? Path.of("") : base, problems, warnings).extract(p.root());
        if (!problems.isEmpty()) throw new ConfigException(source, problems);
        return new ConfigFile(source, p.version(), options, warnings);
    }

    /**
     * {@code config migrate}: rewrites a config file of any k3d version into {@value #NEWEST_K3D}, as k3d does
     * (v1alpha2's extraServerArgs/extraAgentArgs become extraArgs with {@code server:*}/{@code agent:*}, labels move to
     * options.runtime.labels, {@code name} to metadata.name, node filters to v5 syntax). Environment variables are
     * left as written. A {@value #K3J_V1ALPHA1} file is returned re-written but unchanged in content.
     *
     * @throws ConfigException if the input is not a valid config file
     */
    public static String migrate(String text, String source) {
        List<String> problems = new ArrayList<>();
        Parsed p = validated(text, source, problems);
        if (!problems.isEmpty()) throw new ConfigException(source, problems);
        if (!p.version().equals(K3J_V1ALPHA1)) {
            Map_ root = p.root();
            YamlTree.Entry v = root.fields().get("apiVersion");
            root.put("apiVersion", v.keyLine(), Scalar.string(v.keyLine(), NEWEST_K3D));
        }
        return YamlTree.write(p.root());
    }

    /** {@code config init}: a commented {@value #K3J_V1ALPHA1} file with k3j's defaults, which loads as is. */
    public static String initTemplate() {
        return """
                # k3j cluster config (k3j cluster create -c FILE). Flags given on the command line win over this file;
                # list flags (--port, --volume, --env, --k3s-arg, --k3s-node-label) add to the lists here.
                # $VAR and ${VAR} are replaced from the environment. k3d.io/v1alpha2..v1alpha5 files work as well.
                apiVersion: k3j.io/v1alpha1
                kind: Simple
                metadata:
                  name: mycluster              # DNS-1123 label, at most 32 characters; nodes are k3j-NAME-server-0, ...
                servers: 1                     # more than one server runs an HA control plane
                agents: 0
                kubeAPI:
                  hostIP: "0.0.0.0"            # where the load balancer listens for the API (the kubeconfig uses 127.0.0.1)
                  hostPort: "random"           # or a port such as "6445"
                subnet: auto                   # the cluster bridge's subnet, e.g. 172.28.0.0/16
                # token: my-cluster-token      # generated when not set
                ports: []
                #  - port: 8080:80             # [HOST:][HOSTPORT:]NODEPORT[/tcp|udp]
                #    nodeFilters:
                #      - loadbalancer          # through the load balancer to every server and agent
                volumes: []
                #  - volume: /home/me/code:/code   # SRC:DEST[:ro|rw]; SRC must exist
                #    nodeFilters:
                #      - agent:*
                env: []
                #  - envVar: HTTP_PROXY=http://proxy:3128
                #    nodeFilters:
                #      - all
                options:
                  k3d:
                    wait: true                 # wait until every node is Ready
                    timeout: "0s"              # give up (and roll back) after this long; 0s = no limit
                    disableLoadbalancer: false
                    disableRollback: false
                  k3s:
                    extraArgs: []
                    #  - arg: --tls-san=my.host.domain
                    #    nodeFilters:
                    #      - server:*
                    nodeLabels: []
                    #  - label: tier=frontend
                    #    nodeFilters:
                    #      - agent:0
                  kubeconfig:
                    updateDefaultKubeconfig: true  # merge the cluster into $KUBECONFIG or ~/.kube/config
                    switchCurrentContext: true     # and make it the current context
                """;
    }

    /**
     * Replaces {@code $NAME} and {@code ${NAME}} with values from {@code env} (unset: empty, as Go's os.ExpandEnv that
     * k3d uses); {@code $$} gives a literal {@code $}; a {@code $} not followed by a name is kept.
     */
    public static String expandEnv(String text, Map<String, String> env) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '$' || i + 1 >= text.length()) {
                out.append(c);
                continue;
            }
            char n = text.charAt(i + 1);
            if (n == '$') {
                out.append('$');
                i++;
            } else if (n == '{') {
                int close = text.indexOf('}', i + 2);
                String name = close < 0 ? "" : text.substring(i + 2, close);
                if (close < 0 || !isName(name)) {
                    out.append(c);
                    continue;
                }
                out.append(env.getOrDefault(name, ""));
                i = close;
            } else if (n == '_' || Character.isLetter(n)) {
                int end = i + 1;
                while (end < text.length() && (text.charAt(end) == '_' || Character.isLetterOrDigit(text.charAt(end)))) end++;
                out.append(env.getOrDefault(text.substring(i + 1, end), ""));
                i = end - 1;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isName(String s) {
        if (s.isEmpty() || !(s.charAt(0) == '_' || Character.isLetter(s.charAt(0)))) return false;
        for (int i = 1; i < s.length(); i++) if (!(s.charAt(i) == '_' || Character.isLetterOrDigit(s.charAt(i)))) return false;
        return true;
    }

    private record Parsed(String version, Map_ root) {
    }

    // Parses, checks apiVersion/kind and the version's schema, and migrates to the v1alpha5 shape.
    private static Parsed validated(String text, String source, List<String> problems) {
        Node root;
        try {
            root = YamlTree.parse(text);
        } catch (YamlTree.SyntaxException e) {
            throw new ConfigException(source, List.of(e.getMessage()));
        }
        if (!(root instanceof Map_ m)) throw new ConfigException(source, List.of("line " + root.line() + ": expected fields such as apiVersion, kind, servers"));
        String version = m.get("apiVersion") instanceof Scalar s ? s.text() : null;
        if (version == null) throw new ConfigException(source, List.of("missing field 'apiVersion' (expected " + V1ALPHA5 + " or " + K3J_V1ALPHA1 + ")"));
        Schema.Obj schema = SCHEMAS.get(version);
        if (schema == null) {
            throw new ConfigException(source, List.of("apiVersion at line " + m.get("apiVersion").line() + ": '" + version
                    + "' is not supported (expected k3d.io/v1alpha2, v1alpha3, v1alpha4, v1alpha5 or " + K3J_V1ALPHA1 + ")"));
        }
        Node kind = m.get("kind");
        if (kind instanceof Scalar k && k.text() != null && !k.text().equals("Simple")) {
            throw new ConfigException(source, List.of("kind at line " + k.line() + ": '" + k.text() + "' is not supported (expected Simple)"));
        }
        schema.check(m, "", problems);
        if (!problems.isEmpty()) throw new ConfigException(source, problems);
        Migrations.toV1alpha5(m, version);
        return new Parsed(version, m);
    }

    /** Reads the v1alpha5-shaped tree into {@link ClusterOptions}, checking each value where it stands. */
    private static final class Extractor {
        private final Path base;
        private final List<String> problems;
        private final List<String> warnings;

        Extractor(Path base, List<String> problems, List<String> warnings) {
            this.base = base;
            this.problems = problems;
            this.warnings = warnings;
        }

        ClusterOptions extract(Map_ root) {
            ClusterOptions.Builder b = ClusterOptions.builder();
            Map_ md = map(root, "metadata");
            Scalar name = scalar(md, "name");
            if (name != null) value("metadata.name", name, v -> b.nameUnchecked(ClusterSpecs.validateName(v)));
            Scalar servers = scalar(root, "servers");
            if (servers != null) b.servers(Integer.parseInt(servers.text()));
            Scalar agents = scalar(root, "agents");
            if (agents != null) b.agents(Integer.parseInt(agents.text()));
            Map_ api = map(root, "kubeAPI");
            Scalar hostIp = scalar(api, "hostIP");
            Scalar host = scalar(api, "host");
            Scalar hostPort = scalar(api, "hostPort");
            String apiHost = hostIp != null ? hostIp.text() : host != null ? host.text() : null;
            Scalar apiNode = hostIp != null ? hostIp : host;
            if (apiHost != null || hostPort != null) {
                String port = hostPort == null ? "random" : hostPort.text();
                Scalar at = hostPort != null ? hostPort : apiNode;
                value(hostPort != null ? "kubeAPI.hostPort" : hostIp != null ? "kubeAPI.hostIP" : "kubeAPI.host", at, x -> {
                    ClusterSpecs.HostPort hp = ClusterSpecs.parseApiPort((apiHost == null ? "" : apiHost + ":") + port);
                    b.apiHost(apiHost == null ? null : hp.host()).apiPortNumber(hp.port());
                });
            }
            Scalar subnet = scalar(root, "subnet");
            if (subnet != null) value("subnet", subnet, v -> b.subnetParsed(ClusterSpecs.parseSubnet(v)));
            Scalar token = scalar(root, "token");
            if (token == null) token = scalar(root, "clusterToken"); // what k3d's own migrate writes
            if (token != null) b.token(token.text());
            each(root, "volumes", (item, path) -> {
                Scalar v = scalar(item, "volume");
                if (v == null) problems.add(path + " at line " + item.line() + ": missing field 'volume'");
                else value(path + ".volume", v, s -> b.volume(VolumeMount.parse(s, s, filters(item, path), base)));
            });
            each(root, "ports", (item, path) -> {
                Scalar p = scalar(item, "port");
                if (p == null) problems.add(path + " at line " + item.line() + ": missing field 'port'");
                else value(path + ".port", p, s -> b.port(PortMapping.parse(s, s, filters(item, path))));
                Scalar removal = scalar(item, "removal");
                if (removal != null && "true".equals(removal.text())) ignored(path + ".removal", removal, "only k3d cluster edit uses it");
            });
            each(root, "env", (item, path) -> {
                Scalar e = scalar(item, "envVar");
                if (e == null) problems.add(path + " at line " + item.line() + ": missing field 'envVar'");
                else value(path + ".envVar", e, s -> b.env(NodeSetting.env(s, s, filters(item, path))));
            });
            Map_ options = map(root, "options");
            Map_ k3d = map(options, "k3d");
            bool(k3d, "wait", b::waitForReady);
            Scalar timeout = scalar(k3d, "timeout");
            if (timeout != null) {
                value("options.k3d.timeout", timeout, v -> b.timeout(timeout.kind() == Kind.INT
                        ? Duration.ofNanos(new BigInteger(v).longValueExact()) : ClusterSpecs.parseDuration(v)));
            }
            bool(k3d, "disableLoadbalancer", v -> b.loadBalancer(!v));
            bool(k3d, "disableRollback", v -> b.rollback(!v));
            Map_ k3s = map(options, "k3s");
            each(k3s, "extraArgs", (item, path) -> {
                Scalar a = scalar(item, "arg");
                if (a == null) problems.add("options.k3s." + path + " at line " + item.line() + ": missing field 'arg'");
                else value("options.k3s." + path + ".arg", a, s -> b.arg(NodeSetting.arg(s, s, filters(item, "options.k3s." + path))));
            });
            each(k3s, "nodeLabels", (item, path) -> {
                Scalar l = scalar(item, "label");
                if (l == null) problems.add("options.k3s." + path + " at line " + item.line() + ": missing field 'label'");
                else value("options.k3s." + path + ".label", l, s -> b.nodeLabel(NodeSetting.label(s, s, filters(item, "options.k3s." + path))));
            });
            Map_ kc = map(options, "kubeconfig");
            bool(kc, "updateDefaultKubeconfig", b::updateDefaultKubeconfig);
            bool(kc, "switchCurrentContext", b::switchContext);
            ignoredSettings(root, options, k3d);
            return b.build();
        }

        // Settings k3d has for Docker that mean nothing without it: accepted (files k3d wrote must load), reported.
        private void ignoredSettings(Map_ root, Map_ options, Map_ k3d) {
            String noImages = "k3j nodes are processes, not containers";
            nonEmpty(root, "image", "image", noImages);
            nonEmpty(root, "network", "network", "k3j makes its own bridge per cluster");
            nonEmpty(root, "registries", "registries", "k3j nodes pull images themselves");
            nonEmpty(root, "hostAliases", "hostAliases", noImages);
            nonEmpty(root, "files", "files", "use a volume instead");
            nonEmpty(options, "runtime", "options.runtime", noImages);
            nonEmpty(k3d, "loadbalancer", "options.k3d.loadbalancer", "k3j's load balancer is not nginx");
            nonEmpty(k3d, "nodeHookActions", "options.k3d.nodeHookActions", noImages);
            Scalar div = scalar(k3d, "disableImageVolume");
            if (div != null && "true".equals(div.text())) ignored("options.k3d.disableImageVolume", div, noImages);
        }

        private void nonEmpty(Map_ parent, String key, String path, String why) {
            if (parent == null) return;
            Node n = parent.get(key);
            if (n == null || isEmpty(n)) return;
            ignored(path, n, why);
        }

        private static boolean isEmpty(Node n) {
            return switch (n) {
                case Scalar s -> s.kind() == Kind.NULL || s.text().isEmpty() || s.kind() == Kind.BOOL && s.text().equals("false");
                case List_ l -> l.items().isEmpty();
                case Map_ m -> m.fields().values().stream().allMatch(e -> isEmpty(e.value()));
            };
        }

        private void ignored(String path, Node n, String why) {
            warnings.add(path + " at line " + n.line() + " is ignored (" + why + ")");
        }

        private interface ItemReader {
            void read(Map_ item, String path);
        }

        private void each(Map_ parent, String key, ItemReader reader) {
            if (parent == null || !(parent.get(key) instanceof List_ l)) return;
            for (int i = 0; i < l.items().size(); i++) {
                String path = key + "[" + i + "]";
                if (l.items().get(i) instanceof Map_ m) reader.read(m, path);
            }
        }

        private List<NodeFilter> filters(Map_ item, String path) {
            List<NodeFilter> out = new ArrayList<>();
            if (!(item.get("nodeFilters") instanceof List_ l)) return out;
            for (int i = 0; i < l.items().size(); i++) {
                Node f = l.items().get(i);
                if (!(f instanceof Scalar s) || s.text() == null) continue;
                try {
                    out.addAll(NodeFilter.parseAll(s.text()));
                } catch (IllegalArgumentException e) {
                    // reported here with the filter's own line; the entry itself is then skipped
                    throw new LinedException(path + ".nodeFilters[" + i + "] at line " + s.line() + ": " + e.getMessage());
                }
            }
            return out;
        }

        private void value(String path, Scalar s, java.util.function.Consumer<String> use) {
            try {
                use.accept(s.text() == null ? "" : s.text());
            } catch (LinedException e) {
                problems.add(e.getMessage());
            } catch (IllegalArgumentException | ArithmeticException e) {
                problems.add(path + " at line " + s.line() + ": " + e.getMessage());
            }
        }

        private void bool(Map_ parent, String key, java.util.function.Consumer<Boolean> use) {
            Scalar s = scalar(parent, key);
            if (s != null) use.accept(Boolean.parseBoolean(s.text()));
        }

        private static Map_ map(Map_ parent, String key) {
            return parent != null && parent.get(key) instanceof Map_ m ? m : null;
        }

        private static Scalar scalar(Map_ parent, String key) {
            return parent != null && parent.get(key) instanceof Scalar s && s.kind() != Kind.NULL ? s : null;
        }
    }

    /** A problem message that already carries its path and line. */
    private static final class LinedException extends IllegalArgumentException {
        LinedException(String message) {
            super(message);
        }
    }
}
