package io.k3j.agent.proxy;

import java.util.ArrayList;
import java.util.List;

/**
 * What the table holds, as nft commands: the fixed skeleton (hooks, dispatch maps, masquerade and reject chains) and
 * each Service's {@link Fragment}. The layout follows the design of kube-proxy's nftables mode (KEP-3866): packets
 * are dispatched by one map lookup on {@code daddr . l4proto . dport} (or {@code l4proto . dport} for node ports on
 * a node address) to a chain per service port, which picks an endpoint with {@code numgen random mod N} and jumps to
 * a chain per endpoint that DNATs; new connections to a service port without endpoints are rejected by a filter
 * chain that runs just before DNAT.
 *
 * <pre>
 * services                 daddr . proto . port → svc-/svl-/ext- chain (cluster IPs, external IPs, LB IPs)
 *                          node IP, proto . nodePort → ext- chain
 * svc-NS/NAME/PROTO/PORT   balances over every usable endpoint: DNAT through a numgen-indexed map of addr . port
 * svl-NS/NAME/PROTO/PORT   balances over this node's usable endpoints (internal/externalTrafficPolicy Local)
 * ext-NS/NAME/PROTO/PORT   traffic that came from outside: masquerade (Cluster) or keep the source (Local)
 * ep-NS/NAME/PROTO/PORT__IP/TARGET  only with sessionAffinity: affinity update, DNAT
 * hairpin-endpoints        set of "ip . ip" for every endpoint: after DNAT, source == destination means a pod
 *                          reached itself through a Service, which needs masquerading to get its answer
 * firewall-ips             LB IP . proto . port → fw- chain, for Services with loadBalancerSourceRanges
 * fw-NS/NAME/PROTO/PORT    accepts the source ranges, drops the rest (before DNAT, every packet)
 * </pre>
 *
 * <p>Node ports also answer on 127.0.0.0/8 for the node itself (kube-proxy's iptables mode, its
 * {@code --iptables-localhost-nodeports}, default on): the proxy sets {@code net.ipv4.conf.all.route_localnet=1}
 * so a packet from 127.0.0.1 may be routed to a pod after DNAT, masquerades it, and, as kube-proxy does against
 * CVE-2020-8558, drops packets for 127.0.0.0/8 that arrive on any interface but {@code lo}.
 *
 * <p>Unlike kube-proxy there is no chain per endpoint unless the Service uses session affinity: the DNAT picks
 * from an anonymous map and hairpin is one set lookup in postrouting. A table of 1,000 Services × 10 endpoints
 * then has ~1,000 chains instead of ~11,000, which is what makes nft load it in well under the 2 s budget.
 */
final class Rules {
    static final String SERVICE_IPS = "service-ips";
    static final String SERVICE_NODEPORTS = "service-nodeports";
    static final String NO_ENDPOINT_IPS = "no-endpoint-services";
    static final String NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports";
    static final String NODEPORT_IPS = "nodeport-ips";
    static final String HAIRPIN = "hairpin-endpoints";
    static final String FIREWALL_IPS = "firewall-ips";
    static final String LOCALHOST = "127.0.0.0/8";
    static final String MARK = "0x4000";
    static final String REJECT = "goto reject-chain";
    static final String DROP = "drop";

    private Rules() {
    }

    /** The skeleton of the table (after {@code add table}); node ports answer on {@code nodeIps} only. */
    static List<String> base(String table, List<String> nodeIps) {
        return base(table, nodeIps, false);
    }

