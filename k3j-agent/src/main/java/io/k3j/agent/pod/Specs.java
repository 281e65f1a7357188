package io.k3j.agent.pod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.cri.v1.Capability;
import io.k3j.agent.cri.v1.ContainerConfig;
import io.k3j.agent.cri.v1.ContainerMetadata;
import io.k3j.agent.cri.v1.DNSConfig;
import io.k3j.agent.cri.v1.ImageSpec;
import io.k3j.agent.cri.v1.Int64Value;
import io.k3j.agent.cri.v1.KeyValue;
import io.k3j.agent.cri.v1.LinuxContainerConfig;
import io.k3j.agent.cri.v1.LinuxContainerResources;
import io.k3j.agent.cri.v1.LinuxContainerSecurityContext;
import io.k3j.agent.cri.v1.LinuxPodSandboxConfig;
import io.k3j.agent.cri.v1.LinuxSandboxSecurityContext;
import io.k3j.agent.cri.v1.Mount;
import io.k3j.agent.cri.v1.MountPropagation;
import io.k3j.agent.cri.v1.NamespaceMode;
import io.k3j.agent.cri.v1.NamespaceOption;
import io.k3j.agent.cri.v1.PodSandboxConfig;
import io.k3j.agent.cri.v1.PodSandboxMetadata;
import io.k3j.agent.cri.v1.PortMapping;
import io.k3j.agent.cri.v1.Protocol;
import io.k3j.agent.cri.v1.SecurityProfile;
import io.k3j.api.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/** Pod and container specs turned into CRI configs, as kubelet's kuberuntime does (sandbox, container, DNS, hosts). */
final class Specs {
    static final String POD_NAME = "io.kubernetes.pod.name";
    static final String POD_NAMESPACE = "io.kubernetes.pod.namespace";
    static final String POD_UID = "io.kubernetes.pod.uid";
    static final String CONTAINER_NAME = "io.kubernetes.container.name";
    static final String CONTAINER_HASH = "io.kubernetes.container.hash";
    static final String RESTART_COUNT = "io.kubernetes.container.restartCount";
    static final String TERMINATION_PATH = "io.kubernetes.container.terminationMessagePath";
    static final String TERMINATION_POLICY = "io.kubernetes.container.terminationMessagePolicy";
    static final String GRACE = "io.kubernetes.pod.terminationGracePeriod";
    static final String INIT = "io.k3j.container.init";
    static final String TERMINATION_HOST_FILE = "io.k3j.container.terminationMessageFile";

    private static final List<String> MASKED = List.of("/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap");
    private static final List<String> READ_ONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");
    private static final int MAX_SEARCHES = 32;

    private final PodConfig config;

    Specs(PodConfig config) {
        this.config = config;
    }

    static boolean hostNetwork(JsonNode pod) {
        return pod.path("spec").path("hostNetwork").asBoolean(false);
    }

