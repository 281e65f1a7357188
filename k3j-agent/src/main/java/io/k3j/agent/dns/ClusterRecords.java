package io.k3j.agent.dns;

import static io.k3j.agent.dns.DnsMessage.A;
import static io.k3j.agent.dns.DnsMessage.AAAA;
import static io.k3j.agent.dns.DnsMessage.ANY;
import static io.k3j.agent.dns.DnsMessage.CNAME;
import static io.k3j.agent.dns.DnsMessage.NS;
import static io.k3j.agent.dns.DnsMessage.NXDOMAIN;
import static io.k3j.agent.dns.DnsMessage.PTR;
import static io.k3j.agent.dns.DnsMessage.SOA;
import static io.k3j.agent.dns.DnsMessage.SRV;
import static io.k3j.agent.dns.DnsMessage.TXT;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.k3j.agent.dns.DnsMessage.Address;
import io.k3j.agent.dns.DnsMessage.Name;
import io.k3j.agent.dns.DnsMessage.Rr;
import io.k3j.agent.dns.DnsMessage.Soa;
import io.k3j.agent.dns.DnsMessage.Srv;
import io.k3j.agent.dns.DnsMessage.Txt;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cluster's names, kept from Services, EndpointSlices and Nodes, and the answers to questions about them: the
 * Kubernetes DNS specification (github.com/kubernetes/dns, docs/specification.md) as CoreDNS's kubernetes plugin
 * serves it with k3s's Corefile ({@code pods insecure}, {@code fallthrough in-addr.arpa ip6.arpa}, NodeHosts).
 *
 * <p>Writers (the informers' threads) recompute one immutable {@link Service} per change under a lock; readers (the
 * servers' threads) look names up without locking.
 */
final class ClusterRecords {
    /** The DNS schema version CoreDNS publishes at {@code dns-version.<zone>} (spec section 2.2). */
    static final String SCHEMA_VERSION = "1.1.0";
    /** k3s's NodeHosts are served by CoreDNS's hosts plugin with {@code ttl 60}. */
    static final long NODE_TTL = 60;

    /** What became of a question. */
    enum Outcome {
        /** The reply holds the answer (or the negative answer). */
        ANSWERED,
        /** Not a cluster name: ask the upstream resolvers. */
        FORWARD,
        /** The reply ends with a CNAME to a name outside the cluster whose records must come from upstream. */
        CHASE
    }

    private final String zone;
    private final String zoneSuffix;
    private final long ttl;
    private final Map<String, Service> services = new ConcurrentHashMap<>();
    private final Map<String, Integer> namespaces = new ConcurrentHashMap<>();
    private final Map<String, List<InetAddress>> nodes = new ConcurrentHashMap<>();
    /** Writers only (under {@code this}): the raw objects a Service's records are computed from. */
    private final Map<String, ObjectNode> serviceObjects = new HashMap<>();
    private final Map<String, Map<String, ObjectNode>> slicesByService = new HashMap<>();
    private final Map<String, String> sliceOwner = new HashMap<>();
    /** Built on the first reverse query after a change. */
    private volatile Map<InetAddress, List<String>> reverse;
    private volatile long serial = System.currentTimeMillis() / 1000;

    ClusterRecords(String zone, long ttl) {
        this.zone = DnsMessage.lower(zone.endsWith(".") ? zone.substring(0, zone.length() - 1) : zone);
        this.zoneSuffix = "." + this.zone;
        this.ttl = ttl;
    }

    String zone() {
        return zone;
    }

    // ---- updates -----------------------------------------------------------------------------------------------

    synchronized void putService(ObjectNode svc) {
        String key = key(svc);
        ObjectNode old = serviceObjects.put(key, svc);
        if (old == null) namespaces.merge(namespace(svc), 1, Integer::sum);
        recompute(key);
    }

    synchronized void removeService(ObjectNode svc) {
        String key = key(svc);
        if (serviceObjects.remove(key) != null) namespaces.computeIfPresent(namespace(svc), (k, n) -> n == 1 ? null : n - 1);
        recompute(key);
    }

    synchronized void putSlice(ObjectNode slice) {
        String sliceKey = key(slice);
        String svcName = slice.path("metadata").path("labels").path("kubernetes.io/service-name").asText("");
        String owner = svcName.isEmpty() ? null : namespace(slice) + "/" + svcName;
        String previous = owner == null ? sliceOwner.remove(sliceKey) : sliceOwner.put(sliceKey, owner);
        if (previous != null && !previous.equals(owner)) dropSlice(previous, sliceKey);
        if (owner != null) {
            slicesByService.computeIfAbsent(owner, k -> new HashMap<>()).put(sliceKey, slice);
            recompute(owner);
        }
    }

    synchronized void removeSlice(ObjectNode slice) {
        String sliceKey = key(slice);
        String owner = sliceOwner.remove(sliceKey);
        if (owner != null) dropSlice(owner, sliceKey);
    }

    private void dropSlice(String owner, String sliceKey) {
        Map<String, ObjectNode> m = slicesByService.get(owner);
        if (m != null) {
            m.remove(sliceKey);
            if (m.isEmpty()) slicesByService.remove(owner);
        }
        recompute(owner);
    }

    void putNode(ObjectNode node) {
        List<InetAddress> addrs = new ArrayList<>();
        for (JsonNode a : node.path("status").path("addresses")) {
            if (!"InternalIP".equals(a.path("type").asText())) continue;
            InetAddress ip = Ips.parse(a.path("address").asText());
            if (ip != null && !addrs.contains(ip)) addrs.add(ip);
        }
        String name = DnsMessage.lower(node.path("metadata").path("name").asText());
        if (addrs.isEmpty()) nodes.remove(name);
        else nodes.put(name, List.copyOf(addrs));
        changed();
    }

    void removeNode(ObjectNode node) {
        nodes.remove(DnsMessage.lower(node.path("metadata").path("name").asText()));
        changed();
    }

    private void changed() {
        reverse = null;
        serial = Math.max(serial + 1, System.currentTimeMillis() / 1000);
    }

    private void recompute(String key) {
        ObjectNode svc = serviceObjects.get(key);
        if (svc == null) {
            services.remove(key);
        } else {
            Map<String, ObjectNode> slices = slicesByService.getOrDefault(key, Map.of());
            services.put(key, Service.of(svc, slices.values(), zone));
        }
        changed();
    }

    private static String key(ObjectNode o) {
        return namespace(o) + "/" + o.path("metadata").path("name").asText();
    }

    private static String namespace(ObjectNode o) {
        return o.path("metadata").path("namespace").asText();
    }

    /** The addresses of a Service (its clusterIPs), e.g. the kube-dns Service for the zone's NS record. */
    List<InetAddress> clusterIps(String namespace, String name) {
        Service s = services.get(namespace + "/" + name);
        return s == null ? List.of() : s.clusterIps;
    }

    // ---- the model ---------------------------------------------------------------------------------------------

    record Port(String name, String protocol, int port) {
    }

    /** A ready endpoint under its DNS label (hostname, or dashed IP), with its slice's ports. */
    record Endpoint(String label, String fqdn, List<InetAddress> addresses, List<Port> ports) {
    }

    /** One Service's records, immutable. */
    static final class Service {
        final String fqdn;
        final String externalName;
        final boolean headless;
        final List<InetAddress> clusterIps;
        final List<Port> ports;
        final List<Endpoint> endpoints;
        final Map<String, Endpoint> byLabel;

        private Service(String fqdn, String externalName, boolean headless, List<InetAddress> clusterIps, List<Port> ports,
                        List<Endpoint> endpoints) {
            this.fqdn = fqdn;
            this.externalName = externalName;
            this.headless = headless;
            this.clusterIps = clusterIps;
            this.ports = ports;
            this.endpoints = endpoints;
            Map<String, Endpoint> m = new HashMap<>();
            for (Endpoint e : endpoints) m.put(e.label(), e);
            this.byLabel = m;
        }

        static Service of(ObjectNode svc, Iterable<ObjectNode> slices, String zone) {
            JsonNode spec = svc.path("spec");
            String fqdn = DnsMessage.lower(svc.path("metadata").path("name").asText() + "." + namespace(svc) + ".svc." + zone);
            String type = spec.path("type").asText("ClusterIP");
            String external = "ExternalName".equals(type) ? stripDot(spec.path("externalName").asText("")) : null;
            List<InetAddress> ips = new ArrayList<>();
            boolean headless = false;
            if (external == null) {
                List<String> literal = new ArrayList<>();
                for (JsonNode ip : spec.path("clusterIPs")) literal.add(ip.asText());
                if (literal.isEmpty() && spec.has("clusterIP")) literal.add(spec.path("clusterIP").asText());
                headless = literal.contains("None");
                for (String s : literal) {
                    InetAddress a = Ips.parse(s);
                    if (a != null && !ips.contains(a)) ips.add(a);
                }
            }
            List<Port> ports = new ArrayList<>();
            for (JsonNode p : spec.path("ports")) {
                ports.add(new Port(DnsMessage.lower(p.path("name").asText("")), p.path("protocol").asText("TCP").toLowerCase(Locale.ROOT),
                        p.path("port").asInt()));
            }
            // endpoints by label: a dual-stack pod with a hostname is in an IPv4 and an IPv6 slice under one name
            Map<String, LinkedHashSet<InetAddress>> addrs = new LinkedHashMap<>();
            Map<String, LinkedHashSet<Port>> eports = new HashMap<>();
            for (ObjectNode slice : slices) {
                String addressType = slice.path("addressType").asText("IPv4");
                if (!addressType.equals("IPv4") && !addressType.equals("IPv6")) continue;
                List<Port> slicePorts = new ArrayList<>();
                for (JsonNode p : slice.path("ports")) {
                    if (p.path("port").isInt()) {
                        slicePorts.add(new Port(DnsMessage.lower(p.path("name").asText("")),
                                p.path("protocol").asText("TCP").toLowerCase(Locale.ROOT), p.path("port").asInt()));
                    }
                }
                for (JsonNode ep : slice.path("endpoints")) {
                    // ready unset means ready (discovery/v1); not-ready endpoints are not published (unless the
                    // Service publishes not-ready addresses, in which case the controller sets ready=true)
                    JsonNode ready = ep.path("conditions").path("ready");
                    if (ready.isBoolean() && !ready.asBoolean()) continue;
                    String hostname = DnsMessage.lower(ep.path("hostname").asText(""));
                    for (JsonNode a : ep.path("addresses")) {
                        InetAddress ip = Ips.parse(a.asText());
                        if (ip == null) continue;
                        String label = hostname.isEmpty() ? Ips.dashed(a.asText()) : hostname;
                        addrs.computeIfAbsent(label, k -> new LinkedHashSet<>()).add(ip);
                        eports.computeIfAbsent(label, k -> new LinkedHashSet<>()).addAll(slicePorts);
                    }
                }
            }
            List<Endpoint> endpoints = new ArrayList<>();
            addrs.forEach((label, set) -> endpoints.add(new Endpoint(label, label + "." + fqdn, List.copyOf(set), List.copyOf(eports.get(label)))));
            return new Service(fqdn, external, headless, List.copyOf(ips), List.copyOf(ports), List.copyOf(endpoints));
        }
    }

    private static String stripDot(String s) {
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    // ---- answers -----------------------------------------------------------------------------------------------

    /**
     * Answers the reply's (single) question into {@code reply}: records, rcode, AA, the SOA of negative answers.
     *
     * @param nameservers the addresses of {@code ns.dns.<zone>}, the zone's name server
     */
    Outcome answer(DnsMessage reply, List<InetAddress> nameservers) {
        DnsMessage.Question q = reply.questions.get(0);
        String name = DnsMessage.lower(q.name());
        int type = q.type();
        if (name.equals(zone) || name.endsWith(zoneSuffix)) {
            reply.aa = true;
            return inZone(reply, q.name(), name, type, nameservers, 0);
        }
        if (name.endsWith(".in-addr.arpa") || name.endsWith(".ip6.arpa")) {
            InetAddress ip = Ips.fromReverse(name);
            List<String> targets = ip == null ? null : reverse().get(ip);
            if (targets == null) return Outcome.FORWARD; // fallthrough in-addr.arpa ip6.arpa, as k3s configures
            reply.aa = true;
            if (type == PTR || type == ANY) {
                for (String t : targets) reply.answers.add(Rr.in(q.name(), ttl, new Name(PTR, t)));
            }
            return Outcome.ANSWERED;
        }
        List<InetAddress> node = nodes.get(name);
        if (node != null) {
            // CoreDNS's hosts plugin: authoritative for the names it has, NODATA for other types
            reply.aa = true;
            addAddresses(reply.answers, q.name(), node, type, NODE_TTL);
            return Outcome.ANSWERED;
        }
        return Outcome.FORWARD;
    }

    private Outcome inZone(DnsMessage reply, String owner, String name, int type, List<InetAddress> nameservers, int depth) {
        List<Rr> an = reply.answers;
        String rel = name.length() == zone.length() ? "" : name.substring(0, name.length() - zoneSuffix.length());
        if (rel.isEmpty()) {
            if (type == SOA || type == ANY) an.add(soa());
            if (type == NS || type == ANY) {
                an.add(Rr.in(owner, ttl, new Name(NS, "ns.dns." + zone)));
                addAddresses(reply.additional, "ns.dns." + zone, nameservers, ANY, ttl);
            }
            return negative(reply, false);
        }
        String[] l = rel.split("\\.", -1);
        int n = l.length;
        String top = l[n - 1];
        if (top.equals("dns-version") && n == 1) {
            if (type == TXT || type == ANY) an.add(Rr.in(owner, ttl, new Txt(List.of(SCHEMA_VERSION))));
            return negative(reply, false);
        }
        if (top.equals("dns")) {
            if (n == 1) return negative(reply, false);
            if (n == 2 && l[0].equals("ns")) {
                addAddresses(an, owner, nameservers, type, ttl);
                return negative(reply, false);
            }
            return negative(reply, true);
        }
        if (top.equals("pod")) {
            if (n <= 2) return negative(reply, false); // pod.<zone> and <ns>.pod.<zone> are empty non-terminals
            InetAddress ip = n == 3 ? Ips.fromDashed(l[0]) : null;
            if (ip == null) return negative(reply, true);
            addAddresses(an, owner, List.of(ip), type, ttl);
            return negative(reply, false);
        }
        if (!top.equals("svc")) return negative(reply, true);
        if (n == 1) return negative(reply, false);
        if (n == 2) return negative(reply, !namespaces.containsKey(l[0]));
        Service s = services.get(l[n - 2] + "/" + l[n - 3]);
        if (s == null) return negative(reply, true);
        if (n == 3) return service(reply, owner, s, type, nameservers, depth);
        if (n == 4) {
            if (l[0].startsWith("_")) {
                String proto = l[0].substring(1);
                boolean exists = s.ports.stream().anyMatch(p -> p.protocol().equals(proto) && !p.name().isEmpty());
                return negative(reply, !exists);
            }
            Endpoint e = s.byLabel.get(l[0]);
            if (e == null) return negative(reply, true);
            addAddresses(an, owner, e.addresses(), type, ttl);
            return negative(reply, false);
        }
        if (n == 5 && l[0].startsWith("_") && l[1].startsWith("_")) {
            String port = l[0].substring(1), proto = l[1].substring(1);
            boolean found = srv(reply, owner, s, port, proto, type == SRV || type == ANY);
            return negative(reply, !found);
        }
        return negative(reply, true);
    }

    /** Records of {@code <svc>.<ns>.svc.<zone>}. */
    private Outcome service(DnsMessage reply, String owner, Service s, int type, List<InetAddress> nameservers, int depth) {
        if (s.externalName != null) {
            if (s.externalName.isEmpty()) return negative(reply, false);
            reply.answers.add(Rr.in(owner, ttl, new Name(CNAME, s.externalName)));
            if (type == CNAME) return Outcome.ANSWERED;
            String target = DnsMessage.lower(s.externalName);
            if (target.equals(zone) || target.endsWith(zoneSuffix)) {
                // an in-cluster target is answered here, as a recursive resolver would; bounded against CNAME loops
                if (depth >= 8) return Outcome.ANSWERED;
                return inZone(reply, s.externalName, target, type, nameservers, depth + 1);
            }
            return Outcome.CHASE;
        }
        if (type == SRV || type == ANY) {
            for (Port p : s.ports) {
                if (!p.name().isEmpty()) srv(reply, owner, s, p.name(), p.protocol(), true);
            }
        }
        if (type != SRV) {
            if (!s.headless) {
                addAddresses(reply.answers, owner, s.clusterIps, type, ttl);
            } else {
                for (Endpoint e : s.endpoints) addAddresses(reply.answers, owner, e.addresses(), type, ttl);
            }
        }
        return negative(reply, false);
    }

    /** SRV records of one named port (targets and their addresses in the additional section); false if there's no such port. */
    private boolean srv(DnsMessage reply, String owner, Service s, String port, String proto, boolean add) {
        boolean found = false;
        if (!s.headless) {
            for (Port p : s.ports) {
                if (!p.name().equals(port) || !p.protocol().equals(proto)) continue;
                found = true;
                if (!add) continue;
                reply.answers.add(Rr.in(owner, ttl, new Srv(0, 100, p.port(), s.fqdn)));
                if (!containsOwner(reply.additional, s.fqdn)) addAddresses(reply.additional, s.fqdn, s.clusterIps, ANY, ttl);
            }
            return found;
        }
        found = s.ports.stream().anyMatch(p -> p.name().equals(port) && p.protocol().equals(proto));
        List<Rr> records = new ArrayList<>();
        for (Endpoint e : s.endpoints) {
            for (Port p : e.ports()) {
                if (!p.name().equals(port) || !p.protocol().equals(proto)) continue;
                found = true;
                records.add(Rr.in(owner, ttl, new Srv(0, 0, p.port(), e.fqdn())));
                if (add && !containsOwner(reply.additional, e.fqdn())) addAddresses(reply.additional, e.fqdn(), e.addresses(), ANY, ttl);
            }
        }
        if (add) {
            // equal weights that add up to about 100, as CoreDNS gives them
            int weight = records.isEmpty() ? 0 : Math.max(1, 100 / records.size());
            for (Rr r : records) {
                Srv v = (Srv) r.data();
                reply.answers.add(Rr.in(r.name(), ttl, new Srv(0, weight, v.port(), v.target())));
            }
        }
        return found;
    }

    private static boolean containsOwner(List<Rr> rrs, String name) {
        for (Rr r : rrs) {
            if (r.name().equals(name)) return true;
        }
        return false;
    }

    private static void addAddresses(List<Rr> out, String owner, List<InetAddress> addrs, int type, long ttl) {
        for (InetAddress a : addrs) {
            boolean v4 = a instanceof Inet4Address;
            if (type == ANY || type == A && v4 || type == AAAA && !v4) out.add(Rr.in(owner, ttl, new Address(a)));
        }
    }

    /**
     * Finishes an in-zone reply: NXDOMAIN when the (last) name doesn't exist, even after a CNAME (RFC 6604), and for
     * a reply without records of the asked type (NXDOMAIN or NODATA) the zone's SOA in the authority section, so
     * resolvers can cache the negative answer (RFC 2308).
     */
    private Outcome negative(DnsMessage reply, boolean nxdomain) {
        if (nxdomain) reply.rcode = NXDOMAIN;
        int type = reply.questions.get(0).type();
        boolean answered = false;
        for (Rr r : reply.answers) answered |= r.type() == type || type == ANY;
        if ((nxdomain || !answered) && reply.authority.isEmpty()) reply.authority.add(soa());
        return Outcome.ANSWERED;
    }

    Rr soa() {
        // the negative-caching TTL is the smaller of the SOA's TTL and its minimum field (RFC 2308 section 5)
        return Rr.in(zone, ttl, new Soa("ns.dns." + zone, "hostmaster." + zone, serial, 7200, 1800, 86400, ttl));
    }

    private Map<InetAddress, List<String>> reverse() {
        Map<InetAddress, List<String>> r = reverse;
        if (r != null) return r;
        long before = serial;
        Map<InetAddress, Set<String>> m = new HashMap<>();
        for (Service s : services.values()) {
            for (InetAddress ip : s.clusterIps) m.computeIfAbsent(ip, k -> new LinkedHashSet<>()).add(s.fqdn);
            for (Endpoint e : s.endpoints) {
                for (InetAddress ip : e.addresses()) m.computeIfAbsent(ip, k -> new LinkedHashSet<>()).add(e.fqdn());
            }
        }
        nodes.forEach((name, ips) -> {
            for (InetAddress ip : ips) m.computeIfAbsent(ip, k -> new LinkedHashSet<>()).add(name);
        });
        Map<InetAddress, List<String>> built = new HashMap<>();
        m.forEach((ip, names) -> built.put(ip, List.copyOf(names)));
        if (serial == before) reverse = built; // a change while building: the next query builds again
        return built;
    }
}