    /**
     * The skeleton of the table (after {@code add table}).
     *
     * @param nodeIps            where node ports answer
     * @param localhostNodePorts node ports answer on 127.0.0.0/8 too (connections from the node itself)
     */
    static List<String> base(String table, List<String> nodeIps, boolean localhostNodePorts) {
        String t = "ip " + table + " ";
        List<String> l = new ArrayList<>();
        l.add("add map " + t + SERVICE_IPS + " { type ipv4_addr . inet_proto . inet_service : verdict ; }");
        l.add("add map " + t + SERVICE_NODEPORTS + " { type inet_proto . inet_service : verdict ; }");
        l.add("add map " + t + NO_ENDPOINT_IPS + " { type ipv4_addr . inet_proto . inet_service : verdict ; }");
        l.add("add map " + t + NO_ENDPOINT_NODEPORTS + " { type inet_proto . inet_service : verdict ; }");
        l.add("add set " + t + NODEPORT_IPS + " { type ipv4_addr ; }");
        l.add("add set " + t + HAIRPIN + " { type ipv4_addr . ipv4_addr ; }");
        l.add("add map " + t + FIREWALL_IPS + " { type ipv4_addr . inet_proto . inet_service : verdict ; }");
        if (!nodeIps.isEmpty()) l.add("add element " + t + NODEPORT_IPS + " { " + String.join(", ", nodeIps) + " }");

        // a TCP client gets a reset and everything else ICMP port-unreachable: connect() fails at once, no time-out
        l.add("add chain " + t + "reject-chain");
        l.add("add rule " + t + "reject-chain meta l4proto tcp reject with tcp reset");
        l.add("add rule " + t + "reject-chain reject");
        l.add("add chain " + t + "mark-for-masquerade");
        l.add("add rule " + t + "mark-for-masquerade meta mark set meta mark | " + MARK);
        // the bit is cleared again so that a packet leaving through another table's masquerade is not marked twice
        l.add("add chain " + t + "masquerading");
        l.add("add rule " + t + "masquerading ct status dnat ip saddr . ip daddr @" + HAIRPIN + " jump mark-for-masquerade");
        l.add("add rule " + t + "masquerading meta mark & " + MARK + " == 0 return");
        l.add("add rule " + t + "masquerading meta mark set meta mark ^ " + MARK);
        l.add("add rule " + t + "masquerading masquerade fully-random");

        l.add("add chain " + t + "services");
        l.add("add rule " + t + "services ip daddr . meta l4proto . th dport vmap @" + SERVICE_IPS);
        l.add("add rule " + t + "services ip daddr @" + NODEPORT_IPS + " meta l4proto . th dport vmap @" + SERVICE_NODEPORTS);
        l.add("add chain " + t + "endpoints-check");
        l.add("add rule " + t + "endpoints-check ip daddr . meta l4proto . th dport vmap @" + NO_ENDPOINT_IPS);
        l.add("add rule " + t + "endpoints-check ip daddr @" + NODEPORT_IPS + " meta l4proto . th dport vmap @" + NO_ENDPOINT_NODEPORTS);
        if (localhostNodePorts) {
            // only locally originated packets get here with such a destination: filter-prerouting drops the others
            l.add("add rule " + t + "services ip daddr " + LOCALHOST + " meta l4proto . th dport vmap @" + SERVICE_NODEPORTS);
            l.add("add rule " + t + "endpoints-check ip daddr " + LOCALHOST + " meta l4proto . th dport vmap @" + NO_ENDPOINT_NODEPORTS);
        }
        l.add("add chain " + t + "firewall-check");
        l.add("add rule " + t + "firewall-check ip daddr . meta l4proto . th dport vmap @" + FIREWALL_IPS);

        // filter at -110 (dstnat - 10): sees the original destination of new connections, before DNAT rewrites it
        l.add("add chain " + t + "filter-prerouting { type filter hook prerouting priority -110 ; policy accept ; }");
        // route_localnet would otherwise let other hosts reach services bound to 127.0.0.1 (CVE-2020-8558); answers
        // to localhost node port connections still carry the masquerade address here (NAT runs at -100)
        if (localhostNodePorts) l.add("add rule " + t + "filter-prerouting iifname != \"lo\" ip daddr " + LOCALHOST + " drop");
        l.add("add rule " + t + "filter-prerouting jump firewall-check");
        l.add("add rule " + t + "filter-prerouting ct state new jump endpoints-check");
        l.add("add chain " + t + "filter-output { type filter hook output priority -110 ; policy accept ; }");
        l.add("add rule " + t + "filter-output jump firewall-check");
        l.add("add rule " + t + "filter-output ct state new jump endpoints-check");
        l.add("add chain " + t + "nat-prerouting { type nat hook prerouting priority -100 ; policy accept ; }");
        l.add("add rule " + t + "nat-prerouting jump services");
        // locally originated traffic (the host curling a ClusterIP or NodePort) never passes prerouting
        l.add("add chain " + t + "nat-output { type nat hook output priority -100 ; policy accept ; }");
        l.add("add rule " + t + "nat-output jump services");
        l.add("add chain " + t + "nat-postrouting { type nat hook postrouting priority 100 ; policy accept ; }");
        l.add("add rule " + t + "nat-postrouting jump masquerading");
        return l;
    }

