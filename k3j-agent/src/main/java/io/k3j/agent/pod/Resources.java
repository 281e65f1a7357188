package io.k3j.agent.pod;

import com.fasterxml.jackson.databind.JsonNode;
import io.k3j.api.Quantity;
import java.math.BigDecimal;

/** Requests and limits turned into QoS classes and cgroup values, as kubelet computes them (pkg/kubelet/cm, qos). */
final class Resources {
    static final String GUARANTEED = "Guaranteed";
    static final String BURSTABLE = "Burstable";
    static final String BEST_EFFORT = "BestEffort";

    private static final long MIN_SHARES = 2;
    private static final long MAX_SHARES = 262144;
    private static final long QUOTA_PERIOD = 100_000;
    private static final long MIN_QUOTA = 1000;

    private Resources() {
    }

    /** The pod's QoS class (v1qos.GetPodQOS): all containers' cpu and memory limits equal to requests → Guaranteed. */
    static String qosClass(JsonNode pod) {
        boolean any = false;
        boolean guaranteed = true;
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode c : pod.path("spec").path(list)) {
                JsonNode req = c.path("resources").path("requests");
                JsonNode lim = c.path("resources").path("limits");
                for (String r : new String[] {"cpu", "memory"}) {
                    BigDecimal q = value(req, r);
                    BigDecimal l = value(lim, r);
                    if (q != null && q.signum() != 0 || l != null && l.signum() != 0) any = true;
                    if (l == null) guaranteed = false;
                    else if (q != null && q.compareTo(l) != 0) guaranteed = false;
                }
            }
        }
        if (!any) return BEST_EFFORT;
        return guaranteed ? GUARANTEED : BURSTABLE;
    }

    static BigDecimal value(JsonNode list, String name) {
        JsonNode v = list.get(name);
        if (v == null || v.isNull()) return null;
        try {
            return Quantity.parse(v.asText()).value();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    static long milli(JsonNode list, String name) {
        BigDecimal v = value(list, name);
        return v == null ? 0 : v.movePointRight(3).setScale(0, java.math.RoundingMode.UP).longValueExact();
    }

    static long bytes(JsonNode list, String name) {
        BigDecimal v = value(list, name);
        return v == null ? 0 : v.setScale(0, java.math.RoundingMode.UP).longValueExact();
    }

    /** cpu.shares from requests.cpu (MilliCPUToShares); a container without requests gets the minimum. */
    static long cpuShares(JsonNode container) {
        long m = milli(container.path("resources").path("requests"), "cpu");
        if (m == 0) m = milli(container.path("resources").path("limits"), "cpu");
        if (m == 0) return MIN_SHARES;
        return Math.max(MIN_SHARES, Math.min(MAX_SHARES, m * 1024 / 1000));
    }

    /** CFS quota for limits.cpu (MilliCPUToQuota), 0 without a limit. */
    static long cpuQuota(JsonNode container) {
        long m = milli(container.path("resources").path("limits"), "cpu");
        if (m == 0) return 0;
        return Math.max(MIN_QUOTA, m * QUOTA_PERIOD / 1000);
    }

    static long cpuPeriod() {
        return QUOTA_PERIOD;
    }

    static long memoryLimit(JsonNode container) {
        return bytes(container.path("resources").path("limits"), "memory");
    }

    /**
     * oom_score_adj per QoS (pkg/kubelet/qos/policy.go). containerd is configured with restrict_oom_score_adj, so
     * the negative Guaranteed value is raised to containerd's own score rather than refused (PLATFORM.md).
     */
    static long oomScoreAdj(String qos, JsonNode container, long nodeMemory) {
        switch (qos) {
            case GUARANTEED:
                return -997;
            case BEST_EFFORT:
                return 1000;
            default:
                long req = bytes(container.path("resources").path("requests"), "memory");
                long adj = 1000 - (1000 * req) / Math.max(1, nodeMemory);
                if (adj < 2) return 2;
                if (adj >= 1000) return 999;
                return adj;
        }
    }

    /** The pod's cgroup parent under the QoS tiers (cgroupfs names). */
    static String cgroupParent(String root, String qos, String uid) {
        return root + "/" + qos.toLowerCase(java.util.Locale.ROOT) + "/pod" + uid;
    }
}