    PodSandboxConfig sandbox(ObjectNode pod, int attempt) {
        JsonNode meta = pod.path("metadata");
        JsonNode spec = pod.path("spec");
        String ns = meta.path("namespace").asText();
        String name = meta.path("name").asText();
        String uid = meta.path("uid").asText();
        PodSandboxConfig.Builder b = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace(ns).setUid(uid).setAttempt(attempt))
                .setHostname(hostname(pod))
                .setLogDirectory(config.logDir(ns, name, uid).toString())
                .setDnsConfig(dns(pod));
        meta.path("labels").fields().forEachRemaining(e -> b.putLabels(e.getKey(), e.getValue().asText()));
        b.putLabels(POD_NAME, name).putLabels(POD_NAMESPACE, ns).putLabels(POD_UID, uid);
        meta.path("annotations").fields().forEachRemaining(e -> b.putAnnotations(e.getKey(), e.getValue().asText()));
        for (JsonNode c : spec.path("containers")) {
            for (JsonNode p : c.path("ports")) {
                int hostPort = p.path("hostPort").asInt(0);
                if (hostPort <= 0) continue;
                b.addPortMappings(PortMapping.newBuilder().setProtocol(protocol(p.path("protocol").asText("TCP")))
                        .setContainerPort(p.path("containerPort").asInt()).setHostPort(hostPort).setHostIp(p.path("hostIP").asText("")));
            }
        }
        JsonNode psc = spec.path("securityContext");
        LinuxSandboxSecurityContext.Builder sc = LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(namespaces(pod));
        if (psc.has("runAsUser")) sc.setRunAsUser(Int64Value.newBuilder().setValue(psc.path("runAsUser").asLong()));
        if (psc.has("runAsGroup")) sc.setRunAsGroup(Int64Value.newBuilder().setValue(psc.path("runAsGroup").asLong()));
        for (JsonNode g : psc.path("supplementalGroups")) sc.addSupplementalGroups(g.asLong());
        if (psc.has("fsGroup")) sc.addSupplementalGroups(psc.path("fsGroup").asLong());
        boolean privileged = false;
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode c : spec.path(list)) privileged |= c.path("securityContext").path("privileged").asBoolean(false);
        }
        sc.setPrivileged(privileged);
        sc.setSeccomp(seccomp(psc.path("seccompProfile"), null));
        LinuxPodSandboxConfig.Builder linux = LinuxPodSandboxConfig.newBuilder()
                .setCgroupParent(Resources.cgroupParent(config.cgroupRoot(), Resources.qosClass(pod), uid)).setSecurityContext(sc);
        for (JsonNode s : psc.path("sysctls")) linux.putSysctls(s.path("name").asText(), s.path("value").asText());
        b.setLinux(linux);
        return b.build();
    }

    private static Protocol protocol(String p) {
        return switch (p) {
            case "UDP" -> Protocol.UDP;
            case "SCTP" -> Protocol.SCTP;
            default -> Protocol.TCP;
        };
    }

    private static NamespaceOption namespaces(JsonNode pod) {
        JsonNode spec = pod.path("spec");
        return NamespaceOption.newBuilder()
                .setNetwork(spec.path("hostNetwork").asBoolean(false) ? NamespaceMode.NODE : NamespaceMode.POD)
                .setPid(spec.path("hostPID").asBoolean(false) ? NamespaceMode.NODE
                        : spec.path("shareProcessNamespace").asBoolean(false) ? NamespaceMode.POD : NamespaceMode.CONTAINER)
                .setIpc(spec.path("hostIPC").asBoolean(false) ? NamespaceMode.NODE : NamespaceMode.POD)
                .build();
    }

    String hostname(JsonNode pod) {
        if (hostNetwork(pod)) {
            // the kernel's hostname, not InetAddress.getLocalHost(), which may ask DNS
            try {
                return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            } catch (IOException e) {
                return config.nodeName();
            }
        }
        String h = pod.path("spec").path("hostname").asText("");
        if (h.isEmpty()) h = pod.path("metadata").path("name").asText();
        if (h.length() > 63) h = h.substring(0, 63);
        while (h.endsWith("-") || h.endsWith(".")) h = h.substring(0, h.length() - 1);
        return h;
    }

    /** resolv.conf for the pod by dnsPolicy (pkg/kubelet/network/dns). */
    DNSConfig dns(JsonNode pod) {
        JsonNode spec = pod.path("spec");
        String policy = spec.path("dnsPolicy").asText("ClusterFirst");
        boolean host = hostNetwork(pod);
        LinkedHashSet<String> servers = new LinkedHashSet<>();
        LinkedHashSet<String> searches = new LinkedHashSet<>();
        Map<String, String> options = new LinkedHashMap<>();
        HostResolv hr = HostResolv.read(config.hostResolvConf());
        boolean cluster = policy.equals("ClusterFirstWithHostNet") || policy.equals("ClusterFirst") && !host;
        if (cluster && config.clusterDns().isEmpty()) cluster = false;
        if (policy.equals("None")) {
            // only dnsConfig below
        } else if (cluster) {
            String ns = pod.path("metadata").path("namespace").asText();
            String d = config.clusterDomain();
            servers.addAll(config.clusterDns());
            searches.add(ns + ".svc." + d);
            searches.add("svc." + d);
            searches.add(d);
            searches.addAll(hr.searches);
            options.put("ndots", "5");
        } else {
            servers.addAll(hr.servers);
            searches.addAll(hr.searches);
            hr.options.forEach(options::put);
        }
        JsonNode dc = spec.path("dnsConfig");
        for (JsonNode s : dc.path("nameservers")) servers.add(s.asText());
        for (JsonNode s : dc.path("searches")) searches.add(s.asText());
        for (JsonNode o : dc.path("options")) options.put(o.path("name").asText(), o.has("value") ? o.path("value").asText() : null);
        DNSConfig.Builder b = DNSConfig.newBuilder().addAllServers(new ArrayList<>(servers).subList(0, Math.min(3, servers.size())));
        List<String> s = new ArrayList<>(searches);
        b.addAllSearches(s.subList(0, Math.min(MAX_SEARCHES, s.size())));
        options.forEach((k, v) -> b.addOptions(v == null ? k : k + ":" + v));
        return b.build();
    }

    /** The host's resolv.conf, read for dnsPolicy Default. */
    record HostResolv(List<String> servers, List<String> searches, Map<String, String> options) {
        static HostResolv read(Path file) {
            List<String> servers = new ArrayList<>();
            List<String> searches = new ArrayList<>();
            Map<String, String> options = new LinkedHashMap<>();
            try {
                if (file != null && Files.exists(file)) {
                    for (String line : Files.readAllLines(file)) {
                        String[] f = line.trim().split("\\s+");
                        if (f.length < 2 || f[0].startsWith("#") || f[0].startsWith(";")) continue;
                        switch (f[0]) {
                            case "nameserver" -> servers.add(f[1]);
                            case "search", "domain" -> {
                                searches.clear();
                                for (int i = 1; i < f.length; i++) searches.add(f[i]);
                            }
                            case "options" -> {
                                for (int i = 1; i < f.length; i++) {
                                    int c = f[i].indexOf(':');
                                    options.put(c < 0 ? f[i] : f[i].substring(0, c), c < 0 ? null : f[i].substring(c + 1));
                                }
                            }
                            default -> { }
                        }
                    }
                }
            } catch (IOException e) {
                // no host resolv.conf: an empty one
            }
            return new HostResolv(servers, searches, options);
        }
    }

    /** Writes the pod's managed /etc/hosts (kubelet's etc-hosts) and returns its path. */
    Path writeHosts(ObjectNode pod, String podIP) throws IOException {
        Path dir = config.podDir(pod.path("metadata").path("uid").asText());
        Files.createDirectories(dir);
        StringBuilder b = new StringBuilder("# Kubernetes-managed hosts file.\n");
        b.append("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\n")
                .append("fe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n");
        if (podIP != null && !podIP.isEmpty()) {
            String h = hostname(pod);
            String sub = pod.path("spec").path("subdomain").asText("");
            if (!sub.isEmpty()) {
                b.append(podIP).append('\t').append(h).append('.').append(sub).append('.').append(pod.path("metadata").path("namespace").asText())
                        .append(".svc.").append(config.clusterDomain()).append('\t').append(h).append('\n');
            } else {
                b.append(podIP).append('\t').append(h).append('\n');
            }
        }
        JsonNode aliases = pod.path("spec").path("hostAliases");
        if (aliases.size() > 0) {
            b.append("\n# Entries added by HostAliases.\n");
            for (JsonNode a : aliases) {
                b.append(a.path("ip").asText());
                for (JsonNode h : a.path("hostnames")) b.append('\t').append(h.asText());
                b.append('\n');
            }
        }
        Path f = dir.resolve("etc-hosts");
        Path tmp = dir.resolve(".etc-hosts.tmp");
        Files.writeString(tmp, b, StandardCharsets.UTF_8);
        Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return f;
    }

    /** The host file bound to the container's terminationMessagePath (created empty, writable by any user). */
    Path terminationFile(String uid, String container, int restartCount) throws IOException {
        Path dir = config.podDir(uid).resolve("containers").resolve(container);
        Files.createDirectories(dir);
        Path f = dir.resolve(Long.toHexString(Double.doubleToLongBits(Math.random())) + "-" + restartCount);
        Files.createFile(f);
        try {
            Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
        } catch (UnsupportedOperationException e) {
            // not POSIX: nothing to relax
        }
        return f;
    }

    /**
     * A hash of the container's spec that does not depend on field order (the offline cache and the server may
     * order fields differently): a change means the container must be replaced.
     */
    static String hash(JsonNode container) {
        StringBuilder b = new StringBuilder();
        canonical(container, b);
        long h = 1125899906842597L;
        for (int i = 0; i < b.length(); i++) h = 31 * h + b.charAt(i);
        return Long.toHexString(h);
    }

    private static void canonical(JsonNode n, StringBuilder b) {
        if (n.isObject()) {
            List<String> names = new ArrayList<>();
            n.fieldNames().forEachRemaining(names::add);
            java.util.Collections.sort(names);
            b.append('{');
            for (String k : names) {
                b.append(k).append(':');
                canonical(n.get(k), b);
                b.append(',');
            }
            b.append('}');
        } else if (n.isArray()) {
            b.append('[');
            for (JsonNode e : n) {
                canonical(e, b);
                b.append(',');
            }
            b.append(']');
        } else {
            b.append(n.toString());
        }
    }

    /** The CRI config of one (init or app) container at {@code restartCount}. */
    ContainerConfig container(ObjectNode pod, JsonNode c, boolean init, int restartCount, List<PodVolumes.Env> env, List<PodVolumes.Mount> mounts,
                              Path hosts, Path terminationFile) {
        JsonNode meta = pod.path("metadata");
        String name = c.path("name").asText();
        Map<String, String> envMap = new LinkedHashMap<>();
        for (PodVolumes.Env e : env) envMap.put(e.name(), e.value());
        ContainerConfig.Builder b = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name).setAttempt(restartCount))
                .setImage(ImageSpec.newBuilder().setImage(c.path("image").asText()).setUserSpecifiedImage(c.path("image").asText()))
                .setWorkingDir(c.path("workingDir").asText(""))
                .setLogPath(name + "/" + restartCount + ".log")
                .setStdin(c.path("stdin").asBoolean(false)).setStdinOnce(c.path("stdinOnce").asBoolean(false)).setTty(c.path("tty").asBoolean(false));
        for (JsonNode a : c.path("command")) b.addCommand(PodVolumes.expand(a.asText(), envMap));
        for (JsonNode a : c.path("args")) b.addArgs(PodVolumes.expand(a.asText(), envMap));
        for (PodVolumes.Env e : env) b.addEnvs(KeyValue.newBuilder().setKey(e.name()).setValue(e.value()));
        for (PodVolumes.Mount m : mounts) {
            b.addMounts(Mount.newBuilder().setContainerPath(m.containerPath()).setHostPath(m.hostPath()).setReadonly(m.readOnly())
                    .setPropagation(switch (m.propagation() == null ? "None" : m.propagation()) {
                        case "HostToContainer" -> MountPropagation.PROPAGATION_HOST_TO_CONTAINER;
                        case "Bidirectional" -> MountPropagation.PROPAGATION_BIDIRECTIONAL;
                        default -> MountPropagation.PROPAGATION_PRIVATE;
                    }));
        }
        if (hosts != null) b.addMounts(Mount.newBuilder().setContainerPath("/etc/hosts").setHostPath(hosts.toString()));
        String tmPath = c.path("terminationMessagePath").asText("/dev/termination-log");
        if (terminationFile != null && !tmPath.isEmpty()) {
            b.addMounts(Mount.newBuilder().setContainerPath(tmPath).setHostPath(terminationFile.toString()));
        }
        b.putLabels(CONTAINER_NAME, name).putLabels(POD_NAME, meta.path("name").asText()).putLabels(POD_NAMESPACE, meta.path("namespace").asText())
                .putLabels(POD_UID, meta.path("uid").asText());
        b.putAnnotations(CONTAINER_HASH, hash(c)).putAnnotations(RESTART_COUNT, Integer.toString(restartCount))
                .putAnnotations(TERMINATION_PATH, tmPath)
                .putAnnotations(TERMINATION_POLICY, c.path("terminationMessagePolicy").asText("File"))
                .putAnnotations(GRACE, Long.toString(pod.path("spec").path("terminationGracePeriodSeconds").asLong(30)));
        if (terminationFile != null) b.putAnnotations(TERMINATION_HOST_FILE, terminationFile.toString());
        if (init) b.putAnnotations(INIT, "true");
        b.setLinux(linux(pod, c));
        return b.build();
    }

    private LinuxContainerConfig linux(ObjectNode pod, JsonNode c) {
        String qos = Resources.qosClass(pod);
        LinuxContainerResources.Builder r = LinuxContainerResources.newBuilder()
                .setCpuShares(Resources.cpuShares(c))
                .setOomScoreAdj(Resources.oomScoreAdj(qos, c, config.nodeMemoryBytes()));
        long quota = Resources.cpuQuota(c);
        if (quota > 0) r.setCpuQuota(quota).setCpuPeriod(Resources.cpuPeriod());
        long mem = Resources.memoryLimit(c);
        if (mem > 0) r.setMemoryLimitInBytes(mem);
        JsonNode psc = pod.path("spec").path("securityContext");
        JsonNode sc = c.path("securityContext");
        LinuxContainerSecurityContext.Builder s = LinuxContainerSecurityContext.newBuilder().setNamespaceOptions(namespaces(pod));
        boolean privileged = sc.path("privileged").asBoolean(false);
        s.setPrivileged(privileged);
        JsonNode user = sc.has("runAsUser") ? sc.get("runAsUser") : psc.get("runAsUser");
        if (user != null && !user.isNull()) s.setRunAsUser(Int64Value.newBuilder().setValue(user.asLong()));
        JsonNode group = sc.has("runAsGroup") ? sc.get("runAsGroup") : psc.get("runAsGroup");
        if (group != null && !group.isNull()) s.setRunAsGroup(Int64Value.newBuilder().setValue(group.asLong()));
        for (JsonNode g : psc.path("supplementalGroups")) s.addSupplementalGroups(g.asLong());
        if (psc.has("fsGroup")) s.addSupplementalGroups(psc.path("fsGroup").asLong());
        s.setReadonlyRootfs(sc.path("readOnlyRootFilesystem").asBoolean(false));
        if (sc.has("capabilities")) {
            Capability.Builder cap = Capability.newBuilder();
            for (JsonNode a : sc.path("capabilities").path("add")) cap.addAddCapabilities(a.asText());
            for (JsonNode d : sc.path("capabilities").path("drop")) cap.addDropCapabilities(d.asText());
            s.setCapabilities(cap);
        }
        if (sc.has("allowPrivilegeEscalation")) s.setNoNewPrivs(!sc.path("allowPrivilegeEscalation").asBoolean(true));
        s.setSeccomp(seccomp(sc.path("seccompProfile"), psc.path("seccompProfile")));
        if (!privileged && !sc.path("procMount").asText("Default").equals("Unmasked")) {
            s.addAllMaskedPaths(MASKED).addAllReadonlyPaths(READ_ONLY);
        }
        return LinuxContainerConfig.newBuilder().setResources(r).setSecurityContext(s).build();
    }

    /** The seccomp profile of a container (its own, else the pod's; kubelet's default is Unconfined). */
    private static SecurityProfile seccomp(JsonNode own, JsonNode pod) {
        JsonNode p = own != null && own.has("type") ? own : pod;
        String type = p == null ? "" : p.path("type").asText("");
        return switch (type) {
            case "RuntimeDefault" -> SecurityProfile.newBuilder().setProfileType(SecurityProfile.ProfileType.RuntimeDefault).build();
            case "Localhost" -> SecurityProfile.newBuilder().setProfileType(SecurityProfile.ProfileType.Localhost)
                    .setLocalhostRef(p.path("localhostProfile").asText()).build();
            default -> SecurityProfile.newBuilder().setProfileType(SecurityProfile.ProfileType.Unconfined).build();
        };
    }
}