    /**
     * The fragment of one Service (all its ports).
     *
     * @param nodeName    this node: endpoints with this nodeName are local
     * @param clusterCidr the pod network (traffic to a cluster IP from outside it is masqueraded); null to masquerade
     *                    all cluster IP traffic
     */
    static Fragment fragment(List<ServicePort> ports, String nodeName, String clusterCidr) {
        Fragment f = new Fragment();
        for (ServicePort sp : ports) addPort(f, sp, nodeName, clusterCidr);
        return f;
    }

    private static void addPort(Fragment f, ServicePort sp, String nodeName, String clusterCidr) {
        String id = sp.id();
        List<ServicePort.Endpoint> all = usable(sp.endpoints());
        List<ServicePort.Endpoint> local = sp.nodeLocal() ? all
                : usable(sp.endpoints().stream().filter(e -> nodeName.equals(e.nodeName())).toList());
        List<String> externalIps = new ArrayList<>(sp.externalIps());
        for (String ip : sp.loadBalancerIps()) if (!externalIps.contains(ip)) externalIps.add(ip);
        boolean external = !externalIps.isEmpty() || sp.nodePort() > 0;

        if (all.isEmpty()) {
            for (String ip : sp.clusterIps()) f.element(NO_ENDPOINT_IPS, ipKey(ip, sp), REJECT);
            for (String ip : externalIps) f.element(NO_ENDPOINT_IPS, ipKey(ip, sp), REJECT);
            if (sp.nodePort() > 0) f.element(NO_ENDPOINT_NODEPORTS, sp.protocol() + " . " + sp.nodePort(), REJECT);
            return;
        }
        boolean needLocal = !sp.nodeLocal() && (sp.internalLocal() || sp.externalLocal() && external) && !local.isEmpty();
        List<ServicePort.Endpoint> used = new ArrayList<>(all);
        if (needLocal) for (ServicePort.Endpoint e : local) if (!used.contains(e)) used.add(e);
        for (ServicePort.Endpoint e : used) {
            if (sp.affinitySeconds() > 0) addEndpoint(f, sp, e);
            // node-local endpoints are this host: its answers need no masquerade
            if (!sp.nodeLocal()) f.hairpin.add(e.ip());
        }
        if ("udp".equals(sp.protocol())) {
            // conntrack keeps a UDP flow on its endpoint while the client keeps talking: the proxy deletes the
            // flows of endpoints that leave (see ServiceProxy), matched by where the client sent them
            List<String> targets = new ArrayList<>();
            for (String ip : sp.clusterIps()) targets.add(ip + ":" + sp.port());
            for (String ip : externalIps) targets.add(ip + ":" + sp.port());
            if (sp.nodePort() > 0) targets.add(":" + sp.nodePort());
            for (String target : targets) {
                for (ServicePort.Endpoint e : used) f.udp.computeIfAbsent(target, k -> new java.util.TreeSet<>()).add(e.ip());
            }
        }

        String svc = "svc-" + id;
        balance(f.chain(svc), sp, all, clusterCidr);
        String svl = "svl-" + id;
        if (needLocal) balance(f.chain(svl), sp, local, clusterCidr);

        for (String ip : sp.clusterIps()) {
            if (!sp.internalLocal() || sp.nodeLocal()) {
                f.element(SERVICE_IPS, ipKey(ip, sp), "goto " + svc);
            } else if (!local.isEmpty()) {
                f.element(SERVICE_IPS, ipKey(ip, sp), "goto " + svl);
            } else {
                // as kube-proxy: endpoints exist elsewhere but the policy forbids them
                f.element(NO_ENDPOINT_IPS, ipKey(ip, sp), DROP);
            }
        }
        if (!external) return;
        if (!sp.sourceRanges().isEmpty() && !sp.loadBalancerIps().isEmpty()) {
            // as kube-proxy, only the load balancer's addresses are fenced; node ports and external IPs stay open
            String fw = "fw-" + id;
            List<String> rules = f.chain(fw);
            rules.add("ip saddr { " + String.join(", ", sp.sourceRanges()) + " } return");
            rules.add(DROP);
            for (String ip : sp.loadBalancerIps()) f.element(FIREWALL_IPS, ipKey(ip, sp), "goto " + fw);
        }
        String ext = "ext-" + id;
        List<String> rules = f.chain(ext);
        if (sp.nodeLocal()) {
            rules.add("goto " + svc); // delivered to this host: nothing to masquerade
        } else if (!sp.externalLocal()) {
            rules.add("jump mark-for-masquerade");
            rules.add("goto " + svc);
        } else {
            // Local keeps the client's address, so only this node's endpoints can answer it; pods and the host
            // itself are "internal" callers and may use any endpoint (kube-proxy does the same)
            if (clusterCidr != null) rules.add("ip saddr " + clusterCidr + " goto " + svc);
            rules.add("fib saddr type local jump mark-for-masquerade");
            rules.add("fib saddr type local goto " + svc);
            rules.add(local.isEmpty() ? DROP : "goto " + svl);
        }
        for (String ip : externalIps) f.element(SERVICE_IPS, ipKey(ip, sp), "goto " + ext);
        if (sp.nodePort() > 0) f.element(SERVICE_NODEPORTS, sp.protocol() + " . " + sp.nodePort(), "goto " + ext);
    }

