package io.k3j.agent.stats;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One node's usage as the kubelet reports it: reads the node and the runtime on every request and fills in CPU rates
 * ({@code usageNanoCores}) the sources don't give from the previous reading. The very first request reads twice,
 * {@code primeDelay} apart, so that it already has rates. A pod whose runtime reports no pod-level figures gets the
 * sum of its containers'. Thread-safe (requests are served one at a time).
 */
public final class StatsProvider {
    /** What one reading produced: the summary and the runtime's failure, if it failed (the node's figures stand). */
    record Scrape(Stats.Summary summary, RuntimeException podError) {
    }

    private final String nodeName;
    private final NodeStatsSource node;
    private final PodStatsSource pods;
    private final Clock clock;
    private final Duration primeDelay;
    private final Instant startTime;
    private final RateSampler rates = new RateSampler();
    private boolean primed;

    /** A provider for {@code nodeName} reading the system clock, priming with a one-second window. */
    public StatsProvider(String nodeName, NodeStatsSource node, PodStatsSource pods) {
        this(nodeName, node, pods, Clock.systemUTC(), Duration.ofSeconds(1));
    }

    /**
     * @param primeDelay how long the first request waits between its two readings (zero: the first answer has no
     *                   rates)
     */
    public StatsProvider(String nodeName, NodeStatsSource node, PodStatsSource pods, Clock clock, Duration primeDelay) {
        this.nodeName = Objects.requireNonNull(nodeName, "nodeName");
        this.node = Objects.requireNonNull(node, "node");
        this.pods = Objects.requireNonNull(pods, "pods");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.primeDelay = Objects.requireNonNull(primeDelay, "primeDelay");
        if (primeDelay.isNegative()) throw new IllegalArgumentException("primeDelay : " + primeDelay + " (expected: >= 0)");
        this.startTime = clock.instant();
    }

    /**
     * The current summary.
     *
     * @throws RuntimeException what the runtime threw when it couldn't be asked (kubelet answers such a summary 500)
     */
    public Stats.Summary summary() {
        Scrape s = scrape();
        if (s.podError() != null) throw s.podError();
        return s.summary();
    }

    synchronized Scrape scrape() {
        if (!primed) {
            primed = true;
            if (!primeDelay.isZero()) {
                read();
                try {
                    Thread.sleep(primeDelay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        return read();
    }

    private Scrape read() {
        Stats.Node n = node.sample();
        List<Stats.Pod> ps;
        RuntimeException error = null;
        try {
            ps = pods.pods();
        } catch (RuntimeException e) {
            ps = List.of();
            error = e;
        }
        Stats.Node withRate = new Stats.Node(rate("node", n.cpu()), n.memory(), n.fs(), n.imageFs());
        List<Stats.Pod> out = new ArrayList<>();
        for (Stats.Pod p : ps) {
            String podKey = p.namespace() + "/" + p.name() + "/" + p.uid();
            List<Stats.Container> cs = new ArrayList<>();
            for (Stats.Container c : p.containers()) cs.add(c.cpu() == null ? c : c.withCpu(rate(podKey + "/" + c.name(), c.cpu())));
            Stats.Cpu cpu = p.cpu() != null ? rate(podKey, p.cpu()) : sumCpu(cs);
            Stats.Memory memory = p.memory() != null ? p.memory() : sumMemory(cs);
            out.add(new Stats.Pod(p.namespace(), p.name(), p.uid(), p.startTime(), cpu, memory, cs));
        }
        rates.endRound();
        return new Scrape(new Stats.Summary(nodeName, startTime, withRate, out), error);
    }

    /** The source's rate when it gave one, else ours from the previous reading (the sample is recorded either way). */
    private Stats.Cpu rate(String key, Stats.Cpu cpu) {
        Long ours = rates.add(key, epochNanos(cpu.time()), cpu.usageCoreNanoSeconds());
        return cpu.usageNanoCores() != null ? cpu : cpu.withNanoCores(ours);
    }

    private static long epochNanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    private static Stats.Cpu sumCpu(List<Stats.Container> cs) {
        Instant time = null;
        long total = 0;
        Long nanoCores = 0L;
        for (Stats.Container c : cs) {
            if (c.cpu() == null) continue;
            time = time == null || c.cpu().time().isAfter(time) ? c.cpu().time() : time;
            total += c.cpu().usageCoreNanoSeconds();
            nanoCores = nanoCores == null || c.cpu().usageNanoCores() == null ? null : nanoCores + c.cpu().usageNanoCores();
        }
        return time == null ? null : new Stats.Cpu(time, total, nanoCores);
    }

    private static Stats.Memory sumMemory(List<Stats.Container> cs) {
        Instant time = null;
        long workingSet = 0;
        for (Stats.Container c : cs) {
            if (c.memory() == null) continue;
            time = time == null || c.memory().time().isAfter(time) ? c.memory().time() : time;
            workingSet += c.memory().workingSetBytes();
        }
        return time == null ? null : new Stats.Memory(time, workingSet, null, null, null, null, null);
    }
}