    /** Ready endpoints, or when there are none the serving terminating ones (KEP-1669, as kube-proxy). */
    static List<ServicePort.Endpoint> usable(List<ServicePort.Endpoint> endpoints) {
        List<ServicePort.Endpoint> ready = endpoints.stream().filter(ServicePort.Endpoint::ready).toList();
        if (!ready.isEmpty()) return ready;
        return endpoints.stream().filter(e -> e.serving() && e.terminating()).toList();
    }

    private static void balance(List<String> rules, ServicePort sp, List<ServicePort.Endpoint> eps, String clusterCidr) {
        if (!sp.nodeLocal()) {
            for (String ip : sp.clusterIps()) {
                String match = "ip daddr " + ip + " meta l4proto " + sp.protocol() + " th dport " + sp.port();
                rules.add(clusterCidr == null ? match + " jump mark-for-masquerade"
                        : match + " ip saddr != " + clusterCidr + " jump mark-for-masquerade");
            }
        }
        if (sp.affinitySeconds() > 0) {
            // a client seen before goes where it went last time; a new one is balanced and remembered by the endpoint chain
            for (ServicePort.Endpoint e : eps) rules.add("ip saddr @" + affinitySet(sp, e) + " goto " + endpointChain(sp, e));
            if (eps.size() == 1) {
                rules.add("goto " + endpointChain(sp, eps.getFirst()));
                return;
            }
            StringBuilder vmap = new StringBuilder("numgen random mod ").append(eps.size()).append(" vmap { ");
            for (int i = 0; i < eps.size(); i++) {
                if (i > 0) vmap.append(", ");
                vmap.append(i).append(" : goto ").append(endpointChain(sp, eps.get(i)));
            }
            rules.add(vmap.append(" }").toString());
            return;
        }
        if (eps.size() == 1) {
            rules.add(dnat(sp, eps.getFirst()));
            return;
        }
        StringBuilder map = new StringBuilder("meta l4proto ").append(sp.protocol()).append(" dnat ip to numgen random mod ")
                .append(eps.size()).append(" map { ");
        for (int i = 0; i < eps.size(); i++) {
            if (i > 0) map.append(", ");
            map.append(i).append(" : ").append(eps.get(i).ip()).append(" . ").append(eps.get(i).port());
        }
        rules.add(map.append(" }").toString());
    }

    private static String dnat(ServicePort sp, ServicePort.Endpoint e) {
        return "meta l4proto " + sp.protocol() + " dnat to " + e.ip() + ":" + e.port();
    }

    private static void addEndpoint(Fragment f, ServicePort sp, ServicePort.Endpoint e) {
        List<String> rules = f.chain(endpointChain(sp, e));
        String set = affinitySet(sp, e);
        f.sets.put(set, "{ type ipv4_addr ; flags dynamic,timeout ; timeout " + sp.affinitySeconds() + "s ; }");
        rules.add("update @" + set + " { ip saddr }");
        rules.add(dnat(sp, e));
    }

    static String endpointChain(ServicePort sp, ServicePort.Endpoint e) {
        return "ep-" + sp.id() + "__" + e.ip() + "/" + e.port();
    }

    /** The timeout is part of the name: a set's timeout cannot change, so a new one replaces it. */
    static String affinitySet(ServicePort sp, ServicePort.Endpoint e) {
        return "aff-" + sp.affinitySeconds() + "-" + sp.id() + "__" + e.ip() + "/" + e.port();
    }

    private static String ipKey(String ip, ServicePort sp) {
        return ip + " . " + sp.protocol() + " . " + sp.port();
    }
}
